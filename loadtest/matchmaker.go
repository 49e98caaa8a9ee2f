package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"concurrencylab/internal/matchapi"
)

// matchmakerArgs shorten the pair timeout from a minute, so that a client
// the naive version loses gets its 408 within the run.
var matchmakerArgs = []string{"-pair-timeout", "3s"}

// pairCheckClients is how many clients the pairing check sends at once.
const pairCheckClients = 64

// driveMatchmaker sends bursts of clients with their own ids, each waiting
// for a peer; then checks /stats, and that a batch of clients of its own
// is paired symmetrically: each one's peer names it back, with the same
// pair id.
func driveMatchmaker(s *session) outcome {
	spec, count := s.opts.spec(bursts, "/")
	spec.IDPrefix = "hey"
	answered, failed := s.loadRepeatedly(spec, count)
	if failed != nil {
		return *failed
	}
	sent := spec.requests() * count
	if out := s.checkMatchStats(sent, answered); out != nil {
		return *out
	}
	if out := s.checkPairs(pairCheckClients); out != nil {
		return *out
	}
	sent += pairCheckClients
	if out := s.checkMatchStats(sent, sent); out != nil {
		return *out
	}
	if out := s.checkLeaver(); out != nil {
		return *out
	}
	return ok("%d clients in bursts of %d: all paired, /stats balanced; %d more paired symmetrically; one that left was never handed out",
		answered, spec.C, pairCheckClients)
}

// checkLeaver sends a client that gives up waiting, and once the server
// has counted it as canceled, two more: they must be paired with each
// other, not with the client that has gone (the seed's second bug: the
// naive version hands it out, and writes to its finished ResponseWriter).
func (s *session) checkLeaver() *outcome {
	before, err := s.matchStats()
	if err != nil {
		return &outcome{Hung, err.Error()}
	}
	ctx, leave := context.WithCancel(s.ctx)
	left := make(chan error, 1)
	go func() {
		_, _, err := s.findPeer(ctx, "leaver")
		left <- err
	}()
	waiting := func(st matchapi.Stats) bool { return st.Waiting == 1 && st.Requests == before.Requests+1 }
	if _, err := s.awaitMatchStats(waiting); err != nil {
		leave()
		return &outcome{Broken, "a client alone: " + err.Error()}
	}
	leave()
	if err := <-left; !errors.Is(err, context.Canceled) {
		return &outcome{Broken, fmt.Sprintf("a client alone got an answer: %v", err)}
	}
	canceled := func(st matchapi.Stats) bool { return st.Canceled == before.Canceled+1 }
	if _, err := s.awaitMatchStats(canceled); err != nil {
		return &outcome{Broken, "a client that left: " + err.Error()}
	}

	type told struct{ peer, err string }
	answers := make(chan told, 2)
	ctx, cancel := context.WithTimeout(s.ctx, checkWait)
	defer cancel()
	for _, id := range []string{"after-1", "after-2"} {
		go func() {
			peer, _, err := s.findPeer(ctx, id)
			answers <- told{peer, fmt.Sprint(err)}
		}()
	}
	for range 2 {
		if a := <-answers; a.peer == "leaver" {
			return &outcome{Broken, "a client was paired with one that had left (leaver)"}
		}
	}
	after, err := s.matchStats()
	switch {
	case err != nil:
		return &outcome{Hung, err.Error()}
	case after.Paired != before.Paired+1 || after.Waiting != 0 || !after.Balanced():
		return &outcome{Broken, fmt.Sprintf("after a client left and two came: /stats %+v", after)}
	}
	return nil
}

// awaitMatchStats polls /stats until cond holds, for up to checkWait.
func (s *session) awaitMatchStats(cond func(matchapi.Stats) bool) (matchapi.Stats, error) {
	deadline := time.Now().Add(checkWait)
	for {
		st, err := s.matchStats()
		if err != nil || cond(st) {
			return st, err
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("GET /stats after %v: %+v", checkWait, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkMatchStats checks that /stats accounts for sent clients, every one
// paired.
func (s *session) checkMatchStats(sent, paired int) *outcome {
	st, err := s.matchStats()
	if err != nil {
		return &outcome{Hung, err.Error()}
	}
	switch {
	case !st.Balanced():
		return &outcome{Broken, fmt.Sprintf("/stats does not balance: %+v", st)}
	case st.Requests != int64(sent) || st.Paired*2 != int64(paired) || st.Waiting != 0:
		return &outcome{Broken, fmt.Sprintf("after %d clients, %d answered: /stats %+v", sent, paired, st)}
	}
	return nil
}

func (s *session) matchStats() (matchapi.Stats, error) {
	var st matchapi.Stats
	status, text, err := s.do("GET", "/stats", nil, checkWait)
	if err != nil {
		return st, err
	}
	if status != 200 {
		return st, fmt.Errorf("GET /stats answered %d %q", status, text)
	}
	return st, json.Unmarshal([]byte(text), &st)
}

// checkPairs sends n clients at once and checks what each was told.
func (s *session) checkPairs(n int) *outcome {
	type told struct {
		peer, pairID string
		err          error
	}
	answers := make([]told, n)
	ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			peer, pairID, err := s.findPeer(ctx, clientName(i))
			answers[i] = told{peer, pairID, err}
		})
	}
	wg.Wait()

	byID := map[string]told{}
	for i, a := range answers {
		if a.err != nil {
			return &outcome{Hung, fmt.Sprintf("client %s: %v", clientName(i), a.err)}
		}
		byID[clientName(i)] = a
	}
	for id, a := range byID {
		peer, found := byID[a.peer]
		switch {
		case !found:
			return &outcome{Broken, fmt.Sprintf("%s was paired with %q, not one of this batch", id, a.peer)}
		case peer.peer != id:
			return &outcome{Broken, fmt.Sprintf("%s was paired with %s, who was paired with %s", id, a.peer, peer.peer)}
		case peer.pairID != a.pairID:
			return &outcome{Broken, fmt.Sprintf("%s and %s got pair ids %s and %s", id, a.peer, a.pairID, peer.pairID)}
		}
	}
	return nil
}

func clientName(i int) string { return fmt.Sprintf("check-%d", i) }

// findPeer asks for a peer as client id and returns the peer and pair id.
func (s *session) findPeer(ctx context.Context, id string) (peer, pairID string, err error) {
	req, err := http.NewRequestWithContext(ctx, "GET", s.child.url+"/?id="+id, nil)
	if err != nil {
		return "", "", err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != 200 {
		return "", "", fmt.Errorf("answered %d %q", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return strings.TrimSpace(string(body)), resp.Header.Get(matchapi.PairIDHeader), nil
}

// poisonWait bounds the request that carries a poison: the server may
// answer it, cut it, or die with it.
const poisonWait = 2 * time.Second
