package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rakyll/hey/requester"

	"concurrencylab/internal/scenario"
)

// heyLoader drives load with hey's requester package: the same code as
// `go tool hey`, in this process. Its workers share the machine's cores
// with the server, so on 2 cores it cannot saturate a fast server: the
// ratio to the no-op baseline is what compares versions (see -load).
type heyLoader struct{}

func (heyLoader) name() string        { return "hey" }
func (heyLoader) countsExactly() bool { return true }
func (heyLoader) countsLive() bool    { return true }

func (heyLoader) run(ctx context.Context, base string, spec scenario.Burst, made *answers) (scenario.Sample, error) {
	req, err := http.NewRequest(spec.MethodOrGet(), base+spec.Path, nil)
	if err != nil {
		return scenario.Sample{}, err
	}
	if spec.ContentType != "" {
		req.Header.Set("Content-Type", spec.ContentType)
	}
	var out bytes.Buffer
	w := &requester.Work{
		Request:     req,
		RequestBody: spec.Body,
		N:           spec.Requests(),
		C:           spec.C,
		Timeout:     int(requestTimeout / time.Second),
		Writer:      &out,

		DisableKeepAlives: spec.NewConns,
		QPS:               spec.QPS / float64(spec.C), // hey's is per worker
	}
	var n atomic.Int64
	w.RequestFunc = func() *http.Request {
		made.add(1)
		r := req.Clone(context.Background())
		if spec.IDPrefix != "" {
			r.URL.RawQuery = addQuery(r.URL.RawQuery, "id="+spec.IDPrefix+"-"+strconv.FormatInt(n.Add(1), 10))
		}
		if spec.Body != nil {
			r.Body = readCloser(spec.Body)
		}
		return r
	}

	done := make(chan struct{})
	go func() {
		w.Run()
		close(done)
	}()
	timer := time.NewTimer(maxLoad)
	defer timer.Stop()
	select {
	case <-done:
	case <-ctx.Done():
		w.Stop()
		<-done
	case <-timer.C:
		w.Stop()
		<-done
	}
	return parseHeySummary(out.String())
}

// addQuery appends param to a raw query.
func addQuery(raw, param string) string {
	if raw == "" {
		return param
	}
	return raw + "&" + param
}

// hey's summary lines, as `go tool hey` prints them.
var (
	heyTotal   = regexp.MustCompile(`^\s*Total:\s+([\d.]+) secs`)
	heyLatency = regexp.MustCompile(`^\s*(\d+)%%? in ([\d.]+) secs`) // hey prints "50%% in"
	heyCount   = regexp.MustCompile(`^\s*\[(\d+)\]\s+(.*)$`)
)

// parseHeySummary reads the summary hey prints after a run.
func parseHeySummary(text string) (scenario.Sample, error) {
	s := scenario.Sample{Codes: map[int]int{}, Errors: map[string]int{}}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasSuffix(line, ":") && !strings.HasPrefix(line, " ") {
			section = line
			continue
		}
		if m := heyTotal.FindStringSubmatch(line); m != nil {
			s.Total = seconds(m[1])
		}
		if m := heyLatency.FindStringSubmatch(line); m != nil {
			switch m[1] {
			case "50":
				s.P50 = seconds(m[2])
			case "99":
				s.P99 = seconds(m[2])
			}
		}
		m := heyCount.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		switch section {
		case "Status code distribution:":
			count, _ := strconv.Atoi(strings.Fields(m[2])[0])
			s.Codes[n] += count
			s.Answered += count
		case "Error distribution:":
			s.Errors[m[2]] += n
		}
	}
	if s.Total == 0 {
		return s, fmt.Errorf("hey printed no summary: %q", lastLine(text))
	}
	return s, nil
}

// seconds parses hey's "0.0123" seconds.
func seconds(s string) time.Duration {
	f, _ := strconv.ParseFloat(s, 64)
	return time.Duration(f * float64(time.Second))
}

// readCloser is a request body that reads b.
func readCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
