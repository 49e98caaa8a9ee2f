package matchcheck

import "concurrencylab/internal/scenario"

// The ways a matchmaker fails, as the naive version shows them (see
// 1_naive-race/matchmaker). The scenarios and the drive report the first
// four with Failure.Errorf, so that their messages start with the marker;
// the last two are the seed's panics, read from the server's output.
var (
	// WrongPair is a pair that is not one: a client told its peer is one
	// that had left (the naive queue keeps a client that gave up, and
	// hands it out next), pairs that do not name each other back, or a
	// pair id given to other than two clients.
	WrongPair = scenario.Marked("a wrong pair", "wrong pair", scenario.Broken)
	// Unpaired is clients that all came while others were coming and yet
	// were not all paired: two of the naive version's goroutines both saw
	// nobody waiting, and both queued.
	Unpaired = scenario.Marked("clients not paired", "not paired", scenario.Broken)
	// UnbalancedStats is a snapshot of /stats that does not account for
	// every client exactly once (see Stats.Balanced): the naive version
	// keeps its counts apart from its queue.
	UnbalancedStats = scenario.Marked("unbalanced /stats", "/stats does not balance", scenario.Broken)
	// LeftQueued is a client that has had its answer and is still counted
	// as waiting: nothing takes it off the naive queue.
	LeftQueued = scenario.Marked("a client left in the queue", "left in the queue", scenario.Broken)

	// IndexOutOfRange is the seed's check-then-act: two goroutines see one
	// waiting client, both dequeue it, and the second panics in a
	// goroutine no handler runs, which kills the process.
	IndexOutOfRange = scenario.InOutput("index out of range",
		`^panic: runtime error: index out of range \[0\] with length 0`, scenario.Crashed)
	// WriteHeaderAfterFinished is the seed's other bug over HTTP/2: the
	// goroutine that pairs a client with one that has left writes that
	// one's finished ResponseWriter.
	WriteHeaderAfterFinished = scenario.InOutput("WriteHeader after the handler finished",
		`^panic: WriteHeader called after Handler finished`, scenario.Crashed)
)
