package matchcheck

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/scenario"
)

// The drive's bounds. A server under no load answers a read of /stats in
// microseconds; a batch of clients that come at once is paired as fast.
const (
	// checkWait bounds each read of /stats, each wait for /stats to show a
	// step done, and the two clients that come after the leaver.
	checkWait = 2 * time.Second
	// pairCheckWait bounds the batch of pairCheckClients: the harness's
	// wait for any request.
	pairCheckWait = 5 * time.Second
)

// pairCheckClients is how many clients the pairing check sends at once.
const pairCheckClients = 64

// loadIDPrefix names the load's clients: each burst's requests ask as
// hey-1, hey-2, ... (see scenario.Burst.IDPrefix).
const loadIDPrefix = "hey"

// drive sends the run's bursts of clients, each asking with an id of its
// own and waiting for a peer (the harness loads the matchmaker in bursts:
// under a steady load the last client can be left with no one to pair
// with); then checks that /stats counts every one of them paired, that a
// batch of clients of its own is paired symmetrically (each one's peer
// names it back, with the same pair id), and that a client that left is
// never handed out.
func drive(ctx context.Context, tg *scenario.Target) (string, error) {
	b, count := tg.Load.Spec("/")
	b.IDPrefix = loadIDPrefix
	c := NewClient(tg, checkWait)
	across, err := checkAcross(ctx, tg)
	if err != nil {
		return "", err
	}

	answered, err := scenario.SendAll(ctx, tg, b, count)
	if err != nil {
		return "", err // the server died or hung, or requests went unanswered: a Failure says which
	}
	sent := b.Requests()*count + across
	if err := checkMatchStats(ctx, c, sent, answered+across); err != nil {
		return "", err
	}
	if err := checkBatch(ctx, c, pairCheckClients); err != nil {
		return "", err
	}
	sent += pairCheckClients
	if err := checkMatchStats(ctx, c, sent, sent); err != nil {
		return "", err
	}
	if err := checkLeaver(ctx, c); err != nil {
		return "", err
	}
	evidence := fmt.Sprintf("%d clients in bursts of %d: all paired, /stats balanced; %d more paired symmetrically; one that left was never handed out",
		answered, b.C, pairCheckClients)
	if len(tg.Replicas) > 1 {
		evidence = fmt.Sprintf("alice on replica 1 and bob on replica 2 paired; %s", evidence)
	}
	return evidence, nil
}

// checkAcross, where tg is several replicas behind a proxy, sends alice to
// the first replica and bob to the second, each directly: one matchmaker
// must pair them. A replica whose queue is its own leaves both waiting.
// It returns how many clients it sent: 0 to one server.
func checkAcross(ctx context.Context, tg *scenario.Target) (int, error) {
	if len(tg.Replicas) < 2 {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(ctx, checkWait)
	defer cancel()
	var answers []<-chan Joined
	for i, id := range []string{"alice", "bob"} {
		replica := *tg
		replica.URL, replica.Replicas = tg.Replicas[i], nil
		answers = append(answers, NewClient(&replica, checkWait).JoinAsync(ctx, id))
	}
	alice, bob := <-answers[0], <-answers[1]
	switch {
	case alice.Peer == "bob" && bob.Peer == "alice":
		return 2, nil
	case alice.Err != nil && bob.Err != nil:
		return 0, Unpaired.Errorf("alice on replica 1 and bob on replica 2 were both still waiting after %v: each replica pairs only its own clients",
			checkWait)
	}
	return 0, Unpaired.Errorf("alice on replica 1 and bob on replica 2, within %v: alice %s, bob %s", checkWait, alice.Outcome(), bob.Outcome())
}

// noAnswer makes a read of /stats that got no answer a HungRequest, as the
// harness has always judged it. An error a Failure made (a HungRequest
// already) and a complaint about an answer are left as they are.
func noAnswer(err error) error {
	var failure *scenario.Error
	var answered *answerError
	if err == nil || errors.As(err, &failure) || errors.As(err, &answered) {
		return err
	}
	return scenario.HungRequest.Errorf("GET /stats: %v", err)
}

// driveStats reads /stats for the drive (see noAnswer).
func driveStats(ctx context.Context, c *Client) (matchapi.Stats, error) {
	s, err := c.Stats(ctx)
	return s, noAnswer(err)
}

// checkMatchStats checks that /stats balances and accounts for sent
// clients, paired of them paired, and nobody waiting.
func checkMatchStats(ctx context.Context, c *Client, sent, paired int) error {
	s, err := driveStats(ctx, c)
	if err != nil {
		return err
	}
	if err := CheckBalanced(s, fmt.Sprintf("after %d clients", sent)); err != nil {
		return err
	}
	if s.Requests != int64(sent) || s.Paired*2 != int64(paired) || s.Waiting != 0 {
		return fmt.Errorf("after %d clients, %d answered: /stats %+v", sent, paired, s)
	}
	return nil
}

// checkBatch sends n clients at once and checks what each was told: every
// one paired (a client with no peer in time has hung), and the pairs
// symmetric (see CheckPairs).
func checkBatch(ctx context.Context, c *Client, n int) error {
	ctx, cancel := context.WithTimeout(ctx, pairCheckWait)
	defer cancel()
	results := make([]Joined, n)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i] = c.Join(ctx, fmt.Sprintf("check-%d", i)) })
	}
	wg.Wait()

	for _, r := range results {
		if !r.Paired() {
			return scenario.HungRequest.Errorf("client %s of a batch of %d, within %v: %s", r.ID, n, pairCheckWait, r.Outcome())
		}
	}
	return CheckPairs(results)
}

// leaverID names the client that checkLeaver sends and makes leave.
const leaverID = "leaver"

// checkLeaver sends a client that gives up waiting, and once the server
// has counted it as canceled, two more: they must be paired with each
// other, not with the client that has gone (the seed's second bug: the
// naive version hands it out, and writes to its finished ResponseWriter).
func checkLeaver(ctx context.Context, c *Client) error {
	before, err := driveStats(ctx, c)
	if err != nil {
		return err
	}
	leaveCtx, leave := context.WithCancel(ctx)
	defer leave()
	left := c.JoinAsync(leaveCtx, leaverID)
	waiting := func(s matchapi.Stats) bool { return s.Waiting == 1 && s.Requests == before.Requests+1 }
	if _, err := c.AwaitStats(ctx, "it to wait", checkWait, waiting); err != nil {
		return fmt.Errorf("a client alone: %w", noAnswer(err))
	}
	leave()
	if gone := <-left; !errors.Is(gone.Err, context.Canceled) {
		return fmt.Errorf("a client alone, that left, got an answer: %s", gone.Outcome())
	}
	canceled := func(s matchapi.Stats) bool { return s.Canceled == before.Canceled+1 }
	if _, err := c.AwaitStats(ctx, "the server to count it as canceled", checkWait, canceled); err != nil {
		return fmt.Errorf("a client that left: %w", noAnswer(err))
	}

	afterCtx, cancel := context.WithTimeout(ctx, checkWait)
	defer cancel()
	answers := []<-chan Joined{c.JoinAsync(afterCtx, "after-1"), c.JoinAsync(afterCtx, "after-2")}
	for _, answer := range answers {
		if a := <-answer; a.Peer == leaverID {
			return WrongPair.Errorf("%s was paired with one that had left (%s)", a.ID, leaverID)
		}
	}
	after, err := driveStats(ctx, c)
	switch {
	case err != nil:
		return err
	case after.Paired != before.Paired+1 || after.Waiting != 0 || !after.Balanced():
		return fmt.Errorf("after a client left and two came: /stats %+v", after)
	}
	return nil
}
