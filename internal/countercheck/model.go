package countercheck

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/anishathalye/porcupine"
)

// An Op is one operation of a history: what one client sent and what it
// was answered, with when it was sent and when the answer came.
type Op struct {
	Client int
	Kind   string // "set", "get" or "inc"
	Name   string
	Val    int64 // set: the value sent

	Call, Return time.Duration // since the history began

	// Status is the answer's status, or 0 for none (no answer in time, the
	// connection broke) or one the contract does not give (a 503): the
	// operation may or may not have happened.
	Status int
	Value  int64 // get answered 200: the count
}

// answered reports whether the op's outcome is known.
func (op Op) answered() bool {
	switch op.Status {
	case http.StatusOK, http.StatusNotFound, http.StatusConflict:
		return true
	}
	return false
}

// String is the op in the contract's own words: "GET /inc?name=i answered 200".
func (op Op) String() string {
	q := Query(op.Name, "")
	if op.Kind == "set" {
		q = Query(op.Name, strconv.FormatInt(op.Val, 10))
	}
	s := fmt.Sprintf("GET /%s?%s sent at %s", op.Kind, q, seconds(op.Call))
	switch {
	case !op.answered():
		return s + " got no answer the contract gives"
	case op.Kind == "get" && op.Status == http.StatusOK:
		return fmt.Sprintf("%s answered %d", s, op.Value)
	}
	return fmt.Sprintf("%s answered %d", s, op.Status)
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// counterState is one counter as the contract's sequential specification
// holds it: absent, or a value.
type counterState struct {
	exists bool
	val    int64
}

// model is the counter contract for porcupine, partitioned by name: each
// counter is checked on its own, which is what keeps the check fast.
var model = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byName := map[string][]porcupine.Operation{}
		var names []string
		for _, op := range history {
			name := op.Input.(Op).Name
			if _, ok := byName[name]; !ok {
				names = append(names, name)
			}
			byName[name] = append(byName[name], op)
		}
		parts := make([][]porcupine.Operation, len(names))
		for i, name := range names {
			parts[i] = byName[name]
		}
		return parts
	},
	Init: func() any { return counterState{} },
	Step: func(state, input, _ any) (bool, any) {
		return step(state.(counterState), input.(Op))
	},
	DescribeOperation: func(input, _ any) string {
		op := input.(Op)
		switch {
		case !op.answered():
			return fmt.Sprintf("%s(%s) → ?", op.Kind, op.Name)
		case op.Kind == "set":
			return fmt.Sprintf("set(%s, %d) → %d", op.Name, op.Val, op.Status)
		case op.Kind == "get" && op.Status == http.StatusOK:
			return fmt.Sprintf("get(%s) → %d", op.Name, op.Value)
		}
		return fmt.Sprintf("%s(%s) → %d", op.Kind, op.Name, op.Status)
	},
	DescribeState: func(state any) string {
		s := state.(counterState)
		if !s.exists {
			return "absent"
		}
		return strconv.FormatInt(s.val, 10)
	},
}

// step is the contract, one operation at a time: whether op's answer is
// one the counter in state s could give, and the state after it. An op
// with no known answer may have happened; porcupine may also place it after
// every other op, where its effect is seen by nobody.
func step(s counterState, op Op) (bool, counterState) {
	switch op.Kind {
	case "set":
		return !op.answered() || op.Status == http.StatusOK, counterState{exists: true, val: op.Val}
	case "get":
		switch {
		case !op.answered():
			return true, s
		case !s.exists:
			return op.Status == http.StatusNotFound, s
		}
		return op.Status == http.StatusOK && op.Value == s.val, s
	case "inc":
		switch {
		case !s.exists:
			return !op.answered() || op.Status == http.StatusNotFound, s
		case s.val == math.MaxInt64:
			return !op.answered() || op.Status == http.StatusConflict, s
		}
		return !op.answered() || op.Status == http.StatusOK, counterState{exists: true, val: s.val + 1}
	}
	return false, s
}

// The outcomes of a history's check, as porcupine gives them.
const (
	Linearizable    = porcupine.Ok
	NotLinearizable = porcupine.Illegal
	Unknown         = porcupine.Unknown // the check ran out of time: never called ok
)

// A Check is what checking a history found.
type Check struct {
	Outcome porcupine.CheckResult
	Took    time.Duration
	info    porcupine.LinearizationInfo
}

// CheckHistory checks ops against the counter contract, within limit.
func CheckHistory(ops []Op, limit time.Duration) Check {
	history := make([]porcupine.Operation, len(ops))
	for i, op := range ops {
		ret := int64(op.Return)
		if !op.answered() {
			ret = math.MaxInt64 // it may take effect at any time after it was sent
		}
		history[i] = porcupine.Operation{ClientId: op.Client, Input: op, Call: int64(op.Call), Output: op.Status, Return: ret}
	}
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(model, history, limit)
	return Check{Outcome: res, Took: time.Since(start), info: info}
}

// Draw writes porcupine's drawing of the history to path (HTML), with
// the first wrong answer marked, if there is one.
func (c Check) Draw(path string, wrong *Wrong) error {
	info := c.info
	if wrong != nil {
		info.AddAnnotations([]porcupine.Annotation{{
			ClientId:        wrong.Op.Client,
			Tag:             "first wrong answer",
			Start:           int64(wrong.Op.Call),
			End:             int64(wrong.Op.Return),
			Description:     wrong.Kind,
			Details:         wrong.Detail,
			BackgroundColor: "#ffd0d0",
		}})
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return porcupine.VisualizePath(model, info, path)
}

// A Wrong is the first answer in a history that no order of its
// operations explains, in the contract's words.
type Wrong struct {
	Op     Op
	Kind   string // "stale read", "lost update", "a value never written", "a wrong answer"
	Detail string // "GET /get?name=i sent at 1.204s answered 1500, but 2000 increments..."
}

// FirstWrong looks for the first answer (by when it was sent) that cannot
// be right whatever the order of the operations around it, by bounds that
// need no search: a read lower than the increments answered before it was
// sent (a stale read if a later read counted them, else a lost update), or
// than a read that ended before it began (a stale read); a read higher
// than the increments sent before it was answered. Sets are barriers: the bounds
// start again at each set that ended before the read was sent, and a read
// that overlaps a set is not judged. Nil if no answer is wrong by these
// bounds (the history may still not be linearizable).
func FirstWrong(ops []Op) *Wrong {
	byCall := slices.Clone(ops)
	slices.SortStableFunc(byCall, func(a, b Op) int { return cmp.Compare(a.Call, b.Call) })
	for _, r := range byCall {
		if r.Kind != "get" || !r.answered() {
			continue
		}
		if w := judgeRead(byCall, r); w != nil {
			return w
		}
	}
	return nil
}

// judgeRead judges the read r against the other operations on its counter.
func judgeRead(ops []Op, r Op) *Wrong {
	// The last set of r's counter that ended before r was sent. Not
	// judged: a read with no such set, or at the same time as a set, or
	// after sets whose order is unknown (overlapping, or unanswered).
	var base *Op
	for i := range ops {
		op := &ops[i]
		if op.Name != r.Name || op.Kind != "set" {
			continue
		}
		if op.Call > r.Return {
			continue
		}
		if op.Return >= r.Call || !op.answered() {
			return nil
		}
		if base == nil || op.Return > base.Return {
			base = op
		}
	}
	if base == nil {
		return nil
	}
	for _, op := range ops {
		if op.Name == r.Name && op.Kind == "set" && op != *base && op.Return >= base.Call && op.Call <= base.Return {
			return nil
		}
	}
	if r.Status != http.StatusOK {
		kind := "a wrong answer"
		if caughtUp(ops, r, base.Val) {
			kind = "stale read" // a later read shows the set
		}
		return &Wrong{Op: r, Kind: kind,
			Detail: fmt.Sprintf("%s, but %s had been set to %d at %s, before it was sent", r, r.Name, base.Val, seconds(base.Return))}
	}
	var done, sent int64 // increments answered ok before r was sent; sent before r was answered
	var seen *Op         // the highest read that ended before r was sent
	for _, op := range ops {
		if op.Name != r.Name || op.Call < base.Return {
			continue
		}
		switch op.Kind {
		case "inc":
			if op.Status == http.StatusOK && op.Return < r.Call {
				done++
			}
			if (op.Status == http.StatusOK || !op.answered()) && op.Call < r.Return {
				sent++
			}
		case "get":
			if op.Status == http.StatusOK && op.Return < r.Call && (seen == nil || op.Value > seen.Value) {
				seen = &op
			}
		}
	}
	from := ""
	if base.Val != 0 {
		from = fmt.Sprintf(" (%s was set to %d at %s)", r.Name, base.Val, seconds(base.Return))
	}
	switch {
	case r.Value < base.Val+done && caughtUp(ops, r, base.Val+done):
		return &Wrong{Op: r, Kind: "stale read",
			Detail: fmt.Sprintf("%s, but %s had been answered before it was sent%s", r, increments(done), from)}
	case r.Value < base.Val+done:
		return &Wrong{Op: r, Kind: "lost update",
			Detail: fmt.Sprintf("%s, but %s had been answered before it was sent%s, and no later read counted them", r, increments(done), from)}
	case seen != nil && r.Value < seen.Value:
		return &Wrong{Op: r, Kind: "stale read",
			Detail: fmt.Sprintf("%s, but a read that ended before it was sent had answered %d", r, seen.Value)}
	case r.Value > base.Val+sent:
		return &Wrong{Op: r, Kind: "a value never written",
			Detail: fmt.Sprintf("%s, but only %s had been sent before it was answered%s", r, increments(sent), from)}
	}
	return nil
}

// caughtUp reports whether a read of r's counter sent after r was
// answered, and before the counter was set again, counted at least want.
func caughtUp(ops []Op, r Op, want int64) bool {
	for _, op := range ops {
		if op.Name != r.Name || op.Call <= r.Return {
			continue
		}
		if op.Kind == "set" {
			return false // ops are sorted by when they were sent
		}
		if op.Kind == "get" && op.Status == http.StatusOK && op.Value >= want {
			return true
		}
	}
	return false
}

// increments is "1 increment" or "n increments".
func increments(n int64) string {
	if n == 1 {
		return "1 increment"
	}
	return strconv.FormatInt(n, 10) + " increments"
}
