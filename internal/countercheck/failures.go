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

	// StaleReads is a read that answered an older count than one already
	// seen, or than the increments answered before it was sent, while
	// every increment was counted: a copy of the state (a cache, a Redis
	// replica) answered instead of the state. Reported by the history
	// check (history), and by a burst whose short count caught up.
	StaleReads = scenario.Marked("a stale read", "stale reads", scenario.StaleReads)

	// WrongAnswer is a history that no order of its operations
	// explains, other than by a lost update or a stale read: a value
	// never written, a wrong 404.
	WrongAnswer = scenario.Marked("a wrong answer", "not linearizable", scenario.Broken)

	// HistoryUnchecked is a history that the check could not decide
	// within its time limit: never called ok.
	HistoryUnchecked = scenario.Marked("a history not checked in time", "history unknown", scenario.Broken)
)
