package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
	"github.com/zkchaos/zkchaos/harness/load"
	"github.com/zkchaos/zkchaos/reports"
)

// F5 — a short-connection flood (6–8K/s from PHP-FPM web requests, docs/F5.md) overflows
// the client port's accept queue: ZooKeeper listens with a backlog of 50.
type F5 struct {
	Version harness.Version
	// Rate and Duration of every flood (the same for the trigger and each fix).
	Rate     int
	Duration time.Duration
	Record   *reports.Record

	progress io.Writer
	// ens is the ensemble the last variant ran on, named ensName; onEnsemble is
	// told of every ensemble started and end removes one (the runner's Adopt and
	// End; without them Close terminates it).
	ens        *harness.Ensemble
	ensName    string
	onEnsemble func(*harness.Ensemble)
	end        func(context.Context, *harness.Ensemble) error
	clients    int
}

// NewF5 prepares the scenario on a version.
func NewF5(v harness.Version, progress io.Writer) *F5 {
	return &F5{Version: v, Rate: 8000, Duration: 5 * time.Second, progress: progress,
		Record: reports.New("F5", "A short-connection flood overflows the client port's listen backlog of 50", v.Version)}
}

// F5Variant is one column of the fix table: how the ensemble is configured and how
// the clients behave.
type F5Variant struct {
	Name string
	// Ensemble names the ensemble the variant runs on: consecutive variants with
	// the same name share one, started with Opts by the first of them (a flood
	// leaves the ensemble as it found it; the counters are read as deltas).
	Ensemble string
	Opts     []harness.Option
	// Target: zoo.cfg keys set on zk1 alone, by restarting it, before the flood.
	Target map[string]string
	// Reuse: the clients keep a pool of sessions instead of connecting per request.
	Reuse bool
}

// hugeKernelQueues are the documented kernel-side fix (net.core.somaxconn,
// tcp_max_syn_backlog), per container: each node has its own network namespace.
var hugeKernelQueues = []harness.Option{
	harness.WithSysctl("net.core.somaxconn", "65535"),
	harness.WithSysctl("net.ipv4.tcp_max_syn_backlog", "65535"),
}

// F5Variants are the trigger and the three documented fixes, in the order they
// run: the trigger and the client-side fix on an ensemble with the defaults, then
// the kernel limits and clientPortListenBacklog on one whose nodes have the large
// kernel queues (zk1 restarted with the option). Every variant lifts
// maxClientCnxns: the flood comes from one client host, and the per-IP limit (F3)
// would refuse most of it before the backlog matters — the reported clients were
// a fleet of web servers.
func F5Variants() []F5Variant {
	base := []harness.Option{harness.WithConfig("maxClientCnxns", "0")}
	return []F5Variant{
		{Name: "defaults (backlog 50)", Ensemble: "defaults", Opts: base},
		{Name: "client side: 32 long-lived sessions", Ensemble: "defaults", Reuse: true},
		{Name: "kernel: somaxconn, tcp_max_syn_backlog 65535", Ensemble: "kernel", Opts: append(append([]harness.Option{}, base...), hugeKernelQueues...)},
		{Name: fixBacklog, Ensemble: "kernel", Target: map[string]string{"clientPortListenBacklog": "1024"}},
	}
}

// F5Run is what one variant measured.
type F5Run struct {
	Variant                 string
	Backlog                 int64 // Send-Q of the listening client port (the effective backlog)
	Overflows, Drops        int64 // TcpExt ListenOverflows / ListenDrops deltas on the target node
	Flood                   *load.FloodResult
	Reuse                   *load.ReuseResult
	Findings                []detect.Finding
	NetBefore, NetAfter, SS string
	// Requests are the connections (or requests) actually sent, ClientFailures
	// those of them that failed; NotSent were scheduled but never sent (the
	// flood's in-flight limit, the pool's full queues): they count in no rate.
	ClientFailures, Requests, NotSent int64
}

// ensemble returns the ensemble variant v runs on: the previous one when v names
// it, else a new one (the previous one removed first), with v.Target set on zk1.
func (s *F5) ensemble(ctx context.Context, v F5Variant) (*harness.Ensemble, error) {
	if s.ens == nil || s.ensName != v.Ensemble {
		if err := s.Close(ctx); err != nil {
			return nil, err
		}
		s.Record.Add(reports.KindStep, "", "variant %q: starting the ensemble %q", v.Name, v.Ensemble)
		opts := append([]harness.Option{harness.WithVersion(s.Version.Version), harness.WithProgress(s.progress)}, v.Opts...)
		ens, err := harness.Run(ctx, opts...)
		if s.onEnsemble != nil {
			s.onEnsemble(ens)
		}
		s.ens, s.ensName = ens, v.Ensemble
		if err != nil {
			return nil, err
		}
	}
	if len(v.Target) == 0 {
		return s.ens, nil
	}
	zk1 := s.ens.Node(1)
	err := s.ens.RestartNodes(ctx, []*harness.Node{zk1}, v.Target, time.Minute, nil)
	s.Record.Add(reports.KindFault, zk1.Name, "variant %q: restarted with %v", v.Name, v.Target)
	return s.ens, err
}

// Close removes the ensemble of the last variant.
func (s *F5) Close(ctx context.Context) error {
	ens := s.ens
	s.ens, s.ensName = nil, ""
	if s.end != nil {
		return s.end(ctx, ens)
	}
	return ens.Terminate(ctx)
}

// Run measures the target's counters around one flood from a client host on the
// variant's ensemble, and runs the detector. The ensemble stays for the next
// variant (Close removes it).
func (s *F5) Run(ctx context.Context, v F5Variant) (run F5Run, err error) {
	run.Variant = v.Name
	ens, err := s.ensemble(ctx, v)
	if err != nil {
		return run, err
	}
	target := ens.Node(1)
	if run.SS, err = exec(ctx, target, "ss", "-ltn"); err != nil {
		return run, err
	}
	listeners, err := detect.ParseSS(strings.NewReader(run.SS))
	if err != nil {
		return run, err
	}
	for _, l := range listeners {
		if l.Port == harness.ClientPort {
			run.Backlog = l.SendQ
		}
	}
	if run.NetBefore, err = exec(ctx, target, "cat", "/proc/net/netstat"); err != nil {
		return run, err
	}
	rate, dur := strconv.Itoa(s.Rate), s.Duration.String()
	args := []string{"load", "flood", "--target", target.ClientAddr(), "--rate", rate, "--duration", dur}
	marker := "flood: "
	if v.Reuse {
		args = []string{"load", "reuse", "--target", target.ClientAddr(), "--rate", rate, "--duration", dur, "--sessions", "32"}
		marker = "reuse: "
	}
	s.Record.SetNodes(nodeNames(ens)...)
	floodStart := time.Now()
	s.clients++ // a client host per flood: names are unique in an ensemble
	c, err := ens.StartClient(ctx, fmt.Sprintf("%s-%d", args[1], s.clients), args...)
	if err != nil {
		return run, err
	}
	wctx, cancel := context.WithTimeout(ctx, s.Duration+2*time.Minute)
	out, err := c.WaitOutput(wctx, marker)
	cancel()
	// A lasting fault: a span on the target's lane. (No state probes here: they
	// would add connections to the port whose queue is measured.)
	s.Record.FaultSpan(target.Name, floodStart, time.Now(), "variant %q: %s at %s/s for %s from a client host", v.Name, args[1], rate, dur)
	if err != nil {
		return run, err
	}
	js := out[strings.Index(out, marker)+len(marker):]
	js, _, _ = strings.Cut(js, "\n")
	if v.Reuse {
		run.Reuse = &load.ReuseResult{}
		err = json.Unmarshal([]byte(js), run.Reuse)
		run.Requests, run.ClientFailures, run.NotSent = run.Reuse.Requests-run.Reuse.Dropped, run.Reuse.Failed, run.Reuse.Dropped
	} else {
		run.Flood = &load.FloodResult{}
		err = json.Unmarshal([]byte(js), run.Flood)
		run.Requests, run.ClientFailures, run.NotSent = run.Flood.Sent, run.Flood.Failures(), run.Flood.Skipped+run.Flood.Late
	}
	if err != nil {
		return run, fmt.Errorf("client summary %q: %w", js, err)
	}
	s.Record.Add(reports.KindClient, c.IP(), "%s", js)
	if run.NetAfter, err = exec(ctx, target, "cat", "/proc/net/netstat"); err != nil {
		return run, err
	}
	before, err := detect.ParseNetstat(strings.NewReader(run.NetBefore))
	if err != nil || len(before) == 0 {
		return run, fmt.Errorf("parse /proc/net/netstat before: %v", err)
	}
	after, err := detect.ParseNetstat(strings.NewReader(run.NetAfter))
	if err != nil || len(after) == 0 {
		return run, fmt.Errorf("parse /proc/net/netstat after: %v", err)
	}
	for _, d := range detect.Deltas(before[0], after[0]) {
		switch d.Key {
		case detect.ListenOverflows:
			run.Overflows = d.Growth()
		case detect.ListenDrops:
			run.Drops = d.Growth()
		}
	}
	obs := detect.Observations{Net: []detect.NetObservation{{Node: target.Name, Snapshots: []detect.NetstatSnapshot{before[0], after[0]}, Listeners: listeners}}}
	if run.Flood != nil && run.Flood.ConnectTO > 0 {
		obs.Clients = []detect.ClientObservation{{Node: target.Name, Attempts: run.Flood.Sent, ConnectTimeouts: run.Flood.ConnectTO}}
	}
	run.Findings = detect.Detect(obs)
	for _, f := range run.Findings {
		s.Record.Add(reports.KindFinding, f.Node, "%s: %s", f.Failure, strings.Join(f.Evidence, " | "))
	}
	s.Record.Add(reports.KindEvidence, target.Name, "variant %q: Send-Q (backlog) %d, ListenOverflows +%d, ListenDrops +%d, client failures %d of %d",
		v.Name, run.Backlog, run.Overflows, run.Drops, run.ClientFailures, run.Requests)
	return run, nil
}

func exec(ctx context.Context, n *harness.Node, cmd ...string) (string, error) {
	res, err := n.Exec(ctx, cmd...)
	return res.Stdout, err
}

// overflowsPerSent is ListenOverflows' growth per connection sent: the measure
// that compares floods of different sizes.
func (r F5Run) overflowsPerSent() float64 {
	return float64(r.Overflows) / float64(max(1, r.Requests))
}

// F5Table renders the fix table of a version as Markdown; client failures are split
// into connect time-outs (SYNs lost to the full queue) and the rest (handshakes the
// overloaded server did not answer in time, resets).
func F5Table(version string, runs []F5Run) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | backlog (Send-Q) | ListenOverflows Δ | ListenDrops Δ | failed / sent | of which connect time-outs | not sent | achieved rate (sent/s) | p99 connect or request |\n|---|---|---|---|---|---|---|---|---|\n", version)
	for _, r := range runs {
		var rate, p99 float64
		var connTO int64
		if r.Flood != nil {
			rate, p99, connTO = r.Flood.Achieved, r.Flood.P99Ms, r.Flood.ConnectTO
		} else if r.Reuse != nil {
			rate, p99 = r.Reuse.Achieved, r.Reuse.P99Ms
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d / %d | %d | %d | %.0f/s | %.0f ms |\n",
			r.Variant, r.Backlog, r.Overflows, r.Drops, r.ClientFailures, r.Requests, connTO, r.NotSent, rate, p99)
	}
	return b.String()
}

// fixBacklog is F5's documented server-side fix.
const fixBacklog = "clientPortListenBacklog=1024 + kernel"

// planF5 is F5's catalogue entry: the reported flood on the defaults, then each
// documented fix with the same flood. Every comparison is against the baseline
// measured in the same run, never against fixed counts: a loaded machine floods
// less, and the verdict must not change with it.
func planF5(r *Run) []Step {
	s := NewF5(r.Version, r.Progress)
	s.Record = r.Record
	s.onEnsemble, s.end = r.Adopt, r.End
	variants := F5Variants()
	var runs []F5Run
	run := func(ctx context.Context, r *Run, i int) (F5Run, error) {
		title := "Fix: " + variants[i].Name
		if i == 0 {
			title = "Trigger: " + variants[i].Name
		}
		r.step(title, "a %d/s flood for %s from one client host at zk1. Look for: the accept queue (ss Send-Q) and TcpExt ListenOverflows.", s.Rate, s.Duration)
		x, err := s.Run(ctx, variants[i])
		if err != nil {
			return x, err
		}
		runs = append(runs, x)
		r.say("backlog %d, ListenOverflows +%d, client failures %d of %d sent (%d not sent)", x.Backlog, x.Overflows, x.ClientFailures, x.Requests, x.NotSent)
		r.Record.Figure(variants[i].Name+": ListenOverflows delta", float64(x.Overflows))
		r.Record.Figure(variants[i].Name+": client failures", float64(x.ClientFailures))
		return x, nil
	}
	// serverFix judges a server-side variant against the baseline: the queue must
	// have grown and the overflows per connection sent fallen (each flood ends at
	// its duration, so a loaded machine sends fewer in one variant than another).
	serverFix := func(r *Run, name string, x F5Run) {
		base := runs[0]
		works := x.Backlog > base.Backlog && x.overflowsPerSent() < base.overflowsPerSent()
		r.Record.FixOutcome(name, status(works), "zk1", "backlog (Send-Q) %d (baseline %d); ListenOverflows +%d for %d sent, %.2f per connection (baseline +%d for %d, %.2f)",
			x.Backlog, base.Backlog, x.Overflows, x.Requests, x.overflowsPerSent(), base.Overflows, base.Requests, base.overflowsPerSent())
	}
	return []Step{
		{Name: "overflows the accept queue of 50 under the reported rate, and the detector sees it", Phase: PhaseTrigger, Timeout: 4 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Symptom (F5)", "at 6-8K short connections per second some clients cannot connect; netstat -s counts \"times the listen queue of a socket overflowed\".")
			x, err := run(ctx, r, 0)
			if err != nil {
				return err
			}
			f := x.Flood
			r.Record.Trigger(f.Sent > 0, "zk1", "%d connections sent of %d scheduled at %d/s (achieved %.0f/s); %d failed (connect timeouts %d), p99 connect %.0f ms",
				f.Sent, f.Attempts, s.Rate, f.Achieved, x.ClientFailures, f.ConnectTO, f.P99Ms)
			r.Record.Failure(x.Backlog == 50 && x.Overflows > 0, "zk1", "backlog (ss Send-Q of :2181) %d; ListenOverflows +%d, ListenDrops +%d during the flood", x.Backlog, x.Overflows, x.Drops)
			r.step("Detector", "the F5 detector on the server's netstat counters.")
			r.sayFindings(x.Findings, detect.F5)
			r.Record.Finding(foundOn(x.Findings, detect.F5, "zk1") != nil, "zk1", "the F5 detector on zk1's counters and listeners: %s", gradeOn(x.Findings, detect.F5, "zk1"))
			return nil
		}},
		{Name: "is fixed on the client side: the same rate over long-lived sessions overflows nothing", Phase: PhaseFix, Timeout: 4 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			x, err := run(ctx, r, 1)
			if err != nil {
				return err
			}
			u := x.Reuse
			works := u.Connected == u.Sessions && u.OK > 0 && x.Overflows == 0 && findingOn(x.Findings, detect.F5, "") == nil
			r.Record.FixOutcome(variants[1].Name, status(works), "zk1", "%d of %d sessions carried %d of %d requests sent (%.0f/s achieved, %d not sent): ListenOverflows +%d",
				u.Connected, u.Sessions, u.OK, x.Requests, u.Achieved, x.NotSent, x.Overflows)
			return nil
		}},
		{Name: "is not fixed by the kernel limits alone while ZooKeeper passes 50", Phase: PhaseFix, Timeout: 4 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			x, err := run(ctx, r, 2)
			if err != nil {
				return err
			}
			serverFix(r, variants[2].Name, x)
			return nil
		}},
		{Name: "is relieved by clientPortListenBacklog=1024 where the option exists (ZOOKEEPER-974, 3.6.0+)", Phase: PhaseFix, Timeout: 4 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			x, err := run(ctx, r, 3)
			if err != nil {
				return err
			}
			if !r.Version.ClientPortListenBacklog && x.Backlog == runs[0].Backlog {
				r.Record.FixOutcome(fixBacklog, reports.FixNotAvailable, "zk1", "clientPortListenBacklog=1024 set, Send-Q still %d: the key is ignored by %s (ZOOKEEPER-974 shipped in 3.6.0)", x.Backlog, r.Version.Version)
			} else {
				serverFix(r, fixBacklog, x)
			}
			table := F5Table(r.Version.Version, runs)
			r.Record.Note("fix table (same %d/s flood for %s per variant; the flood comes from one client host with maxClientCnxns=0):\n%s", s.Rate, s.Duration, table)
			r.say("%s", table)
			return s.Close(ctx)
		}},
	}
}
