package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"
)

// A replicaCost compares a row of replicas with the same subject's
// single-process mutex row, under the same load: where the time goes
// beyond one process.
type replicaCost struct {
	Subject  string  `json:"subject"`
	Strategy string  `json:"strategy"` // the row of replicas, e.g. "redis ×3"
	OfMutex  float64 `json:"of_mutex"` // its median req/s over the one-process mutex's
	OfSplit  float64 `json:"of_split"` // over the mutex ×3's: what its shared store costs beyond the proxy hop
	HasSplit bool    `json:"-"`        // a mutex ×3 row ran
}

// replicaCosts are the ratios of every row of replicas to the same
// subject's one-process mutex row and to its mutex ×3 row: the mutex ×3's
// ratio to the mutex is the proxy hop (and three processes on the cores),
// and a store's ratio to the mutex ×3 is what keeping the state elsewhere
// costs on top. Rows with a capped rate are left out: their rate is the
// cap's.
func replicaCosts(results []result) []replicaCost {
	one, split := map[string]float64{}, map[string]float64{}
	for _, r := range results {
		if r.Strategy == "mutex" && r.Replicas == 0 && r.RateCap == 0 && len(r.RPS) > 0 {
			one[r.Subject] = median(r.RPS)
		}
		if r.Strategy == "mutex ×3" && r.RateCap == 0 && len(r.RPS) > 0 {
			split[r.Subject] = median(r.RPS)
		}
	}
	var costs []replicaCost
	for _, r := range results {
		base := one[r.Subject]
		if r.Replicas == 0 || r.RateCap > 0 || len(r.RPS) == 0 || base == 0 {
			continue
		}
		c := replicaCost{Subject: r.Subject, Strategy: r.Strategy, OfMutex: median(r.RPS) / base}
		if s := split[r.Subject]; s > 0 {
			c.OfSplit, c.HasSplit = median(r.RPS)/s, true
		}
		costs = append(costs, c)
	}
	return costs
}

// describeCosts is the costs in prose, one line each.
func describeCosts(costs []replicaCost) []string {
	var lines []string
	for _, c := range costs {
		line := fmt.Sprintf("%s %s: %.2f× the one-process mutex's req/s", c.Subject, c.Strategy, c.OfMutex)
		if c.HasSplit && c.Strategy != "mutex ×3" {
			line += fmt.Sprintf(", %.2f× the mutex ×3's", c.OfSplit)
		}
		lines = append(lines, line)
	}
	return lines
}

// redisBenchmarkWait bounds redis-benchmark's run.
const redisBenchmarkWait = 30 * time.Second

var incrRate = regexp.MustCompile(`INCR: ([0-9.]+) requests per second`)

// benchmarkRedis measures the Redis at addr with redis-benchmark -t incr,
// 200 clients at a time as the harness's load: the store's own limit,
// with no HTTP in the way. "" where redis-benchmark is not installed.
func benchmarkRedis(ctx context.Context, addr string) string {
	if _, err := exec.LookPath("redis-benchmark"); err != nil {
		return ""
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, redisBenchmarkWait)
	defer cancel()
	out, err := exec.CommandContext(ctx, "redis-benchmark", "-h", host, "-p", port, "-t", "incr", "-n", "100000", "-c", "200", "-q").CombinedOutput()
	m := incrRate.FindStringSubmatch(string(out))
	if err != nil || m == nil {
		return "redis-benchmark -t incr failed: " + strings.TrimSpace(lastLine(string(out)))
	}
	return fmt.Sprintf("redis-benchmark -t incr -c 200 on the same Redis: %s INCR/s (the store's own limit, with no HTTP in the way)", strings.Split(m[1], ".")[0])
}

// balancerSeen is the load balancer that a run's rows of replicas ran
// behind: the first one's name ("HAProxy 2.6.12"), for the ×3 line. Every
// row asks for the same kind (-lb).
type balancerSeen struct {
	mu   sync.Mutex // guards name
	name string
}

func (b *balancerSeen) saw(name string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.name == "" {
		b.name = name
	}
}

// String is the name, or "" if no row of replicas ran.
func (b *balancerSeen) String() string {
	if b == nil {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.name
}

// behind is ", HAProxy 2.6.12": which load balancer the run's replica
// rows ran behind, for the ×3 line; "" if it does not know.
func behind(rep runReport) string {
	if rep.Balancer == "" {
		return ""
	}
	return ", " + rep.Balancer
}

// writeSideBySide writes, for each subject whose one-process mutex row was
// measured, a row of the table that -report puts beyond one process: the
// one-process mutex, the mutex ×3 and the redis ×3 from the same run,
// behind the balancer named, and the ratios between them; then
// redis-benchmark's rate on the same Redis, the store's own limit.
func writeSideBySide(w io.Writer, rep runReport) {
	rate := func(subject, strategy string, replicas bool) float64 {
		for _, r := range rep.Results {
			if r.Subject == subject && r.Strategy == strategy && (r.Replicas > 0) == replicas && r.RateCap == 0 && len(r.RPS) > 0 {
				return median(r.RPS)
			}
		}
		return 0
	}
	cell := func(x, of float64) string {
		if x == 0 || of == 0 {
			return "-"
		}
		return fmt.Sprintf("%s (%.2f×)", thousands(x), x/of)
	}
	var rows []string
	for _, s := range subjects {
		one := rate(s.Name, "mutex", false)
		split, shared := rate(s.Name, "mutex ×3", true), rate(s.Name, "redis ×3", true)
		if one == 0 || split+shared == 0 {
			continue
		}
		over := "-"
		if split > 0 && shared > 0 {
			over = fmt.Sprintf("%.2f×", shared/split)
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s |", s.Name, thousands(one), cell(split, one), cell(shared, one), over))
	}
	if len(rows) == 0 {
		return
	}
	by := "a round-robin proxy"
	if rep.Balancer != "" {
		by = rep.Balancer
	}
	fmt.Fprintf(w, "Side by side, req/s (× the one-process mutex), with every ×3 behind %s:\n\n", by)
	fmt.Fprintf(w, "| subject | mutex, one process | mutex ×3 | redis ×3 | redis ×3 over mutex ×3 |\n|---|--:|--:|--:|--:|\n")
	for _, r := range rows {
		fmt.Fprintln(w, r)
	}
	if rep.RedisBenchmark != "" {
		fmt.Fprintf(w, "\n%s.\n", rep.RedisBenchmark)
	}
	fmt.Fprintln(w)
}
