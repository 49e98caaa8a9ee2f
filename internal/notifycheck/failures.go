package notifycheck

import "concurrencylab/internal/scenario"

// The ways a notifier fails, beyond the generic ones (scenario.HungRequest,
// whose marker is "hung": a change or /stats with no answer in time).
var (
	// NeverRemoved is a subscriber whose connection has ended (it left,
	// went silent, sent too much, or stopped reading) and that /stats
	// still counts.
	NeverRemoved = scenario.Marked("a subscriber never removed", "never removed", scenario.Leaked)
	// NeverDelivered is a subscriber that received fewer events than
	// there were changes answered, under the harness's load: behind a
	// proxy, a replica that announces its changes only to its own
	// subscribers. Its verdict is scenario.Missed.
	NeverDelivered = scenario.Marked("events never delivered", "missed events", scenario.Missed)
)
