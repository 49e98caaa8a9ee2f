package countercheck

import "concurrencylab/internal/scenario"

// The ways a broken counter fails. Each is reported under a harness verdict
// of its own name (scenario.LostUpdates, scenario.Split); the failure is
// what was seen, the verdict what it means.
var (
	// CountShort is a count that comes out lower than the increments
	// answered "ok": two requests read the same value and both wrote the
	// next, as the naive store's unguarded read-check-write does when the
	// runtime's map check does not kill it first. Reported by checkBurst.
	CountShort = scenario.Marked("a short count", "lost updates", scenario.LostUpdates)

	// CountedApart is a counter served by several replicas, each with its
	// own map: every increment is counted, but only by the replica that
	// served it, and /get answers with whichever replica's share the proxy
	// picks. Reported by splitAcross.
	CountedApart = scenario.Marked("replicas counting apart", "split", scenario.Split)
)
