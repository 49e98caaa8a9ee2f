package main

import (
	"context"
	"sync/atomic"
	"time"
)

// An observer is told what the harness does, as it does it: the progress
// line of a terminal (progress.go), a plain line per version where stderr
// is a log (plainlog.go), the page of -web (web.go). Its methods are called
// from several goroutines, and must not block for long.
type observer interface {
	// planned: the rows of the run, in the table's order, before any runs.
	planned(vs []version)
	// building: the servers of the run, one per package, are being built.
	building(servers int, race bool)
	// built: done of them are.
	built(done, servers int)
	// running: row i of rows (v) is under load.
	running(i, rows int, v version)
	// rate: the requests per second of the row under load, over the last
	// rateEvery. The harness says it while a row runs.
	rate(rps float64)
	// finished: row i has its verdict. Rows finish in any order: a server
	// stopping is waited for while the next one runs.
	finished(i int, r result)
	// status: anything else the harness is doing, in a few words.
	status(what string)
	// ended: the run is over; rep is the whole report.
	ended(rep runReport)
}

// rateEvery is how often the live rate is measured and told.
const rateEvery = 500 * time.Millisecond

// observers tells each of its observers everything.
type observers []observer

func (all observers) planned(vs []version) {
	for _, o := range all {
		o.planned(vs)
	}
}

func (all observers) building(servers int, race bool) {
	for _, o := range all {
		o.building(servers, race)
	}
}

func (all observers) built(done, servers int) {
	for _, o := range all {
		o.built(done, servers)
	}
}

func (all observers) running(i, rows int, v version) {
	for _, o := range all {
		o.running(i, rows, v)
	}
}

func (all observers) rate(rps float64) {
	for _, o := range all {
		o.rate(rps)
	}
}

func (all observers) finished(i int, r result) {
	for _, o := range all {
		o.finished(i, r)
	}
}

func (all observers) status(what string) {
	for _, o := range all {
		o.status(what)
	}
}

func (all observers) ended(rep runReport) {
	for _, o := range all {
		o.ended(rep)
	}
}

// answers counts the requests that the loaders have made in the run, as
// they make them where the loader can tell (hey), or a burst's answers when
// it ends (ab, wrk): the live rate is how fast it grows.
type answers struct{ n atomic.Int64 }

// add counts n more.
func (a *answers) add(n int) {
	if a != nil {
		a.n.Add(int64(n))
	}
}

func (a *answers) count() int64 {
	if a == nil {
		return 0
	}
	return a.n.Load()
}

// tellRate tells obs the rate at which a grows, every rateEvery, until ctx
// ends.
func tellRate(ctx context.Context, a *answers, obs observer) {
	t := time.NewTicker(rateEvery)
	defer t.Stop()
	last, at := a.count(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n := a.count()
			obs.rate(float64(n-last) / now.Sub(at).Seconds())
			last, at = n, now
		}
	}
}
