package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/history"
	"github.com/zkchaos/zkchaos/reports"
)

// NoSnapshot is ZOOKEEPER-3056's start-up failure: a server of 3.5+ finds
// transaction logs but no snapshot in a dataDir written by 3.4 and refuses to start.
const NoSnapshot = "No snapshot found, but there are log entries"

// Upgrade is a rolling upgrade (or downgrade) of a running ensemble under a
// client workload, one node at a time on the same data volumes, checked with
// porcupine afterwards.
type Upgrade struct {
	From, To harness.Version
	Nodes    int
	// LeaderFirst swaps the leader first; the default is followers first (in myid
	// order) and the leader last, as operators usually do.
	LeaderFirst bool
	// TrustEmpty sets snapshot.trust.empty=true on each node as it is upgraded:
	// the documented workaround for ZOOKEEPER-3056 (3.4 dataDirs without a snapshot).
	TrustEmpty bool
	// Seeds znodes are written before the workload (acknowledged writes that must
	// survive); Clients sessions run the workload throughout.
	Seeds, Clients int
	Record         *reports.Record
	// Artifacts, when set, is where the history and porcupine's visualisation go.
	Artifacts string

	progress io.Writer
}

// NewUpgrade prepares a rolling upgrade from one version to another.
func NewUpgrade(from, to harness.Version, nodes int, progress io.Writer) *Upgrade {
	return &Upgrade{From: from, To: to, Nodes: nodes, Seeds: 20, Clients: 4, progress: progress,
		Record: reports.New("upgrade-from-"+from.Version, fmt.Sprintf("Rolling upgrade %s → %s on %d nodes under load", from.Version, to.Version, nodes), to.Version)}
}

// Swap is one node's replacement.
type Swap struct {
	Node     string
	Leader   bool    // it was the leader when it was swapped
	Seconds  float64 // from its stop until it served on the new version (or the bound)
	Serving  bool
	ExitCode int    // when its container exited
	Evidence string // the line that says why it did not serve
	// Gap is the longest time no client got an answer while this node was being
	// swapped (its unavailability window as the clients saw it).
	Gap time.Duration

	start, end time.Time
}

// UpgradeResult is what a rolling upgrade did.
type UpgradeResult struct {
	Swaps   []Swap
	History history.History
	Stats   history.Stats
	Check   history.Result
	// SeedsIntact counts the seed znodes read back after the upgrade (of Seeds).
	SeedsIntact int
	// Stopped: a node did not serve on the new version, and the upgrade stopped there
	// (an operator would not take down the next node of a degraded ensemble).
	Stopped bool
}

// Run upgrades a fresh ensemble of From to To node by node while the workload runs.
func (u *Upgrade) Run(ctx context.Context) (res UpgradeResult, err error) {
	rec := u.Record
	ens, err := harness.Run(ctx, harness.WithVersion(u.From.Version), harness.WithNodes(u.Nodes), harness.WithProgress(u.progress))
	defer func() {
		if terr := ens.Terminate(ctx); terr != nil {
			err = errors.Join(err, terr)
		}
	}()
	if err != nil {
		return res, err
	}
	track(ens, rec)
	if err := writeSeeds(ctx, ens, u.Seeds); err != nil {
		return res, err
	}
	rec.Add(reports.KindStep, "", "%d seed znodes written on %s (acknowledged)", u.Seeds, u.From.Version)

	load, err := history.Go(ctx, history.Workload{
		Servers: [][]string{ens.ClientAddrs()}, Clients: u.Clients, Keys: 5,
		Duration: 15 * time.Minute, MaxOps: 200000, Seed: 1, SessionTimeout: 10 * time.Second,
		Pause: 20 * time.Millisecond, Log: u.progress, Dialer: ens.ZKDialer(),
	})
	if err != nil {
		return res, err
	}
	defer load.Stop()
	rec.Add(reports.KindClient, "", "workload: %d sessions doing create / versioned set / sync+get / get on 5 keys", u.Clients)
	time.Sleep(2 * time.Second) // traffic before the first swap, to compare with

	order, err := u.order(ctx, ens)
	if err != nil {
		return res, err
	}
	for _, n := range order {
		sw, err := u.swap(ctx, ens, n)
		res.Swaps = append(res.Swaps, sw)
		if err != nil {
			return res, err
		}
		if !sw.Serving {
			res.Stopped = true
			rec.Add(reports.KindState, n.Name, "the upgrade stops here: %s does not serve on %s", n.Name, u.To.Version)
			break
		}
	}
	time.Sleep(2 * time.Second)
	load.Stop()
	if res.History, err = load.Wait(); err != nil {
		return res, err
	}
	res.Stats = res.History.Stats()
	for i := range res.Swaps {
		res.Swaps[i].Gap, _, _ = res.History.Gap(res.Swaps[i].start.Sub(res.History.Start), res.Swaps[i].end.Sub(res.History.Start), history.Answered)
	}
	rec.Add(reports.KindClient, "", "%s", res.Stats)
	if res.Check, err = history.Check(res.History, history.Options{Timeout: time.Minute}); err != nil {
		return res, err
	}
	rec.Add(reports.KindEvidence, "", "porcupine: %s", res.Check)
	if u.Artifacts != "" && !res.Check.Linearizable {
		_ = os.MkdirAll(u.Artifacts, 0o755)
		_ = res.History.Save(filepath.Join(u.Artifacts, "history.json"))
		_ = res.Check.WriteVisualization(filepath.Join(u.Artifacts, "porcupine.html"))
	}
	res.SeedsIntact, err = readSeeds(ctx, ens, u.Seeds)
	return res, err
}

// order is the swap order: followers by myid then the leader, or the leader first.
func (u *Upgrade) order(ctx context.Context, ens *harness.Ensemble) ([]*harness.Node, error) {
	leader, err := ens.Leader(ctx)
	if err != nil {
		return nil, err
	}
	order := ens.Others(leader)
	if u.LeaderFirst {
		return append([]*harness.Node{leader}, order...), nil
	}
	return append(order, leader), nil
}

func (u *Upgrade) swap(ctx context.Context, ens *harness.Ensemble, n *harness.Node) (Swap, error) {
	rec := u.Record
	sw := Swap{Node: n.Name, Leader: n.State(ctx).Mode == harness.ModeLeader}
	if u.TrustEmpty {
		if err := n.SetConfig(ctx, "snapshot.trust.empty", "true"); err != nil {
			return sw, err
		}
	}
	mark, err := n.LogMark(ctx)
	if err != nil {
		return sw, err
	}
	role := "follower"
	if sw.Leader {
		role = "leader"
	}
	t0 := time.Now()
	if err := n.Upgrade(ctx, u.To); err != nil {
		return sw, err
	}
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	werr := ens.WaitServing(wctx, n)
	cancel()
	sw.Seconds, sw.Serving = time.Since(t0).Seconds(), werr == nil
	sw.start, sw.end = t0, time.Now()
	rec.FaultSpan(n.Name, t0, time.Now(), "%s (%s) replaced: %s → %s on the same dataDir", n.Name, role, u.From.Version, u.To.Version)
	if sw.Serving {
		rec.Add(reports.KindState, n.Name, "serving on %s %.1f s after its stop", u.To.Version, sw.Seconds)
		return sw, nil
	}
	exited, code, _ := n.Exited(ctx)
	if exited {
		sw.ExitCode = code
	}
	logs, _ := n.LogSince(ctx, mark)
	if l := firstLine(logs, NoSnapshot); l != "" {
		sw.Evidence = l
	} else if l := firstLine(logs, "ERROR"); l != "" {
		sw.Evidence = l
	}
	rec.Add(reports.KindState, n.Name, "not serving on %s after %.0f s (exited %v, code %d): %s", u.To.Version, sw.Seconds, exited, code, sw.Evidence)
	return sw, nil
}

const seedParent = "/zkchaos-seed"

func writeSeeds(ctx context.Context, ens *harness.Ensemble, count int) error {
	conn, err := ens.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.Create(seedParent, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
		return err
	}
	for i := range count {
		if _, err := conn.Create(fmt.Sprintf("%s/s%03d", seedParent, i), []byte(fmt.Sprint(i)), 0, zk.WorldACL(zk.PermAll)); err != nil {
			return fmt.Errorf("seed %d: %w", i, err)
		}
	}
	return nil
}

// readSeeds counts the seeds a fresh session reads back (after a sync) through
// every serving node.
func readSeeds(ctx context.Context, ens *harness.Ensemble, count int) (int, error) {
	intact := count
	states := ens.States(ctx)
	for _, n := range ens.Nodes() {
		if !states[n.MyID].Mode.Serving() {
			continue
		}
		conn, err := n.Connect(ctx)
		if err != nil {
			return 0, err
		}
		if _, err := conn.Sync(seedParent); err != nil {
			conn.Close()
			return 0, err
		}
		kids, _, err := conn.Children(seedParent)
		conn.Close()
		if err != nil {
			return 0, err
		}
		got := 0
		for i := range count {
			if slices.Contains(kids, fmt.Sprintf("s%03d", i)) {
				got++
			}
		}
		intact = min(intact, got)
	}
	return intact, nil
}

// Summary is one line per upgrade for the record and the report.
func (r UpgradeResult) Summary() string {
	var swaps []string
	for _, s := range r.Swaps {
		what := fmt.Sprintf("%.1f s, clients without an answer for %d ms at most", s.Seconds, s.Gap.Milliseconds())
		if !s.Serving {
			what = fmt.Sprintf("NOT serving (exit %d)", s.ExitCode)
		}
		role := ""
		if s.Leader {
			role = " (leader)"
		}
		swaps = append(swaps, s.Node+role+": "+what)
	}
	return fmt.Sprintf("swaps: %s; longest gap without an answer %v; %d ops, %d unknown; porcupine: %s; seeds intact %d",
		strings.Join(swaps, ", "), r.Stats.LongestGap.Round(time.Millisecond), r.Stats.Ops, r.Stats.ByClass[history.Unknown], r.Check, r.SeedsIntact)
}

// RecordTo puts the result's summary (after prefix) into rec's evidence and its
// figures — operations, unknown outcomes, checked, porcupine time, the longest gap,
// each swap's time and gap — into rec's figures.
func (r UpgradeResult) RecordTo(rec *reports.Record, prefix string) {
	rec.Evidence("", "%s%s", prefix, r.Summary())
	rec.Figure("longest_gap_ms", float64(r.Stats.LongestGap.Milliseconds()))
	rec.Figure("ops", float64(r.Stats.Ops))
	rec.Figure("unknown_ops", float64(r.Stats.ByClass[history.Unknown]))
	rec.Figure("ops_checked", float64(r.Check.Checked))
	rec.Figure("porcupine_ms", float64(r.Check.Duration.Microseconds())/1000)
	for _, s := range r.Swaps {
		rec.Figure(s.Node+"_swap_s", s.Seconds)
		rec.Figure(s.Node+"_swap_gap_ms", float64(s.Gap.Milliseconds()))
	}
}

// Completed says whether the upgrade went through: every node swapped and
// serving, the history linearizable, every seed intact.
func (u *Upgrade) Completed(r UpgradeResult) bool {
	return !r.Stopped && len(r.Swaps) == u.Nodes && r.Check.Linearizable && r.SeedsIntact == u.Seeds
}

// RecordChecks records the checks an upgrade must pass, from its result: the
// history linearizable (writes and sync+reads), every acknowledged seed write
// intact, and the workload running throughout. suffix tells a second attempt's
// checks apart (" (with the workaround)").
func (u *Upgrade) RecordChecks(rec *reports.Record, res UpgradeResult, suffix string) {
	rec.Check("linearizable"+suffix, res.Check.Linearizable, "", "porcupine on %d operations of %d sessions: %s", res.Check.Checked, u.Clients, res.Check)
	rec.Check("every acknowledged seed write intact"+suffix, res.SeedsIntact == u.Seeds, "", "%d of %d seed znodes read back after a sync through every serving node", res.SeedsIntact, u.Seeds)
	rec.Check("the workload ran throughout"+suffix, res.Stats.ByClass[history.OK] > 100, "", "%s", res.Stats)
}

// fixTrustEmpty is ZOOKEEPER-3056's documented workaround.
const fixTrustEmpty = "snapshot.trust.empty=true on each node as it is upgraded"

// UpgradePath is one rolling upgrade to qualify.
type UpgradePath struct {
	From, To    harness.Version
	Nodes       int
	LeaderFirst bool
	// Slow paths are left to `make slow`.
	Slow bool
}

// Name is the path's scenario name: upgrade-from-<A>[-leader-first][-N-nodes],
// recorded under the version it upgrades to.
func (p UpgradePath) Name() string {
	name := "upgrade-from-" + p.From.Version
	if p.LeaderFirst {
		name += "-leader-first"
	}
	if p.Nodes != 3 {
		name += fmt.Sprintf("-%d-nodes", p.Nodes)
	}
	return name
}

// Entry is the path as a catalogue entry, run on p.To: the upgrade under load,
// then — where a node did not start because its dataDir has no snapshot
// (ZOOKEEPER-3056) — again with the documented workaround. The checks that gate
// it: linearizable, every seed intact, and the upgrade completes (with its
// workaround where one is documented).
func (p UpgradePath) Entry() Entry {
	order := "followers first, the leader last"
	if p.LeaderFirst {
		order = "the leader first"
	}
	title := fmt.Sprintf("Rolling upgrade %s → %s on %d nodes, %s, under load", p.From.Version, p.To.Version, p.Nodes, order)
	e := Entry{Name: p.Name(), Title: title, Minutes: 2, DocumentedFix: fixTrustEmpty,
		Skip: func(v harness.Version) bool { return v.Version != p.To.Version }}
	if p.Slow {
		e.Labels = []string{"slow"}
	}
	e.Plan = func(r *Run) []Step {
		var first UpgradeResult
		var u *Upgrade
		newUpgrade := func(r *Run) *Upgrade {
			u := NewUpgrade(p.From, p.To, p.Nodes, r.Progress)
			u.LeaderFirst = p.LeaderFirst
			u.Record = r.Record
			u.Artifacts = r.Artifacts
			return u
		}
		checks := func(r *Run, u *Upgrade, res UpgradeResult, suffix string) { u.RecordChecks(r.Record, res, suffix) }
		return []Step{
			{Name: fmt.Sprintf("upgrades %s → %s node by node under a porcupine-checked workload", p.From.Version, p.To.Version), Phase: PhaseTrigger, Timeout: 8 * time.Minute, Do: func(ctx context.Context, r *Run) error {
				u = newUpgrade(r)
				r.step("Rolling upgrade "+p.From.Version+" → "+p.To.Version, "%d nodes, %s, each on its own data volume; %d sessions write and read throughout.", p.Nodes, order, u.Clients)
				var err error
				if first, err = u.Run(ctx); err != nil {
					return err
				}
				r.say("%s", first.Summary())
				first.RecordTo(r.Record, "")
				r.Record.Trigger(len(first.Swaps) > 0, "", "%d of %d nodes swapped to %s", len(first.Swaps), p.Nodes, p.To.Version)
				ev := "every node served on " + p.To.Version
				if first.Stopped {
					dead := first.Swaps[len(first.Swaps)-1]
					ev = fmt.Sprintf("%s does not start on %s (exit %d): %s", dead.Node, p.To.Version, dead.ExitCode, dead.Evidence)
				}
				r.Record.Failure(first.Stopped, "", "%s", ev)
				checks(r, u, first, "")
				return nil
			}},
			{Name: "completes, with the documented workaround where a node did not start (ZOOKEEPER-3056)", Phase: PhaseFix, Timeout: 8 * time.Minute, Do: func(ctx context.Context, r *Run) error {
				if !first.Stopped {
					r.Record.Check("the upgrade completes", u.Completed(first), "", "%d of %d nodes swapped and serving", len(first.Swaps), p.Nodes)
					return nil
				}
				dead := first.Swaps[len(first.Swaps)-1]
				if !strings.Contains(dead.Evidence, NoSnapshot) {
					r.Record.Check("the upgrade completes", false, dead.Node, "stopped at %s with no documented workaround: %s", dead.Node, dead.Evidence)
					return nil
				}
				r.step("Workaround", "ZOOKEEPER-3056: set snapshot.trust.empty=true on each node as it is upgraded, and start over from %s.", p.From.Version)
				w := newUpgrade(r)
				w.TrustEmpty = true
				rw, err := w.Run(ctx)
				if err != nil {
					return err
				}
				r.say("%s", rw.Summary())
				rw.RecordTo(r.Record, "with snapshot.trust.empty=true: ")
				r.Record.FixOutcome(fixTrustEmpty, status(w.Completed(rw)), "", "with the workaround: %s", rw.Summary())
				checks(r, w, rw, " (with the workaround)")
				r.Record.Check("the upgrade completes", w.Completed(rw), "", "with the workaround: %d of %d nodes swapped and serving", len(rw.Swaps), p.Nodes)
				r.Record.Note("%s → %s: a node whose dataDir has transaction logs but no snapshot does not start (%s); snapshot.trust.empty=true lets the upgrade through: %v", p.From.Version, p.To.Version, NoSnapshot, w.Completed(rw))
				return nil
			}},
		}
	}
	return e
}
