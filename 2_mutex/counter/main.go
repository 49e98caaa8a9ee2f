package main

import (
	"concurrencylab/internal/counterapi"
	"concurrencylab/internal/server"
)

func main() {
	store := NewStore()
	server.Main(counterapi.NewHandler(store))
}
