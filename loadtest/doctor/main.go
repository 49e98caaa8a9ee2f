// Command doctor is the lab's preflight check, the first command to run:
// can this machine run the lab (Go, cgo and a C compiler for the race
// detector, hey, ports, open files; ab and wrk are optional)?
//
//	go run ./loadtest/doctor
//
// It is a command of its own, built from the standard library only, so
// that on a fresh machine it answers without waiting for the harness to
// compile: `go run ./loadtest doctor` runs the same checks, but compiles
// the whole harness (hey, the live page and all) first.
package main

import (
	"context"
	"os"
	"os/signal"

	"concurrencylab/internal/doctor"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := doctor.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
