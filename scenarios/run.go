package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
	"github.com/zkchaos/zkchaos/reports"
)

// Narrator tells a person what a scenario run is doing: `zkchaos run` prints it,
// `zkchaos workshop` pauses between steps. Step starts a step — what is about to
// happen and what to look for; Say reports what was seen, as it appears.
type Narrator interface {
	Step(title, format string, a ...any)
	Say(format string, a ...any)
}

// Quiet is a Narrator that says nothing.
type Quiet struct{}

func (Quiet) Step(string, string, ...any) {}
func (Quiet) Say(string, ...any)          {}

// Entry is one scenario as the CLI runs it: the same step functions the Ginkgo
// specs assert on, ending in a record whose verdict is computed from the evidence.
type Entry struct {
	Name, Title string
	// Minutes is a rough duration per version on 2 cores, for progress messages.
	Minutes float64
	// Skip, when set, says the entry has nothing to do on a version.
	Skip func(v harness.Version) bool
	Run  func(ctx context.Context, v harness.Version, n Narrator, progress io.Writer) (*reports.Record, error)
}

// Catalog lists the scenarios `zkchaos run`, `qualify` and `workshop` know, in order.
var Catalog = []Entry{
	{Name: "F1", Title: "A restarted node never rejoins: election rounds (ZOOKEEPER-1514)", Minutes: 1.5, Run: RunF1},
	{Name: "F2", Title: "Transaction logs and snapshots fill dataDir/version-2", Minutes: 1.5, Run: RunF2},
	{Name: "F3", Title: "Some processes on one client host cannot connect (maxClientCnxns)", Minutes: 1, Run: RunF3},
	{Name: "F4", Title: "Have smaller server identifier: the smallest myid restarted last", Minutes: 4, Run: RunF4},
	{Name: "F5", Title: "A short-connection flood overflows the listen backlog of 50", Minutes: 2, Run: RunF5},
}

// Lookup finds a catalog entry by name (case-insensitive).
func Lookup(name string) (Entry, error) {
	var names []string
	for _, e := range Catalog {
		if strings.EqualFold(e.Name, name) {
			return e, nil
		}
		names = append(names, e.Name)
	}
	return Entry{}, fmt.Errorf("unknown scenario %q (known: %s, all)", name, strings.Join(names, ", "))
}

// terminate removes an ensemble at the end of a run, also after cancellation.
func terminate(ctx context.Context, ens *harness.Ensemble, err *error) {
	if ens != nil {
		*err = errors.Join(*err, ens.Terminate(context.WithoutCancel(ctx)))
	}
}

func sayFindings(n Narrator, fs []detect.Finding, only detect.Failure) bool {
	found := false
	for _, f := range fs {
		if f.Failure != only {
			continue
		}
		found = true
		n.Say("finding: %s on %s", f.Failure, f.Node)
		n.Say("why:     %s", f.Explanation)
		n.Say("remedy:  %s", f.Remedy)
	}
	return found
}

// RunF3 runs F3: one client host opens more sessions than maxClientCnxns allows.
func RunF3(ctx context.Context, v harness.Version, n Narrator, progress io.Writer) (rec *reports.Record, err error) {
	s := NewF3(v, progress)
	rec = s.Record
	n.Step("Symptom (F3)", "several copies of a process on one client host: some connect, others never do.")
	n.Step("Start a 3-node ensemble", "maxClientCnxns=%d on every node (ZooKeeper's default is 60).", s.Limit)
	t0 := time.Now()
	ens, err := s.Start(ctx)
	defer terminate(ctx, ens, &err)
	if err != nil {
		return rec, err
	}
	rec.SetNodes(nodeNames(ens)...)
	n.Say("serving after %.1f s: %s", time.Since(t0).Seconds(), strings.Join(ens.ClientAddrs(), ", "))

	n.Step("Trigger", "client host A (its own IP on the ensemble's network) starts %d processes, one session each, to %s. Look for: the last %d refused.",
		s.Processes, ens.Node(1).Name, s.Processes-s.Limit)
	if err := s.MarkLog(ctx); err != nil {
		return rec, err
	}
	before, _, err := s.Rejected(ctx)
	if err != nil {
		return rec, err
	}
	a, err := s.OpenSessions(ctx, "host-a", s.Processes, 1)
	if err != nil {
		return rec, err
	}
	n.Say("host A %s: sessions %v accepted, %v refused", a.Host, a.Accepted, a.Refused)
	rec.Add(reports.KindClient, "host-a", "sessions %v accepted, %v refused", a.Accepted, a.Refused)
	b, err := s.OpenSessions(ctx, "host-b", 1, 1)
	if err != nil {
		return rec, err
	}
	n.Say("host B %s: %d of 1 accepted — the limit is per client IP", b.Host, len(b.Accepted))

	n.Step("Evidence that the fault happened", "what the server wrote and counted (%s's log, mntr).", ens.Node(1).Name)
	lines, ips, _, err := s.Refusals(ctx)
	if err != nil {
		return rec, err
	}
	for _, l := range lines {
		n.Say("log: %s", l)
		rec.Evidence(ens.Node(1).Name, "%s", l)
	}
	if after, ok, err := s.Rejected(ctx); err == nil && ok {
		n.Say("mntr zk_connection_rejected: %d → %d", before, after)
		rec.Evidence(ens.Node(1).Name, "mntr zk_connection_rejected %d → %d", before, after)
	}
	rec.Verdict.Reproduced = len(a.Refused) == s.Processes-s.Limit && len(lines) > 0 && len(ips) == 1 && ips[0] == a.Host

	n.Step("Detector", "zkchaos diagnose's F3 detector on that log.")
	findings, err := s.Detect(ctx)
	if err != nil {
		return rec, err
	}
	rec.Verdict.Detected = sayFindings(n, findings, detect.F3)

	n.Step("Fix (documented)", "raise maxClientCnxns to %d with a rolling restart, one node at a time.", 2*s.Processes)
	if err := s.Release(ctx, a); err != nil {
		return rec, err
	}
	if err := s.RaiseLimit(ctx, 2*s.Processes); err != nil {
		return rec, err
	}
	if err := s.MarkLog(ctx); err != nil {
		return rec, err
	}
	again, err := s.OpenSessions(ctx, "host-a-after-fix", s.Processes, 1)
	if err != nil {
		return rec, err
	}
	after, err := s.Detect(ctx)
	if err != nil {
		return rec, err
	}
	rec.Verdict.Fixed = len(again.Accepted) == s.Processes && len(after) == 0
	rec.Verdict.Fix = fixStatus(rec.Verdict.Fixed)
	n.Say("host A again: %d of %d accepted; findings now: %d", len(again.Accepted), s.Processes, len(after))
	rec.Evidence("host-a", "after the fix: %d of %d sessions accepted", len(again.Accepted), s.Processes)
	return rec, nil
}

func fixStatus(worked bool) string {
	if worked {
		return reports.FixWorks
	}
	return reports.FixFails
}

func nodeNames(ens *harness.Ensemble) []string {
	var names []string
	for _, n := range ens.Nodes() {
		names = append(names, n.Name)
	}
	return names
}

// RunF1 runs F1: the real trigger (a quorum many rounds ahead, a follower restarted),
// then the votes quoted in docs/F1.md replayed by fake election peers, then the documented remedy.
func RunF1(ctx context.Context, v harness.Version, n Narrator, progress io.Writer) (rec *reports.Record, err error) {
	s := NewF1(v, progress)
	rec = s.Record
	n.Step("Symptom (F1, ZOOKEEPER-1514)", "a restarted node stays LOOKING; its log shows votes of a LEADING leader in round 831 while its own round is 1, and \"Notification time out\" doubling.")
	n.Step("Start a 3-node ensemble", "ZooKeeper %s. 1514 was fixed in 3.4.4: expect the real trigger NOT to keep the node out.", v.Version)
	ens, err := s.Start(ctx)
	defer func() { terminate(ctx, s.Ens, &err) }()
	if err != nil {
		return rec, err
	}
	rec.SetNodes(nodeNames(ens)...)
	n.Step("Trigger: push the quorum's round ahead", "restart the leader %d times; each election raises the round.", s.Elections)
	top, err := s.PushRound(ctx)
	if err != nil {
		return rec, err
	}
	n.Say("the leader now announces round 0x%x", top)
	n.Step("Restart a follower", "its logical clock starts again from 1. Look for: notifications with round 0x1 (its own) and 0x%x (the leader's).", top)
	r, err := s.RestartFollower(ctx, time.Minute)
	if err != nil {
		return rec, err
	}
	for _, l := range r.Evidence {
		n.Say("log: %s", l)
		rec.Evidence(r.Node.Name, "%s", l)
	}
	n.Say("%s serving again: %v after %.1f s (own round 0x%x, leader's 0x%x)", r.Node.Name, r.Serving, r.Took.Seconds(), r.OwnRound, r.PeerRound)
	gap := r.PeerRound > r.OwnRound && r.OwnRound >= 1
	rec.Figure("rejoin_seconds", r.Took.Seconds())
	if gap && r.Serving {
		rec.Note("%s: a node restarted into a quorum %d rounds ahead rejoined in %.1f s: ZOOKEEPER-1514 is fixed here", v.Version, r.PeerRound-r.OwnRound, r.Took.Seconds())
	}
	n.Step("Documented remedy", "restart the leader.")
	old, err := s.RestartLeader(ctx)
	if err != nil {
		return rec, err
	}
	rec.Verdict.Fixed = true
	rec.Verdict.Fix = reports.FixWorks
	n.Say("%s restarted; every node serves", old.Name)
	terminate(ctx, s.Ens, &err)
	s.Ens = nil
	if err != nil {
		return rec, err
	}

	n.Step("Replay the reported votes", "one real server (myid 1) and two fake election peers (myids 2 and 3) that speak ZooKeeper %s's election protocol and answer with the exact votes quoted in docs/F1.md: leader 3 LEADING round 831, node 2 FOLLOWING round 832, in the 3.3 wire format. Look for: does the server follow?", v.Version)
	res, err := s.Replay(ctx, ReplaySeed28, 15*time.Second)
	if err != nil {
		return rec, err
	}
	for _, l := range res.Lines[:min(2, len(res.Lines))] {
		n.Say("log: %s", l)
		rec.Evidence("zk1", "%s", l)
	}
	stuck := res.Decided == "" && !res.Serving && len(res.Received) > 0
	n.Say("decided: %q, serving: %v", res.Decided, res.Serving)
	// The verdict is the real trigger's (as in the Ginkgo suite): 1514 itself did
	// not keep the node out. The replay's outcome is evidence and a note.
	rec.Verdict.Reproduced = gap && !r.Serving
	if stuck {
		rec.Note("%s: the votes quoted in docs/F1.md, byte for byte (3.3 format), keep the server LOOKING: receivers derive each peer's epoch from its zxid (0x11 vs 0x12), and disagreeing votes never form a quorum — not the round", v.Version)
	}
	n.Step("Detector", "the F1 detector on the replayed server's log.")
	if sayFindings(n, res.Findings, detect.F1) {
		rec.Evidence("zk1", "the F1 detector flags the replayed server's log (and says 1514 is fixed in %s)", v.Version)
	}
	terminate(ctx, s.Ens, &err)
	s.Ens = nil
	if err != nil {
		return rec, err
	}

	n.Step("Replay with one epoch", "the same votes in the server's own format, both peers with epoch 0x12 — what a running 3.4.6+ quorum sends. Look for: FOLLOWERINFO at the fake leader's quorum port.")
	res, err = s.Replay(ctx, ReplaySeed, 15*time.Second)
	if err != nil {
		return rec, err
	}
	if res.FollowerInfo != nil {
		n.Say("the server followed leader 3: FOLLOWERINFO from sid %d", res.FollowerInfo.SID)
		rec.Evidence("zk1", "one epoch: decided %s, FOLLOWERINFO from sid %d at the fake leader", res.Decided, res.FollowerInfo.SID)
	} else {
		n.Say("the server did not follow (decided %q)", res.Decided)
	}
	return rec, nil
}

// RunF2 runs F2: logs and snapshots pile up without autopurge; the fix purges them.
func RunF2(ctx context.Context, v harness.Version, n Narrator, progress io.Writer) (rec *reports.Record, err error) {
	s := NewF2(v, progress)
	rec = s.Record
	n.Step("Symptom (F2)", "dataDir/version-2 grows until the disk is full; nobody purges it.")
	n.Step("Start a 3-node ensemble", "snapCount=%d (a snapshot every ~%d transactions), autopurge off (the default).", s.SnapCount, s.SnapCount)
	ens, err := s.Start(ctx)
	defer terminate(ctx, ens, &err)
	if err != nil {
		return rec, err
	}
	rec.SetNodes(nodeNames(ens)...)
	before, err := s.Usages(ctx)
	if err != nil {
		return rec, err
	}
	n.Step("Trigger", "write %d znodes of %d bytes. Look for: snapshots and logs piling up on every node.", s.Writes, s.Size)
	w, err := s.Write(ctx)
	if err != nil {
		return rec, err
	}
	grown, err := s.Usages(ctx)
	if err != nil {
		return rec, err
	}
	rec.Verdict.Reproduced = true
	for _, nd := range ens.Nodes() {
		b, a := before[nd.MyID], grown[nd.MyID]
		n.Say("%s: %s → %s", nd.Name, b, a)
		rec.Evidence(nd.Name, "before %d writes: %s; after: %s", w.Written, b, a)
		rec.Verdict.Reproduced = rec.Verdict.Reproduced && a.Snapshots > 3 && a.Allocated > b.Allocated
	}
	n.Step("Detector", "the F2 detector on each node's dataDir listing and zoo.cfg.")
	findings, err := s.Detect(ctx)
	if err != nil {
		return rec, err
	}
	rec.Verdict.Detected = sayFindings(n, findings, detect.F2)
	n.Step("Fix (documented)", "autopurge.purgeInterval=1, autopurge.snapRetainCount=3, rolling restart (the purge runs at start).")
	if err := s.EnableAutopurge(ctx, 3); err != nil {
		return rec, err
	}
	after, err := s.Usages(ctx)
	if err != nil {
		return rec, err
	}
	intact, err := s.ReadAll(ctx, w.Written)
	if err != nil {
		return rec, err
	}
	fixed := true
	for _, nd := range ens.Nodes() {
		a := after[nd.MyID]
		since, err := SnapshotsSincePurge(ctx, nd)
		if err != nil {
			return rec, err
		}
		ok := a.Snapshots <= 3+since && a.Allocated < grown[nd.MyID].Allocated && intact[nd.Name] == w.Written
		fixed = fixed && ok
		n.Say("%s: %s; %d of %d znodes read back", nd.Name, a, intact[nd.Name], w.Written)
		rec.Evidence(nd.Name, "after the fix: %s (was %s); %d of %d znodes intact", a, grown[nd.MyID], intact[nd.Name], w.Written)
	}
	rest, err := s.Detect(ctx)
	if err != nil {
		return rec, err
	}
	rec.Verdict.Fixed = fixed && len(rest) == 0
	rec.Verdict.Fix = fixStatus(rec.Verdict.Fixed)
	return rec, nil
}

// RunF4 runs F4's stuck case: myid 1 restarted last while its larger peers cannot
// dial it back (a one-way drop), then the remedies in turn.
func RunF4(ctx context.Context, v harness.Version, n Narrator, progress io.Writer) (rec *reports.Record, err error) {
	rec = reports.New("F4", "Have smaller server identifier: the smallest myid restarted last", v.Version)
	const short = 45 * time.Second
	n.Step("Symptom (F4)", "a node logs \"Have smaller server identifier, so dropping the connection\" and never serves; the reported cause is restarting the smallest myid last.")
	n.Step("Why", "election connections are kept only when the larger id dialled: myid 1 dials its peers, drops its own connections and waits for them to dial back. A plain restart in any order works; it fails when the larger peers cannot dial back.")
	n.Step("Trigger", "restart zk3, zk2, then zk1 (smallest last); zk1's firewall drops new connections to its election port from zk2 and zk3. Look for: zk1 stuck LOOKING, \"Have smaller server identifier\" on zk1, \"Cannot open channel to 1\" on its peers.")
	ens, c, err := F4RestartOrder(ctx, v, 3, []int{3, 2, 1}, F4Drop, short, rec, progress)
	defer terminate(ctx, ens, &err)
	if err != nil {
		return rec, err
	}
	rec.SetNodes(nodeNames(ens)...)
	for _, e := range c.Evidence {
		n.Say("%s", e)
		rec.Evidence("", "%s", e)
	}
	n.Say("stuck: %v", c.Stuck)
	rec.Verdict.Reproduced = len(c.Stuck) == 1 && c.Stuck[0] == 1
	n.Step("Detector", "the F4 detector on the logs since the restarts.")
	rec.Verdict.Detected = sayFindings(n, c.Findings, detect.F4)
	if !rec.Verdict.Reproduced {
		rec.Note("%s: myid 1 rejoined (%.1f s): not stuck", v.Version, c.Seconds)
		return rec, nil
	}
	n.Step("Remedies", "first the documented one (leave it, restart the others in ascending myid), then restarting zk1 alone, then removing the cause (the firewall rules).")
	rs, err := TryRemedies(ctx, ens, F4Drop, short, rec)
	if err != nil {
		return rec, err
	}
	for _, r := range rs {
		n.Say("%q: worked %v (%.1f s)", r.Name, r.Worked, r.Seconds)
		rec.Evidence("zk1", "remedy %q: worked %v after %.1f s", r.Name, r.Worked, r.Seconds)
	}
	documented := len(rs) > 0 && rs[0].Worked
	rec.Verdict.Fixed = documented
	rec.Verdict.Fix = fixStatus(documented)
	if !documented && len(rs) > 0 && rs[len(rs)-1].Worked {
		rec.Note("%s: the documented remedy did not bring myid 1 back; %q did", v.Version, rs[len(rs)-1].Name)
	}
	return rec, nil
}

// RunF5 runs F5: the reported flood on the defaults, then each documented fix.
func RunF5(ctx context.Context, v harness.Version, n Narrator, progress io.Writer) (*reports.Record, error) {
	s := NewF5(v, progress)
	rec := s.Record
	rec.SetNodes("zk1", "zk2", "zk3")
	n.Step("Symptom (F5)", "at 6-8K short connections per second some clients cannot connect; netstat -s counts \"times the listen queue of a socket overflowed\".")
	var runs []F5Run
	for i, variant := range F5Variants() {
		title := "Trigger: " + variant.Name
		if i > 0 {
			title = "Fix: " + variant.Name
		}
		n.Step(title, "a %d/s flood for %s from one client host at zk1. Look for: the accept queue (ss Send-Q) and TcpExt ListenOverflows.", s.Rate, s.Duration)
		r, err := s.Run(ctx, variant)
		if err != nil {
			return rec, err
		}
		runs = append(runs, r)
		n.Say("backlog %d, ListenOverflows +%d, client failures %d of %d", r.Backlog, r.Overflows, r.ClientFailures, r.Requests)
		rec.Evidence("zk1", "%s: backlog %d, ListenOverflows +%d, %d of %d attempts failed", variant.Name, r.Backlog, r.Overflows, r.ClientFailures, r.Requests)
		rec.Figure(variant.Name+": ListenOverflows delta", float64(r.Overflows))
		switch i {
		case 0:
			rec.Verdict.Reproduced = r.Backlog == 50 && r.Overflows > 0
			n.Step("Detector", "the F5 detector on the server's netstat counters.")
			rec.Verdict.Detected = sayFindings(n, r.Findings, detect.F5)
		case 2:
			if !v.ClientPortListenBacklog {
				rec.Note("clientPortListenBacklog (ZOOKEEPER-974, 3.6.0+) is not available in %s: the backlog stays %d", v.Version, r.Backlog)
			}
		case 3:
			rec.Verdict.Fixed = r.Overflows == 0 && r.Reuse != nil && r.Reuse.Connected == r.Reuse.Sessions
			rec.Verdict.Fix = fixStatus(rec.Verdict.Fixed)
		}
	}
	rec.Note("fix table:\n%s", F5Table(v.Version, runs))
	return rec, nil
}

// track gives rec a lane per node of ens and records each node's state changes
// (srvr probes every 500 ms) until the ensemble is terminated.
func track(ens *harness.Ensemble, rec *reports.Record) {
	if ens == nil || rec == nil {
		return
	}
	// One record may span several ensembles (F4's experiment, F1's replays): keep
	// every lane seen.
	names := append([]string(nil), rec.Nodes...)
	for _, n := range nodeNames(ens) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	rec.SetNodes(names...)
	ens.Watch(500*time.Millisecond, func(n *harness.Node, m harness.Mode) { rec.State(n.Name, string(m)) })
}
