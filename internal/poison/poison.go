// Package poison is the harness's side of 4_panic-safety: the requests that
// make each of its servers panic (see 4_panic-safety/place and each demo's
// doc comment), and what each drive expects the panic to do: a
// crash-on-panic server exits, a mutex left locked hangs every later
// request, a change half-done breaks an invariant, a goroutine's panic
// kills the process.
package poison

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"concurrencylab/internal/childproc"
	"concurrencylab/internal/countercheck"
	"concurrencylab/internal/matchcheck"
	"concurrencylab/internal/scenario"
)

// The poisons.
const (
	counterPoison    = "/set?name=hits@&val=1" // place.Fold: a name ending in "@"
	matchmakerPoison = "/?id=poison@"
	commentsPoison   = "/comments?last=1000" // more comments than there are
	ordersPoison     = "/orders?id=oops"     // an order id without a "-"
)

// Waits.
const (
	// poisonWait bounds the request that carries a poison: the server may
	// answer it, cut it, or die with it.
	poisonWait = 2 * time.Second
	// exitWait is how long a poisoned server has to exit.
	exitWait = 5 * time.Second
	// hangWait is how long a request to an idle server may go unanswered
	// before it counts as hung: such a request is answered in
	// microseconds.
	hangWait = time.Second
	// checkWait bounds the requests that read a server's state.
	checkWait = 2 * time.Second
)

// HangAfterPanic is a request that needs the mutex a panic left locked.
var HangAfterPanic = scenario.Marked("a hang after a panic", "hung", scenario.Hung)

// CrashOnPoison is a server that exited on its poison.
var CrashOnPoison = scenario.Marked("a crash on the poison", "crashed", scenario.Crashed)

// HalfDone is an invariant a panic left broken.
var HalfDone = scenario.Marked("a change half-done", "half-done", scenario.Broken)

// CrashOnPanicCounter and CrashOnPanicMatchmaker pass the load like their
// mutex versions, then crash on their poison, by design: the crash-on-panic
// middleware exits 70 so that a supervisor starts a clean process.
var (
	CrashOnPanicCounter    = crashOnPoison(countercheck.Subject.Drive, counterPoison)
	CrashOnPanicMatchmaker = crashOnPoison(matchcheck.Subject.Drive, matchmakerPoison)
)

func crashOnPoison(drive scenario.Drive, poison string) scenario.Drive {
	return func(ctx context.Context, tg *scenario.Target) (string, error) {
		if evidence, err := drive(ctx, tg); err != nil {
			return evidence, err
		}
		tg.Get(ctx, poison, poisonWait)
		return awaitExit(tg, "GET "+poison)
	}
}

// awaitExit waits for a server that should exit by itself and says why it
// did.
func awaitExit(tg *scenario.Target, poison string) (string, error) {
	if tg.Process == nil {
		return "", errors.New("the server is not a process the harness started: it cannot see it exit")
	}
	if !tg.Process.AwaitExit(exitWait) {
		return fmt.Sprintf("%s: still serving %v later", poison, exitWait), nil
	}
	return "", CrashOnPoison.Errorf("%s: %s", poison, childproc.CrashIn(tg.Process.Output()))
}

// Deadlock loads the counter that the deadlock demo also serves, then sends
// the poison: net/http recovers the panic, and the mutex that Unlock never
// freed hangs every later request.
func Deadlock(ctx context.Context, tg *scenario.Target) (string, error) {
	if evidence, err := countercheck.Subject.Drive(ctx, tg); err != nil {
		return evidence, err
	}
	tg.Get(ctx, counterPoison, poisonWait)
	return expectHang(ctx, tg, "/get?name=i", "GET "+counterPoison)
}

// Recoverer loads the comments API, then asks for more comments than there
// are: chi's Recoverer answers 500, and the mutex stays locked.
func Recoverer(ctx context.Context, tg *scenario.Target) (string, error) {
	b, count := tg.Load.Spec("/comments?last=1")
	if _, err := scenario.SendAll(ctx, tg, b, count); err != nil {
		return "", err
	}
	resp, err := tg.Get(ctx, commentsPoison, poisonWait)
	if err != nil || resp.Status != 500 {
		return "", fmt.Errorf("GET %s: want a 500 from chi's Recoverer, got %d %v", commentsPoison, resp.Status, err)
	}
	return expectHang(ctx, tg, "/comments?last=1", "GET "+commentsPoison+" (500)")
}

// expectHang checks that a request which needs the poisoned mutex gets no
// answer.
func expectHang(ctx context.Context, tg *scenario.Target, path, poison string) (string, error) {
	resp, err := tg.Get(ctx, path, hangWait)
	if scenario.VerdictOf(err) == scenario.Hung {
		return "", HangAfterPanic.Errorf("after %s panicked under the lock (%s): GET %s got no answer in %v",
			poison, recovered(tg), path, hangWait)
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("after %s, GET %s still answered %d %q", poison, path, resp.Status, resp.Line()), nil
}

// recovered is the panic net/http recovered, from what the server wrote.
func recovered(tg *scenario.Target) string {
	if tg.Process == nil {
		return "the panic is in the server's log"
	}
	return childproc.RecoveredPanic(tg.Process.Output())
}

// HalfDoneCache stores two values, loads reads of one, then sends the key that
// panics halfway through a put: the mutex is free again (deferred Unlock),
// but the byte count the cache keeps no longer matches what it holds.
func HalfDoneCache(ctx context.Context, tg *scenario.Target) (string, error) {
	for _, kv := range [][2]string{{"watch", "w"}, {"it", "i"}} {
		resp, err := tg.Do(ctx, scenario.Request{Method: "PUT", Path: "/cache/" + kv[0], Body: kv[1], Wait: checkWait})
		if err != nil || resp.Status != 201 && resp.Status != 200 {
			return "", fmt.Errorf("PUT /cache/%s: %d %q %v", kv[0], resp.Status, resp.Line(), err)
		}
	}
	b, count := tg.Load.Spec("/cache/watch")
	if _, err := scenario.SendAll(ctx, tg, b, count); err != nil {
		return "", err
	}
	before, err := cacheStats(ctx, tg)
	if err != nil {
		return "", err
	}
	tg.Do(ctx, scenario.Request{Method: "PUT", Path: "/cache/burn", Body: "abc", Wait: poisonWait})
	after, err := cacheStats(ctx, tg)
	if err != nil {
		return "", err
	}
	if after.CurrSize != after.ActualSize {
		return "", HalfDone.Errorf("after PUT /cache/burn panicked halfway (%s): curr_size %d, actual_size %d (were %d, %d)",
			recovered(tg), after.CurrSize, after.ActualSize, before.CurrSize, before.ActualSize)
	}
	return fmt.Sprintf("after PUT /cache/burn, curr_size %d = actual_size %d", after.CurrSize, after.ActualSize), nil
}

type stats struct {
	CurrSize   int `json:"curr_size"`
	ActualSize int `json:"actual_size"`
}

func cacheStats(ctx context.Context, tg *scenario.Target) (stats, error) {
	var st stats
	resp, err := tg.Get(ctx, "/stats", checkWait)
	if err != nil {
		return st, err
	}
	if resp.Status != 200 {
		return st, fmt.Errorf("GET /stats answered %d %q", resp.Status, resp.Line())
	}
	return st, json.Unmarshal([]byte(resp.Body), &st)
}

// Goroutine loads orders processed in their handlers, then sends an order
// whose goroutine panics: no one recovers it, and the process dies.
func Goroutine(ctx context.Context, tg *scenario.Target) (string, error) {
	b, count := tg.Load.Spec("/orders/sync")
	b.Method, b.IDPrefix = "POST", "order"
	if _, err := scenario.SendAll(ctx, tg, b, count); err != nil {
		return "", err
	}
	resp, err := tg.Do(ctx, scenario.Request{Method: "POST", Path: ordersPoison, Wait: poisonWait})
	if err != nil || resp.Status != 202 {
		return "", fmt.Errorf("POST %s: want 202, got %d %v", ordersPoison, resp.Status, err)
	}
	return awaitExit(tg, "POST "+ordersPoison+" (202)")
}
