// Command cluster runs any version of a subject as several replicas behind
// one address, the way a team runs a server once it outgrows one process:
// N replicas on free 127.0.0.1 ports, a round-robin reverse proxy in front
// of them on 127.0.0.1:8000, and Redis for the versions that keep their
// state there (5_redis). It prints the addresses, serves until Ctrl-C, and
// then stops everything it started.
//
//	go run ./loadtest/cluster 2_mutex/counter &
//	go tool hey -n 20000 -c 200 "http://127.0.0.1:8000/inc?name=i"
//	curl "127.0.0.1:8000/get?name=i"    # about a third: each replica has its own map
//	kill %1
//
// Flags after the package go to every replica:
//
//	go run ./loadtest/cluster 5_redis/counter -inc getset
//
// Redis is a redis-server started as a child where one is on PATH, the one
// at -redis host:port if given, or else an embedded Redis-compatible server
// in this process (miniredis); one line says which. The load balancer is
// haproxy, started as a child, where it is on PATH, or else the lab's own Go
// proxy in this process (-lb haproxy|embedded chooses); one line says
// which. Each answer through it names its replica in the Lab-Replica
// header.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"concurrencylab/internal/cluster"
	"concurrencylab/internal/gobuild"
	"concurrencylab/internal/redislab"
)

// replicaStopWait is a replica's time to exit after Ctrl-C before it is
// killed: a little more than the 10s internal/server gives requests in
// flight.
const replicaStopWait = 12 * time.Second

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	pkg      string   // the version, e.g. 2_mutex/counter
	args     []string // flags for every replica
	replicas int
	addr     string // the proxy's
	redis    string // a Redis already running, or "" to start one
	embedded bool   // the embedded Redis even if redis-server is installed
	lb       string // the load balancer's kind: cluster.Auto, HAProxy or Embedded
	race     bool
	verbose  bool
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.replicas, "replicas", cluster.DefaultReplicas, "how many replicas")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8000", "where the proxy listens")
	fs.StringVar(&o.redis, "redis", "", "a Redis already running (host:port); by default one is started")
	fs.BoolVar(&o.embedded, "embedded", false, "use the embedded Redis even where redis-server is installed")
	fs.StringVar(&o.lb, "lb", "auto", cluster.BalancerFlagHelp)
	fs.BoolVar(&o.race, "race", false, "build the replicas with the race detector (it sees nothing across processes)")
	fs.BoolVar(&o.verbose, "v", false, "log every request the proxy passes")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./loadtest/cluster [flags] PACKAGE [replica flags]")
		fmt.Fprintln(stderr, "  PACKAGE is a version's folder, e.g. 2_mutex/counter or 5_redis/matchmaker")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return o, errors.New("which version? name its folder, e.g. 2_mutex/counter")
	}
	o.pkg = strings.TrimSuffix(strings.TrimPrefix(fs.Arg(0), "./"), "/")
	o.args = fs.Args()[1:]
	if o.replicas < 1 {
		return o, fmt.Errorf("-replicas %d: at least one", o.replicas)
	}
	var err error
	o.lb, err = cluster.CheckBalancer(o.lb)
	return o, err
}

func run(args []string, stdout io.Writer) error {
	o, err := parse(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root, err := gobuild.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "building %s...\n", o.pkg)
	bin, err := gobuild.Build(ctx, root, o.pkg, o.race)
	if err != nil {
		return err
	}
	defer gobuild.Cleanup()

	replicaArgs := o.args
	if takesRedis(bin) {
		rs, err := startRedis(ctx, o)
		if err != nil {
			return err
		}
		defer rs.Close()
		fmt.Fprintln(stdout, rs)
		replicaArgs = append([]string{"-redis", rs.Addr}, replicaArgs...)
	}
	c, err := cluster.Start(ctx, cluster.Config{
		Command: []string{bin}, Args: replicaArgs, Replicas: o.replicas, Addr: o.addr, Balancer: o.lb, Verbose: o.verbose,
	})
	if err != nil {
		return err
	}
	for i, url := range c.ReplicaURLs() {
		fmt.Fprintf(stdout, "replica %d: %s\n", i+1, url)
	}
	fmt.Fprintln(stdout, c.Balancer)
	fmt.Fprintf(stdout, "proxy:     %s, round robin over the %d replicas of %s\n", c.URL, o.replicas, o.pkg)
	fmt.Fprintln(stdout, "Ctrl-C stops them all.")

	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping...")
	if !c.Stop(replicaStopWait) {
		return errors.New("a replica did not stop in time and was killed:\n" + c.Output())
	}
	return nil
}

// takesRedis reports whether the server at bin keeps its state in Redis:
// whether its -help lists -redis.
func takesRedis(bin string) bool {
	out, _ := exec.Command(bin, "-help").CombinedOutput()
	return strings.Contains(string(out), "-redis")
}

func startRedis(ctx context.Context, o options) (*redislab.Server, error) {
	switch {
	case o.redis != "":
		return redislab.Start(ctx, redislab.External, o.redis)
	case o.embedded:
		return redislab.Start(ctx, redislab.Embedded, "")
	}
	return redislab.Start(ctx, redislab.Auto, "")
}
