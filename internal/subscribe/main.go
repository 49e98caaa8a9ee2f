// Command subscribe is a websocket client for the notifier: it subscribes
// and prints each event as it comes, one line each. Ctrl-C leaves the way a
// browser tab does when it closes: a close frame, then the socket.
//
//	go run ./internal/subscribe                        # the notifier at 127.0.0.1:8000
//	go run ./internal/subscribe -addr 127.0.0.1:8001
//	go run ./internal/subscribe -stall                 # subscribe, and never read
//
// A stalled client stands for a frozen tab or a vanished network: the
// server's writes to it go into the socket's buffers until they are full,
// and then block. It asks for the buffers of a real network (a small
// receive buffer, Ethernet-sized segments), which fill after a thousand
// events or so; loopback's would take tens of thousands.
package main

import (
	"bufio"
	"concurrencylab/internal/notifycheck"
	"context"
	"flag"
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
	dialer := *websocket.DefaultDialer
	if *stall {
		// A real network's buffers, not loopback's megabytes: they fill
		// after a thousand events or so.
		dialer.NetDialContext = notifycheck.StalledDialer().DialContext
	}
	conn, _, err := dialer.DialContext(ctx, "ws://"+*addr+"/ws", nil)
	if err != nil {
		log.Fatalf("subscribe: %v", err)
	}
	defer conn.Close()
	log.Printf("subscribed to ws://%s/ws; Ctrl-C to leave", *addr)

	gone := make(chan error, 1)
	if *stall {
		log.Print("not reading: a stalled client")
	} else {
		go func() { gone <- printEvents(conn) }()
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

// printEvents prints each message on a line of its own until the connection
// fails. The output is buffered and flushed when no message is waiting, so
// that printing does not make this client fall behind a fast publisher
// (the server drops a subscriber that does).
func printEvents(conn *websocket.Conn) error {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	msgs := make(chan []byte, 64)
	var err error
	go func() {
		defer close(msgs)
		for {
			var msg []byte
			if _, msg, err = conn.ReadMessage(); err != nil {
				return
			}
			msgs <- msg
		}
	}()
	for msg := range msgs {
		out.Write(msg)
		out.WriteByte('\n')
		if len(msgs) == 0 {
			out.Flush()
		}
	}
	return err
}
