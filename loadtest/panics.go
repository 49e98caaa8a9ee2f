package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The poisons: requests that make 4_panic-safety's servers panic (see
// 4_panic-safety/place and each demo's doc comment).
const (
	counterPoison    = "/set?name=hits@&val=1" // place.Fold: a name ending in "@"
	matchmakerPoison = "/?id=poison@"
	commentsPoison   = "/comments?last=1000" // more comments than there are
	ordersPoison     = "/orders?id=oops"     // an order id without a "-"
)

// The panic-safe versions pass the load like their mutex versions, then
// crash on their poison, by design: the crash-on-panic middleware exits 70
// so that a supervisor starts a clean process.
func driveCrashOnPanicCounter(s *session) outcome {
	if out := driveCounter(s); out.verdict != OK {
		return out
	}
	s.do("GET", counterPoison, nil, poisonWait)
	return s.awaitExit("GET " + counterPoison)
}

func driveCrashOnPanicMatchmaker(s *session) outcome {
	if out := driveMatchmaker(s); out.verdict != OK {
		return out
	}
	s.do("GET", matchmakerPoison, nil, poisonWait)
	return s.awaitExit("GET " + matchmakerPoison)
}

// driveDeadlock loads the counter the deadlock demo also serves, then
// sends the poison: net/http recovers the panic, and the mutex that
// Unlock never freed hangs every later request.
func driveDeadlock(s *session) outcome {
	if out := driveCounter(s); out.verdict != OK {
		return out
	}
	s.do("GET", counterPoison, nil, poisonWait)
	return s.expectHang("GET", "/get?name=i", "GET "+counterPoison)
}

// driveRecoverer loads the comments API, then asks for more comments than
// there are: chi's Recoverer answers 500, and the mutex stays locked.
func driveRecoverer(s *session) outcome {
	spec, count := s.opts.spec(steady, "/comments?last=1")
	if _, failed := s.loadRepeatedly(spec, count); failed != nil {
		return *failed
	}
	status, _, err := s.do("GET", commentsPoison, nil, poisonWait)
	if err != nil || status != 500 {
		return fail(Broken, "GET %s: want a 500 from chi's Recoverer, got %d %v", commentsPoison, status, err)
	}
	return s.expectHang("GET", "/comments?last=1", "GET "+commentsPoison+" (500)")
}

// hangWait is how long a request to an idle server may go unanswered
// before it counts as hung: such a request is answered in microseconds.
const hangWait = time.Second

// expectHang checks that a request which needs the poisoned mutex gets no
// answer.
func (s *session) expectHang(method, target, poison string) outcome {
	status, text, err := s.do(method, target, nil, hangWait)
	if errors.Is(err, errHung) {
		return fail(Hung, "after %s panicked under the lock (%s): %s %s got no answer in %v",
			poison, recoveredPanic(s.child.output()), method, target, hangWait)
	}
	if err != nil {
		return fail(Broken, "%v", err)
	}
	return ok("after %s, %s %s still answered %d %q", poison, method, target, status, text)
}

// driveHalfDone stores two values, loads reads of one, then sends the key
// that panics halfway through a put: the mutex is free again (deferred
// Unlock), but the byte count the cache keeps no longer matches what it
// holds.
func driveHalfDone(s *session) outcome {
	for key, val := range map[string]string{"watch": "w", "it": "i"} {
		if status, text, err := s.do("PUT", "/cache/"+key, []byte(val), checkWait); err != nil || status != 201 && status != 200 {
			return fail(Broken, "PUT /cache/%s: %d %q %v", key, status, text, err)
		}
	}
	spec, count := s.opts.spec(steady, "/cache/watch")
	if _, failed := s.loadRepeatedly(spec, count); failed != nil {
		return *failed
	}
	before, err := s.cacheStats()
	if err != nil {
		return fail(Hung, "%v", err)
	}
	s.do("PUT", "/cache/burn", []byte("abc"), poisonWait)
	after, err := s.cacheStats()
	if err != nil {
		return fail(Hung, "%v", err)
	}
	if after.CurrSize != after.ActualSize {
		return fail(Broken, "after PUT /cache/burn panicked halfway (%s): curr_size %d, actual_size %d (were %d, %d)",
			recoveredPanic(s.child.output()), after.CurrSize, after.ActualSize, before.CurrSize, before.ActualSize)
	}
	return ok("after PUT /cache/burn, curr_size %d = actual_size %d", after.CurrSize, after.ActualSize)
}

type cacheStats struct {
	CurrSize   int `json:"curr_size"`
	ActualSize int `json:"actual_size"`
}

func (s *session) cacheStats() (cacheStats, error) {
	var st cacheStats
	status, text, err := s.do("GET", "/stats", nil, checkWait)
	if err != nil {
		return st, err
	}
	if status != 200 {
		return st, fmt.Errorf("GET /stats answered %d %q", status, text)
	}
	return st, json.Unmarshal([]byte(text), &st)
}

// driveGoroutine loads orders processed in their handlers, then sends an
// order whose goroutine panics: no one recovers it, and the process dies.
func driveGoroutine(s *session) outcome {
	spec, count := s.opts.spec(steady, "/orders/sync")
	spec.Method, spec.IDPrefix = "POST", "order"
	if _, failed := s.loadRepeatedly(spec, count); failed != nil {
		return *failed
	}
	status, _, err := s.do("POST", ordersPoison, nil, poisonWait)
	if err != nil || status != 202 {
		return fail(Broken, "POST %s: want 202, got %d %v", ordersPoison, status, err)
	}
	return s.awaitExit("POST " + ordersPoison + " (202)")
}
