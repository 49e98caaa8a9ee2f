// Command subscribe is a websocket client for the notifier: it subscribes
// and prints each event as it comes, one line each. Ctrl-C leaves the way a
// browser tab does when it closes: a close frame, then the socket.
//
//	go run ./internal/subscribe                        # the notifier at 127.0.0.1:8000
//	go run ./internal/subscribe -addr 127.0.0.1:8001
//	go run ./internal/subscribe -stall                 # subscribe, and never read
//
// A stalled client stands for a frozen tab or a vanished network: the
// server's writes to it go into the socket's buffers until they are full
// (on loopback, megabytes of events), and then block.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "the notifier's host:port")
	stall := flag.Bool("stall", false, "subscribe, and never read")
	flag.Parse()
	log.SetFlags(0)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, "ws://"+*addr+"/ws", nil)
	if err != nil {
		log.Fatalf("subscribe: %v", err)
	}
	defer conn.Close()
	log.Printf("subscribed to ws://%s/ws; Ctrl-C to leave", *addr)

	gone := make(chan error, 1)
	if *stall {
		log.Print("not reading: a stalled client")
	} else {
		go func() {
			for {
				_, msg, err := conn.ReadMessage()
				if err != nil {
					gone <- err
					return
				}
				fmt.Println(string(msg))
			}
		}()
	}

	select {
	case err := <-gone:
		log.Fatalf("the server ended the subscription: %v", err)
	case <-ctx.Done():
	}
	bye := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	conn.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second))
	log.Print("left")
}
