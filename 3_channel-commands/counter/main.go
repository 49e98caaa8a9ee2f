package main

import (
	"concurrencylab/internal/counterapi"
	"concurrencylab/internal/server"
)

func main() {
	store := NewStore()
	defer store.Close()
	server.Main(counterapi.NewHandler(store))
}
