// Package nemesis runs a seeded random schedule of faults (harness/fault)
// against a running ensemble while a client workload (harness/history) runs
// throughout, and checks the history with porcupine at the end: Jepsen's
// generator, nemesis and checker, for ZooKeeper.
//
// Plan makes the schedule from a seed alone (the same seed, duration, node
// count and kinds give the same schedule, on any machine); Run applies it one
// fault at a time: a quiet spell, the fault for its hold time, its checked
// heal, then a bounded wait until every node serves again (the recovery time).
// Availability is measured per fault from the clients' history: the longest
// time without a successful write and the share of operations that failed or
// have an unknown outcome, from the fault's start until the next one's.
package nemesis

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/fault"
	"github.com/zkchaos/zkchaos/harness/history"
)

// DefaultKinds are the faults a schedule draws from unless told otherwise:
// every kind but Delay, whose netem qdisc not every engine's kernel has, and
// DiskFull, which needs tmpfs dataDirs (see NeedsTmpfs).
var DefaultKinds = slices.DeleteFunc(slices.Clone(fault.Kinds), func(k fault.Kind) bool { return k == fault.Delay || k == fault.DiskFull })

// NeedsTmpfs says whether the kinds need the nodes' dataDirs on a tmpfs
// (harness.WithTmpfs("/data", …)): DiskFull fills one to the last byte, which
// must never be the engine's disk. A tmpfs does not outlive its container: a
// node that restarts (Kill, StopLeader, or a ZooKeeper that exited on the full
// disk) comes back with an empty dataDir and syncs from the leader, as after a
// replaced disk. Run waits for every node to serve again before the next fault,
// so at most one node is behind at a time.
func NeedsTmpfs(kinds []fault.Kind) bool { return slices.Contains(kinds, fault.DiskFull) }

// Step is one fault of a schedule: Quiet healthy time, then the fault for Hold.
type Step struct {
	Quiet time.Duration `json:"quiet"`
	Fault fault.Spec    `json:"fault"`
	Hold  time.Duration `json:"hold"`
}

// MarshalJSON writes the times in seconds.
func (st Step) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Quiet float64    `json:"quiet_s"`
		Fault fault.Spec `json:"fault"`
		Hold  float64    `json:"hold_s"`
	}{st.Quiet.Seconds(), st.Fault, st.Hold.Seconds()})
}

// Schedule is a seeded sequence of faults.
type Schedule struct {
	Seed     int64         `json:"seed"`
	Duration time.Duration `json:"-"`
	Nodes    int           `json:"nodes"`
	Kinds    []fault.Kind  `json:"kinds"`
	Steps    []Step        `json:"steps"`
}

// MarshalJSON writes the times in seconds.
func (s Schedule) MarshalJSON() ([]byte, error) {
	type plain Schedule
	return json.Marshal(struct {
		plain
		Duration float64 `json:"duration_s"`
		Nominal  float64 `json:"nominal_s"`
	}{plain(s), s.Duration.Seconds(), s.Nominal().Seconds()})
}

// Plan draws a schedule from seed: faults of the given kinds (each kind once
// before any repeats, in a seeded order) on random nodes of an ensemble of
// nodes, with 1.5–3 s of quiet before each and 5–9 s of hold, until the
// nominal time (quiet plus hold) would pass duration. It is deterministic.
func Plan(seed int64, duration time.Duration, nodes int, kinds []fault.Kind) Schedule {
	if len(kinds) == 0 {
		kinds = DefaultKinds
	}
	s := Schedule{Seed: seed, Duration: duration, Nodes: nodes, Kinds: slices.Clone(kinds)}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6e656d65736973))
	var bag []fault.Kind
	half := func(lo, steps int) time.Duration { // lo s plus 0..steps half-seconds
		return time.Duration(lo)*time.Second + time.Duration(rng.IntN(steps+1))*500*time.Millisecond
	}
	var t time.Duration
	for {
		quiet, hold := half(1, 4)+500*time.Millisecond, half(5, 8)
		if t+quiet+hold > duration && len(s.Steps) > 0 {
			break
		}
		if len(bag) == 0 {
			bag = slices.Clone(kinds)
			rng.Shuffle(len(bag), func(i, j int) { bag[i], bag[j] = bag[j], bag[i] })
		}
		k := bag[0]
		bag = bag[1:]
		s.Steps = append(s.Steps, Step{Quiet: quiet, Fault: specFor(k, rng, nodes), Hold: hold})
		t += quiet + hold
		if t >= duration {
			break
		}
	}
	return s
}

// specFor draws where a fault of kind k acts.
func specFor(k fault.Kind, rng *rand.Rand, nodes int) fault.Spec {
	ids := rng.Perm(nodes)
	for i := range ids {
		ids[i]++
	}
	spec := fault.Spec{Kind: k}
	switch k {
	case fault.Partition:
		minority := max(1, (nodes-1)/2)
		major, minor := slices.Clone(ids[minority:]), slices.Clone(ids[:minority])
		slices.Sort(major)
		slices.Sort(minor)
		spec.Groups = [][]int{major, minor}
	case fault.StopLeader:
	case fault.Loss:
		spec.Nodes = ids[:1]
		spec.Loss = float64(20+rng.IntN(4)*10) / 100 // 20–50 %
	case fault.Delay:
		spec.Nodes = ids[:1]
		spec.Delay = time.Duration(50+rng.IntN(4)*50) * time.Millisecond // 50–200 ms
		spec.Jitter = spec.Delay / 4
	default:
		spec.Nodes = ids[:1]
	}
	return spec
}

// Nominal is the schedule's planned length (quiet and hold times; recovery
// waits come on top).
func (s Schedule) Nominal() time.Duration {
	var t time.Duration
	for _, st := range s.Steps {
		t += st.Quiet + st.Hold
	}
	return t
}

// String prints the schedule, one fault per line.
func (s Schedule) String() string {
	var b strings.Builder
	var ks []string
	for _, k := range s.Kinds {
		ks = append(ks, string(k))
	}
	fmt.Fprintf(&b, "schedule of seed %d: %d faults over %v on %d nodes (kinds: %s)\n", s.Seed, len(s.Steps), s.Nominal(), s.Nodes, strings.Join(ks, ", "))
	var t time.Duration
	for i, st := range s.Steps {
		t += st.Quiet
		fmt.Fprintf(&b, "  %2d. +%-6v %-40s for %v\n", i+1, t, st.Fault, st.Hold)
		t += st.Hold
	}
	return b.String()
}

// Options tune Run.
type Options struct {
	// Pause is each client's wait between operations (default 25 ms).
	Pause time.Duration
	// Recover bounds the wait, after each heal, until every node serves (default 60 s).
	Recover time.Duration
	// Log gets a line per fault and the workload's lines (nil: nothing).
	Log io.Writer
	// OnHeal is called after each fault is healed (or failed to apply), e.g.
	// to record it on a timeline.
	OnHeal func(Applied)
}

// Availability is what the clients saw from a fault's start until the next
// fault's start (or the end of the workload).
type Availability struct {
	Window time.Duration `json:"window"`
	// LongestNoWrite is the longest time in the window without a successful write.
	LongestNoWrite time.Duration `json:"longest_no_write"`
	// Ops were called in the window; Failed are reads without an answer,
	// Unknown writes of unknown outcome.
	Ops     int `json:"ops"`
	Failed  int `json:"failed"`
	Unknown int `json:"unknown"`
}

// FailedShare is the share of the window's operations that failed or have an unknown outcome.
func (a Availability) FailedShare() float64 {
	if a.Ops == 0 {
		return 0
	}
	return float64(a.Failed+a.Unknown) / float64(a.Ops)
}

func (a Availability) String() string {
	return fmt.Sprintf("longest without a successful write %v; %d of %d ops failed or unknown (%.1f%%)",
		a.LongestNoWrite.Round(time.Millisecond), a.Failed+a.Unknown, a.Ops, 100*a.FailedShare())
}

// Applied is one step as it ran.
type Applied struct {
	Step  Step         `json:"step"`
	Fault *fault.Fault `json:"fault,omitempty"`
	// Err says why the fault could not be applied or healed.
	Err string `json:"error,omitempty"`
	// Recovered: every node served within Options.Recover of the heal, after Recovery.
	Recovered    bool          `json:"recovered"`
	Recovery     time.Duration `json:"recovery"`
	RecoveryNote string        `json:"recovery_note,omitempty"`
	Availability Availability  `json:"availability"`
}

// Result is a schedule's run.
type Result struct {
	Schedule Schedule        `json:"schedule"`
	Applied  []Applied       `json:"applied"`
	History  history.History `json:"-"`
	Stats    history.Stats   `json:"stats"`
	// Check is porcupine on the writes: what ZooKeeper promises under every fault.
	Check history.Result `json:"-"`
	// SyncReads adds the sync+reads, which a deposed leader that does not yet
	// know it may answer from its stale state (ZOOKEEPER-1675); StaleSyncReads
	// are those that missed a write acknowledged before they were called.
	SyncReads      history.Result      `json:"-"`
	StaleSyncReads []history.StaleRead `json:"-"`
	// PlainReads counts plain reads as linearizable too, which ZooKeeper does
	// not promise: Illegal here shows stale reads of a node that was cut off.
	PlainReads history.Result `json:"-"`
	// PerKind sums the availability of the faults of each kind (the longest
	// time without a write is the longest of them).
	PerKind map[fault.Kind]Availability `json:"per_kind"`
}

// Run runs the schedule against ens with the workload throughout, then checks
// the history. An error means the run could not go on (the workload did not
// start, ctx ended); a fault that did not apply, take effect, heal or recover
// is in the result, for the caller's checks.
func Run(ctx context.Context, ens *harness.Ensemble, s Schedule, opt Options) (Result, error) {
	res := Result{Schedule: s, PerKind: map[fault.Kind]Availability{}}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	if opt.Recover <= 0 {
		opt.Recover = 60 * time.Second
	}
	if opt.Pause <= 0 {
		opt.Pause = 25 * time.Millisecond
	}
	// Three sessions per node: one pinned to it and one given the whole
	// ensemble, both writing and reading (checked), and a plain reader pinned
	// to it, whose reads show what a node cut off from its leader still
	// answers (counted only in PlainReads).
	nodes := ens.Nodes()
	var servers [][]string
	for _, n := range nodes {
		servers = append(servers, []string{n.ClientAddr()})
	}
	for range nodes {
		servers = append(servers, ens.ClientAddrs())
	}
	for _, n := range nodes {
		servers = append(servers, []string{n.ClientAddr()})
	}

	load, err := history.Go(ctx, history.Workload{
		Servers: servers, Clients: len(servers), PlainReaders: len(nodes), Keys: 5,
		Duration: 3*s.Nominal() + 5*time.Minute, MaxOps: 500000, Seed: s.Seed,
		SessionTimeout: 10 * time.Second, Pause: opt.Pause, Log: opt.Log, Dialer: ens.ZKDialer(),
	})
	if err != nil {
		return res, fmt.Errorf("nemesis: %w", err)
	}
	defer load.Stop()

	for i, st := range s.Steps {
		if err := sleep(ctx, st.Quiet); err != nil {
			break
		}
		a := Applied{Step: st}
		fmt.Fprintf(opt.Log, "nemesis: %d/%d %s for %v\n", i+1, len(s.Steps), st.Fault, st.Hold)
		f, err := fault.Apply(ctx, ens, st.Fault)
		if err != nil {
			a.Err = err.Error()
			fmt.Fprintf(opt.Log, "nemesis: not applied: %v\n", err)
		} else {
			a.Fault = f
			serr := sleep(ctx, st.Hold)
			if herr := f.Heal(context.WithoutCancel(ctx)); herr != nil {
				a.Err = herr.Error()
			}
			fmt.Fprintf(opt.Log, "nemesis: %s; healed: %s\n", f, f.HealEvidence)
			if serr != nil {
				res.Applied = append(res.Applied, a)
				break
			}
		}
		t0 := time.Now()
		rctx, cancel := context.WithTimeout(ctx, opt.Recover)
		rerr := ens.WaitServing(rctx)
		cancel()
		a.Recovery, a.Recovered = time.Since(t0), rerr == nil
		if rerr != nil {
			a.RecoveryNote = rerr.Error()
		}
		fmt.Fprintf(opt.Log, "nemesis: every node serving again %v after the heal (%v)\n", a.Recovered, a.Recovery.Round(time.Millisecond))
		if opt.OnHeal != nil {
			opt.OnHeal(a)
		}
		res.Applied = append(res.Applied, a)
		if ctx.Err() != nil {
			break
		}
	}
	_ = sleep(ctx, 2*time.Second) // healthy traffic after the last fault, to compare with
	load.Stop()
	if res.History, err = load.Wait(); err != nil {
		return res, err
	}
	res.Stats = res.History.Stats()
	res.measure()
	if res.Check, err = history.Check(res.History, history.Options{Timeout: 2 * time.Minute, WritesOnly: true}); err != nil {
		return res, err
	}
	if res.SyncReads, err = history.Check(res.History, history.Options{Timeout: 2 * time.Minute}); err != nil {
		return res, err
	}
	res.StaleSyncReads = res.History.StaleReads(history.SyncGet)
	if res.PlainReads, err = history.Check(res.History, history.Options{Timeout: time.Minute, CheckPlainReadsAsLinearizable: true}); err != nil {
		return res, err
	}
	return res, ctx.Err()
}

// sleep waits d, or until ctx ends: the schedule's own timing.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// measure computes each applied fault's availability and the per-kind sums.
func (r *Result) measure() {
	h := r.History
	end := h.Start
	for _, op := range h.Ops {
		end = maxTime(end, h.Start.Add(op.Return))
	}
	for i := range r.Applied {
		a := &r.Applied[i]
		if a.Fault == nil {
			continue
		}
		to := end
		for _, b := range r.Applied[i+1:] {
			if b.Fault != nil {
				to = b.Fault.Start
				break
			}
		}
		a.Availability = Measure(h, a.Fault.Start, to)
		k := a.Step.Fault.Kind
		p := r.PerKind[k]
		p.Window += a.Availability.Window
		p.LongestNoWrite = max(p.LongestNoWrite, a.Availability.LongestNoWrite)
		p.Ops += a.Availability.Ops
		p.Failed += a.Availability.Failed
		p.Unknown += a.Availability.Unknown
		r.PerKind[k] = p
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Measure is the clients' view of [from, to): the longest stretch without a
// successful write and the operations called in it by outcome.
func Measure(h history.History, from, to time.Time) Availability {
	a, b := from.Sub(h.Start), to.Sub(h.Start)
	av := Availability{Window: b - a}
	av.LongestNoWrite, _, _ = h.Gap(a, b, func(op history.Op) bool { return op.Kind.Write() && op.Output.Class == history.OK })
	for _, op := range h.Ops {
		if op.Call < a || op.Call >= b {
			continue
		}
		av.Ops++
		if op.Output.Class == history.Unknown {
			if op.Kind.Write() {
				av.Unknown++
			} else {
				av.Failed++
			}
		}
	}
	return av
}

// Kinds lists the kinds that were applied, in schedule order, once each.
func (r Result) Kinds() []fault.Kind {
	var out []fault.Kind
	for _, a := range r.Applied {
		if !slices.Contains(out, a.Step.Fault.Kind) {
			out = append(out, a.Step.Fault.Kind)
		}
	}
	return out
}
