package matchcheck

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/scenario"
)

// A Client speaks the matchmaker contract (see Handler) to a target: it
// joins as clients that wait for a peer, and reads /stats. The test suite
// and the harness both use it; CheckPairs and CheckBalanced are the
// invariants both check its answers against.
type Client struct {
	tg   *scenario.Target
	wait time.Duration // bounds each read of /stats

	// JoinWait, if set, bounds each Join: a client with no answer by then
	// gives up, and its Joined.Err says it had no peer in time. Zero
	// leaves the bound to the caller's context (on a fake clock, the
	// server's pair timeout).
	JoinWait time.Duration
}

// NewClient returns a client of tg whose reads of /stats each get an
// answer within wait, or fail as a HungRequest (no bound if wait is 0).
func NewClient(tg *scenario.Target, wait time.Duration) *Client {
	return &Client{tg: tg, wait: wait}
}

// Joined is what one client got from GET /.
type Joined struct {
	ID     string // the id it asked as; "" for none (named by its address)
	Status int
	Peer   string // 200: the peer's id
	PairID string // 200: the Pair-Id header
	Body   string
	Err    error // it got no answer
}

// Paired reports whether the client was answered with a peer.
func (j Joined) Paired() bool { return j.Err == nil && j.Status == http.StatusOK }

// Outcome says what the client got, for a message.
func (j Joined) Outcome() string {
	if j.Err != nil {
		return "no answer: " + j.Err.Error()
	}
	return fmt.Sprintf("%d %q", j.Status, j.Body)
}

// Join asks for a peer as id (no ?id= if empty) and waits for the answer.
func (c *Client) Join(ctx context.Context, id string) Joined {
	j := Joined{ID: id}
	path := "/"
	if id != "" {
		path += "?id=" + url.QueryEscape(id)
	}
	if c.JoinWait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.JoinWait, errJoinWait)
		defer cancel()
	}
	resp, err := c.tg.Do(ctx, scenario.Request{Path: path})
	if err != nil {
		j.Err = err
		if errors.Is(context.Cause(ctx), errJoinWait) {
			j.Err = fmt.Errorf("no peer within %v: %w", c.JoinWait, context.DeadlineExceeded)
		}
		return j
	}
	j.Status, j.Body = resp.Status, resp.Body
	if j.Status == http.StatusOK {
		j.Peer = resp.Line()
		j.PairID = resp.Header.Get(matchapi.PairIDHeader)
	}
	return j
}

// errJoinWait is the cause of a join's end at Client.JoinWait.
var errJoinWait = errors.New("no peer within the client's wait")

// JoinAsync joins in a new goroutine; the answer comes on the channel,
// which has room for it, so that the goroutine ends even if no one reads
// it. Cancel ctx to make the client leave.
func (c *Client) JoinAsync(ctx context.Context, id string) <-chan Joined {
	done := make(chan Joined, 1)
	go func() { done <- c.Join(ctx, id) }()
	return done
}

// Stats returns the server's /stats.
func (c *Client) Stats(ctx context.Context) (matchapi.Stats, error) {
	var s matchapi.Stats
	resp, err := c.tg.Do(ctx, scenario.Request{Path: "/stats", Wait: c.wait})
	if err != nil {
		return s, err
	}
	if resp.Status != http.StatusOK {
		return s, &answerError{fmt.Sprintf("GET /stats: %d %q", resp.Status, resp.Body)}
	}
	if err := json.Unmarshal([]byte(resp.Body), &s); err != nil {
		return s, &answerError{fmt.Sprintf("GET /stats: %v in %q", err, resp.Body)}
	}
	return s, nil
}

// An answerError is a complaint about what the server answered (a status
// or a body the contract does not give, or a state that did not come in
// time), as opposed to a request that got no answer.
type answerError struct{ msg string }

func (e *answerError) Error() string { return e.msg }

// statsPoll is how often AwaitStats reads /stats.
const statsPoll = time.Millisecond

// AwaitStats reads /stats until cond holds, and returns the stats that
// satisfied it; it fails if a read fails, or if cond does not hold within
// wait, with what (what it waited for) and the last stats in the message.
func (c *Client) AwaitStats(ctx context.Context, what string, wait time.Duration, cond func(matchapi.Stats) bool) (matchapi.Stats, error) {
	var last matchapi.Stats
	ok, err := scenario.Await(ctx, wait, statsPoll, func() (bool, error) {
		s, err := c.Stats(ctx)
		last = s
		return err == nil && cond(s), err
	})
	switch {
	case err != nil:
		return last, err
	case !ok:
		return last, &answerError{fmt.Sprintf("waited %v for %s; /stats is %+v", wait, what, last)}
	}
	return last, nil
}

// CheckPairs checks what a set of clients were told: every 200 names a
// peer whose own answer names it back, with the same pair id; no client is
// in two pairs and no pair id is used by two pairs; and no one was paired
// with a client that had left (one that got no 200). It returns the first
// wrong pair as a WrongPair error, with how many more there were.
func CheckPairs(results []Joined) error {
	byID := make(map[string]Joined, len(results))
	for _, r := range results {
		if _, dup := byID[r.ID]; dup {
			return fmt.Errorf("the test gave two clients one id, %q", r.ID)
		}
		byID[r.ID] = r
	}
	var wrong []string
	members := make(map[string][]string) // pair id -> the clients that got it
	for _, r := range results {
		if r.Status != http.StatusOK {
			continue
		}
		members[r.PairID] = append(members[r.PairID], r.ID)
		peer, ok := byID[r.Peer]
		switch {
		case !ok:
			wrong = append(wrong, fmt.Sprintf("%s was told its peer is %q, which is no client of this test", r.ID, r.Peer))
		case peer.Status != http.StatusOK:
			wrong = append(wrong, fmt.Sprintf("%s was told its peer is %s, a client that had left: it got %s", r.ID, peer.ID, peer.Outcome()))
		case peer.Peer != r.ID:
			wrong = append(wrong, fmt.Sprintf("%s was told its peer is %s, but %s was told %s", r.ID, peer.ID, peer.ID, peer.Peer))
		case peer.PairID != r.PairID:
			wrong = append(wrong, fmt.Sprintf("%s and %s are a pair with two pair ids, %q and %q", r.ID, peer.ID, r.PairID, peer.PairID))
		}
	}
	for _, pairID := range slices.SortedFunc(maps.Keys(members), cmp.Compare) {
		if ids := members[pairID]; pairID == "" || len(ids) != 2 {
			wrong = append(wrong, fmt.Sprintf("pair id %q was given to %d clients: %v", pairID, len(ids), ids))
		}
	}
	switch len(wrong) {
	case 0:
		return nil
	case 1:
		return WrongPair.Errorf("%s", wrong[0])
	}
	return WrongPair.Errorf("%s (and %d more wrong)", wrong[0], len(wrong)-1)
}

// CheckBalanced checks that s, a snapshot of /stats taken when (for the
// message), accounts for every client exactly once: an UnbalancedStats
// error if not.
func CheckBalanced(s matchapi.Stats, when string) error {
	if s.Balanced() {
		return nil
	}
	return UnbalancedStats.Errorf("%s, requests %d != 2×paired %d + timed out %d + canceled %d + waiting %d",
		when, s.Requests, s.Paired, s.TimedOut, s.Canceled, s.Waiting)
}
