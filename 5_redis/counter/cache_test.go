//go:build lab

package main

import (
	"testing"

	"concurrencylab/internal/labtest"
	"concurrencylab/internal/redislab"
	"concurrencylab/internal/scenario"
)

// TestCachedReadsAreStale: -read cache is stale reads on one server.
func TestCachedReadsAreStale(t *testing.T) {
	cachedReadsAreStale(t, func(t *testing.T) *scenario.Target {
		return lighter(labtest.Loopback(t, onReading(labtest.Redis(t, redislab.Embedded), Script, Cached)(t), false))
	})
}

// TestCachedReadsAreStaleAcrossReplicas is TestCachedReadsAreStale on three
// replicas behind each load balancer: each keeps its own copy.
func TestCachedReadsAreStaleAcrossReplicas(t *testing.T) {
	for _, lb := range lbKinds {
		t.Run(lb, func(t *testing.T) {
			cachedReadsAreStale(t, func(t *testing.T) *scenario.Target {
				return lighter(labtest.Replicas(t, 3, lb, onReading(labtest.Redis(t, redislab.Embedded), Script, Cached)))
			})
		})
	}
}
