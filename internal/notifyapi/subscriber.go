package notifyapi

import (
	"time"

	"github.com/gorilla/websocket"
)

// The timeouts and limits of a subscriber's connection, shared by the safe
// versions (as in gorilla/websocket's chat example).
const (
	// WriteWait is how long one write to a subscriber may take. A client
	// that stops reading blocks the writer once the socket's buffers are
	// full; after WriteWait the writer gives up and closes the connection.
	WriteWait = 10 * time.Second

	// PongWait is how long the reader waits to hear from a subscriber
	// before it takes the connection for dead: a client that vanished
	// without closing (a silent drop) sends neither a close nor a pong.
	PongWait = 60 * time.Second

	// PingPeriod is how often the writer pings. It is shorter than
	// PongWait, so that a live client always has a ping to answer before
	// its read deadline passes.
	PingPeriod = PongWait * 9 / 10

	// MaxFrameBytes is the largest frame read from a subscriber, which has
	// nothing to say but pongs and its close; a bigger frame ends the
	// connection with 1009 (message too big).
	MaxFrameBytes = 512

	// QueueLen is how many events may wait for one subscriber's writer. A
	// subscriber that falls this far behind is dropped, so that the
	// publisher never waits for it.
	QueueLen = 256
)

// Why a hub ends a subscriber's queue: the close frame its writer sends.
// Nil (the connection has ended already) sends none.
var (
	GoodbyeTooSlow      = websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "too slow: dropped with a full queue")
	GoodbyeShuttingDown = websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down")
)

// A Subscriber is one websocket connection that receives events. Two
// goroutines serve it: the reader (the handler's own goroutine) notices
// when the connection ends, and the writer writes the events queued for
// it. Its hub offers it events and ends its queue.
type Subscriber struct {
	conn    *websocket.Conn // the reader reads it and the writer writes it, one of each, as gorilla/websocket allows; either may close it
	queue   chan []byte     // events waiting for the writer: the hub sends, and closes it once; the writer receives
	goodbye []byte          // the close frame for the writer to send when queue ends: set by the hub before it closes queue
}

func newSubscriber(conn *websocket.Conn) *Subscriber {
	return &Subscriber{conn: conn, queue: make(chan []byte, QueueLen)}
}

// Offer queues msg for the writer without waiting, and reports whether
// there was room. Only the subscriber's hub calls it, never after End.
func (s *Subscriber) Offer(msg []byte) bool {
	select {
	case s.queue <- msg:
		return true
	default:
		return false
	}
}

// End ends the queue: the writer writes what is queued, sends goodbye (if
// not nil), and closes the connection. Only the subscriber's hub calls it,
// once, as it removes the subscriber.
func (s *Subscriber) End(goodbye []byte) {
	s.goodbye = goodbye
	close(s.queue)
}

// readUntilGone reads and discards what the client sends until the
// connection fails: it closes, a frame is over MaxFrameBytes, or nothing
// (not even a pong) comes within PongWait. It closes the connection, which
// stops a writer blocked on it.
func (s *Subscriber) readUntilGone() {
	defer s.conn.Close()
	s.conn.SetReadLimit(MaxFrameBytes)
	s.conn.SetReadDeadline(time.Now().Add(PongWait))
	s.conn.SetPongHandler(func(string) error {
		return s.conn.SetReadDeadline(time.Now().Add(PongWait))
	})
	for {
		if _, _, err := s.conn.NextReader(); err != nil {
			return
		}
	}
}

// writeEvents writes each queued event, and a ping every PingPeriod, until
// the queue ends or a write fails; then it closes the connection, which
// stops the reader. It calls delivered after each event written.
func (s *Subscriber) writeEvents(delivered func()) {
	defer s.conn.Close()
	ping := time.NewTicker(PingPeriod)
	defer ping.Stop()
	for {
		select {
		case msg, ok := <-s.queue:
			if !ok {
				if s.goodbye != nil {
					s.conn.WriteControl(websocket.CloseMessage, s.goodbye, time.Now().Add(WriteWait))
				}
				return
			}
			s.conn.SetWriteDeadline(time.Now().Add(WriteWait))
			if err := s.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
			delivered()
		case <-ping.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(WriteWait)); err != nil {
				return
			}
		}
	}
}
