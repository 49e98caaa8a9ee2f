//go:build lab

package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/labtest"
	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/matchcheck"
)

// A client waiting when Redis goes for good is answered, with a 503, once
// its lease has surely run out, and not before: its Join tries Redis again
// until then (hardening.go). It takes leaseTTL, so it is among the lab's
// own tests.
func TestRedisGoneForGood(t *testing.T) {
	t.Parallel() // light, unlike TestMatchmaker, which runs alone first
	for _, kind := range redisKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			rs := labtest.Redis(t, kind)
			c := matchcheck.NewClient(labtest.Loopback(t, replica(rs, matchapi.DefaultPairTimeout)(t), false), 3*leaseTTL)
			ctx := t.Context()

			patientAnswer := c.JoinAsync(ctx, "patient")
			_, err := c.AwaitStats(ctx, "patient to wait", wait, func(s matchapi.Stats) bool { return s.Waiting == 1 })
			require.NoError(t, err)
			stopped := time.Now()
			require.NoError(t, rs.Stop())
			patient := <-patientAnswer
			waited := time.Since(stopped)
			// The client waits 3*leaseTTL for its answer: one that never
			// came would fail here, as something other than a 503. How
			// soon after the lease it comes is not asserted: one last try
			// may take seconds on a loaded machine.
			assert.Equal(t, http.StatusServiceUnavailable, patient.Status, "patient: %s", patient.Outcome())
			assert.Greater(t, waited, leaseTTL-renewEvery, "gave up before its lease could have run out")
		})
	}
}
