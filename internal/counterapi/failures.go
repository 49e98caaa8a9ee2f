package counterapi

import "concurrencylab/internal/scenario"

// lostUpdatesMarker starts the error that a count short of the increments
// answered "ok" is reported with (see checkBurst).
const lostUpdatesMarker = "lost updates"

// LostUpdates is a counter that counts fewer increments than were answered
// "ok": two requests read the same value and both wrote the next, as the
// naive store's unguarded read-check-write does when the runtime's map
// check does not kill it first.
var LostUpdates = scenario.Marked("lost updates", lostUpdatesMarker, scenario.LostUpdates)
