package main

import (
	"fmt"
	"strconv"
	"strings"
)

// incPath is the seed's load on the counter store (`ab -n 20000 -c 200
// "127.0.0.1:8000/inc?name=i"`). The baseline serves the same requests, so
// the two rates compare.
const incPath = "/inc?name=i"

// driveCounter increments the counter i from many clients at once and
// checks that /get counts every increment that was answered "ok".
func driveCounter(s *session) outcome {
	spec, count := s.opts.spec(steady, incPath)
	answered, failed := s.loadRepeatedly(spec, count)
	if failed != nil {
		return *failed
	}
	return s.checkCount("i", answered, spec.C)
}

// checkCount reads counter name and compares it with the increments
// answered. C requests may still have been in flight when a loader that
// runs for a set time stopped: the server may have counted those too.
func (s *session) checkCount(name string, answered, c int) outcome {
	status, text, err := s.do("GET", "/get?name="+name, nil, checkWait)
	if err != nil {
		return fail(Hung, "%v", err)
	}
	val, err := parseCount(name, text)
	if status != 200 || err != nil {
		return fail(Broken, "GET /get?name=%s answered %d %q", name, status, text)
	}
	inFlight := 0
	if !s.load.countsExactly() {
		inFlight = c
	}
	switch {
	case val < int64(answered):
		return fail(LostUpdates, "%s: %d after %d increments answered ok (%d lost)", name, val, answered, int64(answered)-val)
	case val > int64(answered+inFlight):
		return fail(Broken, "%s: %d after only %d increments answered ok", name, val, answered)
	}
	return ok("%s: %d after %d increments, %d at a time", name, val, answered, c)
}

// parseCount reads the counter store's "name: value" answer.
func parseCount(name, text string) (int64, error) {
	v, found := strings.CutPrefix(text, name+": ")
	if !found {
		return 0, fmt.Errorf("not a count: %q", text)
	}
	return strconv.ParseInt(v, 10, 64)
}

// driveBaseline loads the no-op server as the counter is loaded, with load
// of the given shape, and checks only that it answered every request.
func driveBaseline(sh shape) func(*session) outcome {
	return func(s *session) outcome {
		spec, count := s.opts.spec(sh, incPath)
		answered, failed := s.loadRepeatedly(spec, count)
		if failed != nil {
			return *failed
		}
		return ok("%d requests answered ok, %d at a time", answered, spec.C)
	}
}
