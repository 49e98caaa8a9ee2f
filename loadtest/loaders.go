package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"concurrencylab/internal/scenario"
)

// The load generators besides hey: ab and wrk, run as commands.

// abLoader drives load with ApacheBench (apt-get install apache2-utils), a
// single-threaded C client that needs far less CPU than hey: on 2 cores it
// leaves more of the machine to the server, and so saturates it better.
// Every request of a burst is the same: no per-request ids.
type abLoader struct{ path string }

func newABLoader(options) (loader, error) {
	path, err := exec.LookPath("ab")
	if err != nil {
		return nil, errors.New("ab is not installed: apt-get install apache2-utils (or brew install httpd), or use -load hey")
	}
	return abLoader{path}, nil
}

func (abLoader) name() string        { return "ab" }
func (abLoader) countsExactly() bool { return true }
func (abLoader) countsLive() bool    { return false }

func (l abLoader) run(ctx context.Context, base string, spec scenario.Burst, _ *answers) (scenario.Sample, error) {
	args := []string{
		"-q", "-r", "-l", // quiet, go on after errors, any length
		// -t bounds the time; it resets -n, so -n comes after it.
		"-t", strconv.Itoa(int(maxLoad / time.Second)),
		"-n", strconv.Itoa(spec.Requests()), "-c", strconv.Itoa(spec.C),
		"-s", strconv.Itoa(int(requestTimeout / time.Second)),
	}
	if !spec.NewConns {
		args = append(args, "-k") // keep-alive
	}
	// The latencies come from -e's CSV, in fractional milliseconds: the
	// report's own table is in whole ones, and a loopback request takes less.
	csv, err := os.CreateTemp("", "loadtest-ab-*.csv")
	if err != nil {
		return scenario.Sample{}, err
	}
	csv.Close()
	defer os.Remove(csv.Name())
	args = append(args, "-e", csv.Name())
	if spec.Body != nil {
		file, err := bodyFile(spec.Body)
		if err != nil {
			return scenario.Sample{}, err
		}
		defer os.Remove(file)
		flag := "-p"
		if spec.MethodOrGet() == "PUT" {
			flag = "-u"
		}
		args = append(args, flag, file, "-T", spec.ContentType)
	} else if spec.MethodOrGet() != "GET" {
		args = append(args, "-m", spec.MethodOrGet())
	}
	out, err := exec.CommandContext(ctx, l.path, append(args, base+spec.Path)...).CombinedOutput()
	s, perr := parseAB(string(out))
	if err != nil {
		// ab gives up when it cannot connect (a server that died) and
		// may print no report: what it did not send counts as failed.
		s.Errors["ab: "+lastLine(string(out))] += max(0, spec.Requests()-s.Answered-s.Failed())
		return s, nil
	}
	if perr != nil || s.Answered == 0 {
		return s, perr // with no answer, there is no latency to read
	}
	s.P50, s.P99, err = readABPercentiles(csv.Name())
	return s, err
}

var (
	abField  = regexp.MustCompile(`^([A-Za-z0-9 -]+):\s+([\d.]+)`)
	abFailed = regexp.MustCompile(`\(Connect: (\d+), Receive: (\d+), Length: \d+, Exceptions: (\d+)\)`)
)

// parseAB reads ab's report, all but the latencies (see
// parseABPercentiles). ab counts a response of another length than the
// first as "failed" (Length); -l keeps it from doing so, and only connect,
// receive and exception failures count as requests unanswered.
func parseAB(text string) (scenario.Sample, error) {
	s := scenario.Sample{Codes: map[int]int{}, Errors: map[string]int{}}
	var complete, non2xx int
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if m := abFailed.FindStringSubmatch(line); m != nil {
			for i, what := range []string{"connect", "receive", "exception"} {
				if n, _ := strconv.Atoi(m[i+1]); n > 0 {
					s.Errors["ab: "+what+" failed"] += n
				}
			}
			continue
		}
		m := abField.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		switch m[1] {
		case "Time taken for tests":
			s.Total = seconds(m[2])
		case "Complete requests":
			complete, _ = strconv.Atoi(m[2])
		case "Non-2xx responses":
			non2xx, _ = strconv.Atoi(m[2])
		}
	}
	if s.Total == 0 {
		return s, fmt.Errorf("ab printed no report: %s", lastLine(text))
	}
	answered := max(0, complete-s.Failed())
	s.Answered = answered
	// ab counts statuses only as 2xx or not.
	s.Codes[200] = answered - non2xx
	if non2xx > 0 {
		s.Codes[0] = non2xx // "not 2xx"
	}
	return s, nil
}

// readABPercentiles reads p50 and p99 from the CSV that ab -e wrote.
func readABPercentiles(file string) (p50, p99 time.Duration, err error) {
	text, err := os.ReadFile(file)
	if err == nil {
		p50, p99, err = parseABPercentiles(string(text))
	}
	if err != nil {
		return 0, 0, fmt.Errorf("ab's latencies could not be read from its -e CSV: %w", err)
	}
	return p50, p99, nil
}

// parseABPercentiles reads p50 and p99 from ab's -e CSV: a header, then
// "percent,milliseconds" for every percent from 0 to 100, with the
// milliseconds to 3 decimals (ab's clock counts microseconds).
func parseABPercentiles(text string) (p50, p99 time.Duration, err error) {
	if strings.TrimSpace(text) == "" {
		return 0, 0, errors.New("it is empty")
	}
	found := map[int]time.Duration{}
	for i, line := range strings.Split(strings.TrimSpace(text), "\n") {
		line = strings.TrimSpace(line)
		if i == 0 && strings.HasPrefix(line, "Percentage served") {
			continue // the header
		}
		percent, ms, ok := strings.Cut(line, ",")
		p, perr := strconv.Atoi(percent)
		f, ferr := strconv.ParseFloat(ms, 64)
		if !ok || perr != nil || ferr != nil || p < 0 || p > 100 || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, 0, fmt.Errorf("line %d is not \"percent,milliseconds\": %q", i+1, line)
		}
		found[p] = time.Duration(math.Round(f*1000)) * time.Microsecond
	}
	for _, p := range []int{50, 99} {
		if _, ok := found[p]; !ok {
			return 0, 0, fmt.Errorf("no %d%% line among its %d", p, len(found))
		}
	}
	return found[50], found[99], nil
}

// wrkLoader drives load with wrk (apt-get install wrk): multi-threaded,
// event-driven and cheap per request. It runs for a set time, not a set
// count: -wrk-duration per burst.
type wrkLoader struct {
	path     string
	duration time.Duration // of each burst
}

func newWrkLoader(o options) (loader, error) {
	path, err := exec.LookPath("wrk")
	if err != nil {
		return nil, errors.New("wrk is not installed: apt-get install wrk (or brew install wrk), or use -load hey")
	}
	return wrkLoader{path: path, duration: o.wrkDuration}, nil
}

func (wrkLoader) name() string        { return "wrk" }
func (wrkLoader) countsExactly() bool { return false }
func (wrkLoader) countsLive() bool    { return false }

func (l wrkLoader) run(ctx context.Context, base string, spec scenario.Burst, _ *answers) (scenario.Sample, error) {
	args := []string{
		"-t", "1", "-c", strconv.Itoa(spec.C), "-d", l.duration.String(),
		"--timeout", requestTimeout.String(), "--latency",
	}
	if spec.Body != nil || spec.MethodOrGet() != "GET" {
		script, err := wrkScript(spec)
		if err != nil {
			return scenario.Sample{}, err
		}
		defer os.Remove(script)
		args = append(args, "-s", script)
	}
	out, err := exec.CommandContext(ctx, l.path, append(args, base+spec.Path)...).CombinedOutput()
	s, perr := parseWrk(string(out))
	if perr != nil && err != nil {
		return s, fmt.Errorf("wrk: %v: %s", err, lastLine(string(out)))
	}
	return s, perr
}

// wrkScript writes the Lua that makes wrk send spec's method and body.
func wrkScript(spec scenario.Burst) (string, error) {
	lua := fmt.Sprintf("wrk.method = %q\nwrk.body = %q\nwrk.headers[\"Content-Type\"] = %q\n",
		spec.MethodOrGet(), spec.Body, spec.ContentType)
	f, err := os.CreateTemp("", "loadtest-*.lua")
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, err = f.WriteString(lua)
	return f.Name(), err
}

var (
	wrkRequests = regexp.MustCompile(`^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)`)
	wrkLatency  = regexp.MustCompile(`^\s*(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads wrk's report (with --latency).
func parseWrk(text string) (scenario.Sample, error) {
	s := scenario.Sample{Codes: map[int]int{}, Errors: map[string]int{}}
	var non2xx int
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if m := wrkRequests.FindStringSubmatch(line); m != nil {
			s.Answered, _ = strconv.Atoi(m[1])
			s.Total = duration(m[2], m[3])
		}
		if m := wrkLatency.FindStringSubmatch(line); m != nil {
			if m[1] == "50" {
				s.P50 = duration(m[2], m[3])
			} else {
				s.P99 = duration(m[2], m[3])
			}
		}
		if m := wrkNon2xx.FindStringSubmatch(line); m != nil {
			non2xx, _ = strconv.Atoi(m[1])
		}
		if m := wrkSocket.FindStringSubmatch(line); m != nil {
			for i, what := range []string{"connect", "read", "write", "timeout"} {
				if n, _ := strconv.Atoi(m[i+1]); n > 0 {
					s.Errors["wrk: socket "+what+" errors"] += n
				}
			}
		}
	}
	if s.Total == 0 {
		return s, fmt.Errorf("wrk printed no report: %s", lastLine(text))
	}
	s.Codes[200] = s.Answered - non2xx
	if non2xx > 0 {
		s.Codes[0] = non2xx
	}
	return s, nil
}

// duration parses wrk's "1.23ms".
func duration(num, unit string) time.Duration {
	f, _ := strconv.ParseFloat(num, 64)
	scale := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute}[unit]
	return time.Duration(f * float64(scale))
}

// bodyFile writes a request body where ab can read it.
func bodyFile(body []byte) (string, error) {
	f, err := os.CreateTemp("", "loadtest-body-*")
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, err = f.Write(body)
	return filepath.Clean(f.Name()), err
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// A loader drives load against a server at base (http://127.0.0.1:port).
type loader interface {
	name() string
	// run makes spec's requests and measures them. It stops by itself:
	// a burst that has not finished within maxLoad is cut short.
	// It counts each request in made as it makes it, if countsLive.
	run(ctx context.Context, base string, spec scenario.Burst, made *answers) (scenario.Sample, error)
	// countsLive reports whether run counts requests as it makes them;
	// otherwise the harness counts a burst's answers when it ends.
	countsLive() bool
	// countsExactly reports whether every request the server handled is
	// counted in the sample. A loader that runs for a set time (wrk) stops
	// with up to C requests in flight, which the server may have handled.
	countsExactly() bool
}

// Bounds on one burst of load.
const (
	// requestTimeout is how long a request may wait for its answer. A
	// matchmaker client waits for a peer, which comes within milliseconds
	// under load.
	requestTimeout = 5 * time.Second
	// maxLoad cuts a burst short: the default loads take a second or two.
	maxLoad = 30 * time.Second
)

// loaders are the load generators by their -load name.
var loaders = map[string]func(options) (loader, error){
	"hey": func(options) (loader, error) { return heyLoader{}, nil },
	"ab":  newABLoader,
	"wrk": newWrkLoader,
}
