package scenarios

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/fault"
	"github.com/zkchaos/zkchaos/harness/history"
	"github.com/zkchaos/zkchaos/harness/nemesis"
	"github.com/zkchaos/zkchaos/reports"
)

// Exploration is a seeded exploratory run: a random schedule of faults from
// the fault library (harness/fault, harness/nemesis) against a 3-node
// ensemble while a client workload runs, its history checked with porcupine.
// Nobody scripted the faults for a failure; the run asks whether the version
// stays correct (linearizable writes; sync+reads and plain reads are checked and
// reported apart, docs/explore.md) and how available it stays under each kind of
// fault.
type Exploration struct {
	Seed     int64
	Duration time.Duration
	Kinds    []fault.Kind // nil: nemesis.DefaultKinds
	Nodes    int          // default 3
}

// ExploreName is the scenario name of exploratory runs.
const ExploreName = "explore"

// ExploreRecover bounds the wait for every node to serve again after a heal:
// a node cut off by a one-way drop may wait out a 60 s election back-off
// (docs/F4.md), so the bound is F4's.
const ExploreRecover = CauseBound

// Schedule is the exploration's schedule (the same for the same seed,
// duration, node count and kinds).
func (x Exploration) Schedule() nemesis.Schedule {
	nodes := x.Nodes
	if nodes == 0 {
		nodes = 3
	}
	return nemesis.Plan(x.Seed, x.Duration, nodes, x.Kinds)
}

// Entry is the exploration as an entry for the one runner: start the
// ensemble, run the schedule under the workload, check. The checks that gate
// it: every fault took effect and healed (each with its evidence), every node
// served again after each heal, the writes are linearizable, and the workload
// ran throughout.
func (x Exploration) Entry() Entry {
	sched := x.Schedule()
	title := fmt.Sprintf("Exploratory run: %d random faults over %v (seed %d) under a porcupine-checked workload", len(sched.Steps), x.Duration, x.Seed)
	minutes := (sched.Nominal() + 40*time.Second).Minutes()
	e := Entry{Name: ExploreName, Title: title, Minutes: minutes, Labels: []string{"explore"}}
	e.Plan = func(r *Run) []Step {
		var ens *harness.Ensemble
		var res nemesis.Result
		return []Step{
			{Name: fmt.Sprintf("starts %d nodes", sched.Nodes), Phase: PhaseStart, Timeout: 2 * time.Minute, Do: func(ctx context.Context, r *Run) error {
				r.step("Exploratory run on "+r.Version.Version, "%s", strings.TrimSpace(sched.String()))
				// syncLimit 4 s (20 ticks of 200 ms) instead of the harness's 10 s:
				// a follower cut off from its leader for a fault's 5–9 s hold then
				// notices and leaves, as it would with ZooKeeper's sample config
				// under a longer fault.
				opts := []harness.Option{harness.WithVersion(r.Version.Version), harness.WithNodes(sched.Nodes), harness.WithProgress(r.Progress),
					harness.WithConfig("syncLimit", "20")}
				if nemesis.NeedsTmpfs(sched.Kinds) {
					opts = append(opts, harness.WithTmpfs("/data", "128m"))
				}
				var err error
				ens, err = harness.Run(ctx, opts...)
				r.Adopt(ens)
				if err == nil {
					track(ens, r.Record)
					r.Record.Figure("explore_seed", float64(x.Seed))
					r.say("serving: %s", strings.Join(ens.ClientAddrs(), ", "))
				}
				return err
			}},
			{Name: "runs the seeded fault schedule under the workload, each fault with evidence and a checked heal", Phase: PhaseTrigger, Timeout: sched.Nominal() + time.Duration(len(sched.Steps))*ExploreRecover + 5*time.Minute, Do: func(ctx context.Context, r *Run) error {
				r.step("Faults and workload", "%d sessions create, set, sync+read and read 5 keys (one pinned to each node, one per node given the whole ensemble), and %d pinned readers do plain reads, while the faults come one at a time.", 2*sched.Nodes, sched.Nodes)
				var err error
				res, err = nemesis.Run(ctx, ens, sched, nemesis.Options{Recover: ExploreRecover, Log: r.Progress, OnHeal: func(a nemesis.Applied) {
					recordApplied(r, a)
				}})
				if err != nil {
					return err
				}
				recordExploration(r, res)
				return nil
			}},
			{Name: "checks the history: the writes linearizable; sync+reads and plain reads reported", Phase: PhaseCheck, Timeout: 5 * time.Minute, Do: func(ctx context.Context, r *Run) error {
				r.step("Check", "porcupine on the history's writes (what ZooKeeper promises); then with sync+reads, which a deposed leader may answer stale (ZOOKEEPER-1675), and with plain reads, only sequentially consistent in ZooKeeper: both reported, with their evidence.")
				c := res.Check
				r.say("porcupine on the writes: %s", c)
				r.say("with sync+reads: %s", res.SyncReads.Outcome)
				r.say("with plain reads counted as linearizable (ZooKeeper does not promise it): %s", res.PlainReads.Outcome)
				r.Record.Check("linearizable (writes)", c.Linearizable, "", "porcupine: %s", c)
				mark := reports.KindCheck
				if !c.Linearizable {
					mark = reports.KindCheckFailed
				}
				r.Record.Add(mark, "", "porcupine on %d operations: %s (writes)", c.Checked, c.Outcome)
				r.Record.Check("the workload ran throughout", res.Stats.ByClass[history.OK] > 100, "", "%s", res.Stats)
				r.Record.Evidence("", "with sync+reads (not promised across a leader change, ZOOKEEPER-1675): %s", res.SyncReads)
				for i, s := range res.StaleSyncReads {
					if i == 5 {
						r.Record.Evidence("", "… %d more stale sync+reads", len(res.StaleSyncReads)-i)
						break
					}
					r.Record.Evidence("", "stale sync+read: %s", s)
					r.say("stale sync+read: %s", s)
				}
				r.Record.Figure("sync_reads_linearizable", boolFigure(res.SyncReads.Linearizable))
				r.Record.Figure("stale_sync_reads", float64(len(res.StaleSyncReads)))
				r.Record.Evidence("", "plain reads counted as linearizable too (not promised by ZooKeeper): %s", res.PlainReads)
				r.Record.Figure("plain_reads_linearizable", boolFigure(res.PlainReads.Linearizable))
				failed := !c.Linearizable || !res.SyncReads.Linearizable || slices.ContainsFunc(r.Record.Verdict.Checks, func(c reports.CheckResult) bool { return !c.Held })
				if r.Artifacts != "" {
					keepExploration(ctx, r, ens, res, failed)
				}
				return nil
			}},
		}
	}
	return e
}

func boolFigure(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// recordApplied puts one fault on the timeline, with its evidence and heal.
func recordApplied(r *Run, a nemesis.Applied) {
	rec := r.Record
	f := a.Fault
	if f == nil {
		rec.Add(reports.KindFault, "", "%s: not applied: %s", a.Step.Fault, a.Err)
		r.say("✗ %s: not applied: %s", a.Step.Fault, a.Err)
		return
	}
	// The fault's span goes on the lane of the node it acts on (the isolated
	// node, the one that drops); a partition's on the ensemble's row.
	node := ""
	if a.Step.Fault.Kind != fault.Partition && len(f.Nodes) > 0 {
		node = f.Nodes[0]
	}
	rec.FaultSpan(node, f.Start, f.End, "%s", f)
	rec.Add(reports.KindEvidence, node, "%s healed: %s", a.Step.Fault, f.HealEvidence)
	r.say("%s — took effect %v; healed %v; every node serving %v after %.1f s", f, f.Took, f.Healed, a.Recovered, a.Recovery.Seconds())
}

// recordExploration records the run's observations, checks and figures, and
// the clients' errors on the timeline.
func recordExploration(r *Run, res nemesis.Result) {
	rec := r.Record
	var applied, took, healed, recovered int
	var notTook, notHealed, notRecovered []string
	for _, a := range res.Applied {
		if a.Fault == nil {
			notTook = append(notTook, fmt.Sprintf("%s (%s)", a.Step.Fault, a.Err))
			continue
		}
		applied++
		if a.Fault.Took {
			took++
		} else {
			notTook = append(notTook, fmt.Sprintf("%s (%s)", a.Step.Fault, a.Fault.Evidence))
		}
		if a.Fault.Healed {
			healed++
		} else {
			notHealed = append(notHealed, fmt.Sprintf("%s (%s %s)", a.Step.Fault, a.Fault.HealEvidence, a.Err))
		}
		if a.Recovered {
			recovered++
		} else {
			notRecovered = append(notRecovered, fmt.Sprintf("%s (%s)", a.Step.Fault, a.RecoveryNote))
		}
	}
	n := len(res.Schedule.Steps)
	kinds := res.Kinds()
	var names []string
	for _, k := range kinds {
		names = append(names, string(k))
	}
	rec.Trigger(applied == n && n > 0, "", "%d of %d scheduled faults applied (seed %d), %d kinds: %s", applied, n, res.Schedule.Seed, len(kinds), strings.Join(names, ", "))
	rec.Check("every fault took effect", took == n, "", "%d of %d with evidence%s", took, n, listed("; without: ", notTook))
	rec.Check("every fault healed", healed == applied && applied == n, "", "%d of %d healed, checked%s", healed, n, listed("; not: ", notHealed))
	rec.Check(fmt.Sprintf("every node served again within %v of each heal", ExploreRecover), recovered == applied && applied == n, "", "%d of %d%s", recovered, n, listed("; not after: ", notRecovered))
	rec.Figure("faults", float64(n))
	rec.Figure("fault_kinds", float64(len(kinds)))
	rec.Figure("ops", float64(res.Stats.Ops))
	rec.Figure("unknown_ops", float64(res.Stats.ByClass[history.Unknown]))
	for _, k := range kinds {
		av := res.PerKind[k]
		var rec0 time.Duration
		for _, a := range res.Applied {
			if a.Step.Fault.Kind == k {
				rec0 = max(rec0, a.Recovery)
			}
		}
		rec.Evidence("", "%s: %s; every node serving again at most %.1f s after the heal", k, av, rec0.Seconds())
		rec.Figure(string(k)+"_longest_no_write_ms", float64(av.LongestNoWrite.Milliseconds()))
		rec.Figure(string(k)+"_failed_pct", 100*av.FailedShare())
		rec.Figure(string(k)+"_recovery_s", rec0.Seconds())
	}
	for _, ev := range clientErrors(res.History) {
		rec.AddEvent(ev)
	}
	rec.Add(reports.KindClient, "", "%s", res.Stats)
}

func listed(prefix string, items []string) string {
	if len(items) == 0 {
		return ""
	}
	return prefix + strings.Join(items, "; ")
}

// clientErrors are the timeline's client marks: each second in which
// operations failed or ended unknown, with the counts.
func clientErrors(h history.History) []reports.Event {
	type bucket struct{ ok, failed, unknown int }
	buckets := map[int64]*bucket{}
	var keys []int64
	for _, op := range h.Ops {
		s := int64(op.Call / time.Second)
		b := buckets[s]
		if b == nil {
			b = &bucket{}
			buckets[s] = b
			keys = append(keys, s)
		}
		switch {
		case op.Output.Class != history.Unknown:
			b.ok++
		case op.Kind.Write():
			b.unknown++
		default:
			b.failed++
		}
	}
	slices.Sort(keys)
	var out []reports.Event
	for _, s := range keys {
		b := buckets[s]
		if b.failed+b.unknown == 0 {
			continue
		}
		out = append(out, reports.Event{Time: h.Start.Add(time.Duration(s) * time.Second).UTC(), Kind: reports.KindClient,
			Text: fmt.Sprintf("%d answered, %d reads without an answer, %d writes of unknown outcome in this second", b.ok, b.failed, b.unknown)})
	}
	return out
}

// keepExploration keeps the history and the schedule of every run, and what
// explains a failed check: porcupine's visualisation and every node's log.
func keepExploration(ctx context.Context, r *Run, ens *harness.Ensemble, res nemesis.Result, failed bool) {
	dir := r.Artifacts
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		err = errors.Join(res.History.Save(filepath.Join(dir, "history.json")),
			os.WriteFile(filepath.Join(dir, "schedule.txt"), []byte(res.Schedule.String()), 0o644))
	}
	if err == nil && failed {
		shown := res.Check // the writes; their sync+reads when only those are not linearizable
		if shown.Linearizable && !res.SyncReads.Linearizable {
			shown = res.SyncReads
		}
		err = errors.Join(shown.WriteVisualization(filepath.Join(dir, "porcupine.html")), ens.KeepArtifacts(ctx, dir))
	}
	if err != nil {
		r.Record.Note("artifacts not kept in %s: %v", dir, err)
		return
	}
	what := "history.json, schedule.txt"
	if failed {
		what += ", and for the failed check porcupine.html and the node logs"
	}
	r.Record.Add(reports.KindEvidence, "", "kept in %s: %s", dir, what)
}
