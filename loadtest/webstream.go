package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The live page's stream of events, GET /events, as Server-Sent Events:
//
//	event: state        the whole webState, first, and again after a browser fell behind
//	event: planned      {"rows"}: every webRow of the run, pending, before any runs
//	event: building     {"phase", "race", "kind", "servers", "built"}
//	event: built        {"built", "servers"}
//	event: running      {"phase", "current", "total", "row"}: a webRow, under load now
//	event: rate         {"t", "rps"}: a ratePoint of the row under load
//	event: finished     {"row"}: a webRow with its result
//	event: status       {"status"}
//	event: ended        {"phase", "current", "rows", "end"}: the report's rows, and webEnd
//	event: closed       {}: the harness has gone; the page keeps what it has
//
// each with one line of JSON as its data, and a comment line now and then
// so that nothing between the two ends takes a quiet stream for a dead one.
const (
	// sseBuffer is how many events a browser may be behind. One that is
	// further behind loses them, and gets the whole state instead when it
	// catches up: the harness never waits for a browser.
	sseBuffer = 64
	// sseWriteWait bounds the writing of one event: a browser that takes
	// no event in that long is gone, and its stream ends.
	sseWriteWait = 10 * time.Second
	// sseHeartbeat is how often a quiet stream says it is alive.
	sseHeartbeat = 15 * time.Second
	// sseRetry is how soon a browser reconnects to a stream that broke,
	// in milliseconds, as the retry field says it.
	sseRetry = 2000
)

// A webEvent is one event, its data already JSON.
type webEvent struct {
	name string
	data []byte
}

// A webClient is one browser's stream. publish, under the page's mu, puts
// events in its buffer without waiting; the goroutine that net/http runs
// for the request (serveEvents) writes them out.
type webClient struct {
	events chan webEvent // up to sseBuffer not yet written
	behind chan struct{} // of 1: events were dropped, send the whole state
}

// publish tells every stream an event. The caller holds p.mu, so that the
// events are in the order of the changes to the state they describe, and a
// stream's state event (taken under p.mu too) is followed by exactly the
// events after it.
func (p *webPage) publish(name string, payload any) {
	data, err := json.Marshal(payload)
	if err != nil {
		panic(fmt.Sprintf("the live page's %s event: %v", name, err)) // a webState the page cannot encode is a bug here
	}
	ev := webEvent{name, data}
	for c := range p.clients {
		select {
		case c.events <- ev:
		default:
			select {
			case c.behind <- struct{}{}:
			default:
			}
		}
	}
}

// subscribe adds a stream, and returns it with the state it starts from.
func (p *webPage) subscribe() (*webClient, webEvent) {
	c := &webClient{events: make(chan webEvent, sseBuffer), behind: make(chan struct{}, 1)}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clients[c] = struct{}{}
	return c, p.stateEventLocked()
}

func (p *webPage) unsubscribe(c *webClient) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.clients, c)
}

// catchUp forgets the events c has not written, which the state it returns
// holds.
func (p *webPage) catchUp(c *webClient) webEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(c.events) > 0 {
		<-c.events
	}
	return p.stateEventLocked()
}

func (p *webPage) stateEventLocked() webEvent {
	data, err := json.Marshal(p.state)
	if err != nil {
		panic(fmt.Sprintf("the live page's state: %v", err))
	}
	return webEvent{"state", data}
}

// serveEvents is GET /events: the state so far, then each change, until
// the browser goes or the page closes.
func (p *webPage) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // a proxy in front passes each event on at once
	c, first := p.subscribe()
	defer p.unsubscribe(c)

	// send writes one event, or a comment, within its own deadline: the
	// server's WriteTimeout is for a page, and would cut every stream.
	send := func(format string, args ...any) bool {
		rc.SetWriteDeadline(time.Now().Add(sseWriteWait))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	event := func(ev webEvent) bool { return send("event: %s\ndata: %s\n\n", ev.name, ev.data) }

	if !send("retry: %d\n\n", sseRetry) || !event(first) {
		return
	}
	heartbeat := time.NewTicker(sseHeartbeat)
	defer heartbeat.Stop()
	for {
		// Falling behind comes first: the events still buffered are
		// older than the state that replaces them.
		select {
		case <-c.behind:
			if !event(p.catchUp(c)) {
				return
			}
			continue
		default:
		}
		ok := true
		select {
		case <-r.Context().Done():
			return
		case <-p.closing:
			send("event: closed\ndata: {}\n\n")
			return
		case <-c.behind:
			ok = event(p.catchUp(c))
		case ev := <-c.events:
			ok = event(ev)
		case <-heartbeat.C:
			ok = send(": the harness is still there\n\n")
		}
		if !ok {
			return
		}
	}
}
