package notifyapi

import (
	"errors"
	"fmt"

	"concurrencylab/internal/scenario"
)

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

// within puts context, what was being done, before err's message. An
// error that a Failure made stays that Failure's, with context at the
// head of its detail: its message still starts with the marker, and its
// detail (the harness's evidence) says it all.
func within(context string, err error) error {
	var e *scenario.Error
	if errors.As(err, &e) {
		return e.Failure.Errorf("%s%s", context, e.Detail)
	}
	return fmt.Errorf("%s%w", context, err)
}
