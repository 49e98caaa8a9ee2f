package notifyapi

import "concurrencylab/internal/scenario"

// The ways a notifier fails, beyond the generic ones (scenario.HungRequest,
// whose marker is "hung": a change or /stats with no answer in time).
var (
	// NeverRemoved is a subscriber whose connection has ended (it left,
	// went silent, sent too much, or stopped reading) and that /stats
	// still counts.
	NeverRemoved = scenario.Marked("a subscriber never removed", "never removed", scenario.Leaked)
	// LostEvents is a subscriber that received fewer events than were
	// published, under the harness's load.
	LostEvents = scenario.Marked("events lost", "lost updates", scenario.LostUpdates)
)
