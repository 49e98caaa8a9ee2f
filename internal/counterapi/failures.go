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

// splitMarker starts the error that replicas counting apart are reported
// with (see splitAcross).
const splitMarker = "split"

// Split is a counter served by several replicas, each with its own map:
// every increment is counted, but only by the replica that served it, and
// /get answers with whichever replica's share the proxy picks.
var Split = scenario.Marked("split", splitMarker, scenario.Split)
