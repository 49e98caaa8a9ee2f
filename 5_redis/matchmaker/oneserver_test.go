//go:build lab

package main

import (
	"testing"

	"concurrencylab/internal/labtest"
	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/matchcheck"
	"concurrencylab/internal/redislab"
	"concurrencylab/internal/scenario"
)

// TestOneServer runs the suite against one replica alone, over HTTP/2
// where a scenario asks for it. The learner's command leaves it to the lab:
// the three replicas of TestMatchmaker run the same scenarios, through a
// proxy.
func TestOneServer(t *testing.T) {
	labtest.RunAgainst(t, matchcheck.Subject.Scenarios, func(t *testing.T, needs scenario.Needs) *scenario.Target {
		rs := labtest.Redis(t, redislab.Embedded)
		srv := replica(rs, matchapi.DefaultPairTimeout)(t)
		return labtest.Loopback(t, srv, needs&scenario.HTTP2 != 0)
	})
}
