package scenarios

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
	"github.com/zkchaos/zkchaos/harness/load"
	"github.com/zkchaos/zkchaos/reports"
)

// F2 — transaction logs and snapshots fill dataDir/version-2 because automatic
// purging is off by default (docs/F2.md). Fix: autopurge.purgeInterval=1,
// autopurge.snapRetainCount=3.
type F2 struct {
	Version harness.Version
	// SnapCount is small so that a bounded load writes many snapshots.
	SnapCount int
	// Writes znodes of Size bytes are the trigger.
	Writes, Size int
	Record       *reports.Record
	Ens          *harness.Ensemble

	progress io.Writer
}

// Parent is where the writer creates its znodes.
const f2Parent = "/f2"

// NewF2 prepares the scenario on a version.
func NewF2(v harness.Version, progress io.Writer) *F2 {
	return &F2{
		Version: v, SnapCount: 100, Writes: 3000, Size: 1024, progress: progress,
		Record: reports.New("F2", "Transaction logs and snapshots fill dataDir/version-2", v.Version),
	}
}

// Start runs a 3-node ensemble with a small snapCount and autopurge off (the default).
func (s *F2) Start(ctx context.Context, opts ...harness.Option) (*harness.Ensemble, error) {
	s.Record.Add(reports.KindStep, "", "ensemble with snapCount=%d (autopurge off unless configured)", s.SnapCount)
	opts = append([]harness.Option{harness.WithVersion(s.Version.Version),
		harness.WithConfig("snapCount", strconv.Itoa(s.SnapCount)), harness.WithProgress(s.progress)}, opts...)
	ens, err := harness.Run(ctx, opts...)
	s.Ens = ens
	if err == nil {
		track(ens, s.Record)
	}
	return ens, err
}

// Usage is one node's version-2 directory.
type Usage struct {
	Node                string
	Snapshots, Logs     int
	Apparent, Allocated int64 // bytes: file sizes (preallocated logs count whole) and disk blocks
	Listing             detect.DataDir
}

func (u Usage) String() string {
	return fmt.Sprintf("%s: %d snapshots, %d logs, %s apparent, %s allocated",
		u.Node, u.Snapshots, u.Logs, mib(u.Apparent), mib(u.Allocated))
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// DataDirUsage lists a node's /data/version-2 from inside the node.
func DataDirUsage(ctx context.Context, n *harness.Node) (Usage, error) {
	u := Usage{Node: n.Name}
	res, err := n.Exec(ctx, "find", "/data/version-2", "-type", "f", "-printf", "%s %b %p\n")
	if err != nil {
		return u, err
	}
	var listing strings.Builder
	for line := range strings.SplitSeq(strings.TrimSpace(res.Stdout), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		size, _ := strconv.ParseInt(f[0], 10, 64)
		blocks, _ := strconv.ParseInt(f[1], 10, 64)
		u.Apparent += size
		u.Allocated += blocks * 512 // find's %b counts 512-byte blocks
		fmt.Fprintf(&listing, "%s %s\n", f[0], f[2])
	}
	u.Listing, err = detect.ParseDataDirListing(n.Name, strings.NewReader(listing.String()))
	if err != nil {
		return u, err
	}
	u.Listing.Path = "/data/version-2"
	for _, f := range u.Listing.Files {
		switch f.Kind() {
		case "snapshot":
			u.Snapshots++
		case "log":
			u.Logs++
		}
	}
	return u, nil
}

// Usages lists every running node's version-2.
func (s *F2) Usages(ctx context.Context) (map[int]Usage, error) {
	out := map[int]Usage{}
	for _, n := range s.Ens.Nodes() {
		u, err := DataDirUsage(ctx, n)
		if err != nil {
			return nil, err
		}
		out[n.MyID] = u
	}
	return out, nil
}

// Write is the trigger: Writes znodes of Size bytes, 8 requests in flight.
func (s *F2) Write(ctx context.Context) (load.WriteResult, error) {
	conn, err := s.Ens.Connect(ctx)
	if err != nil {
		return load.WriteResult{}, err
	}
	defer conn.Close()
	s.Record.Add(reports.KindStep, "", "writing %d znodes of %d bytes", s.Writes, s.Size)
	w := &load.Writer{Parent: f2Parent, N: s.Writes, Size: s.Size, Workers: 8, MaxFailures: 50}
	r := w.Run(ctx, conn)
	s.Record.Add(reports.KindClient, "", "wrote %d znodes in %.1f s (%.0f/s), %d failed %v",
		r.Written, r.Duration.Seconds(), r.OpsPerSec(), r.Failed, r.Errors)
	return r, nil
}

// Detect runs the detectors on every node's listing with its zoo.cfg.
func (s *F2) Detect(ctx context.Context) ([]detect.Finding, error) {
	var findings []detect.Finding
	for _, n := range s.Ens.Nodes() {
		u, err := DataDirUsage(ctx, n)
		if err != nil {
			return nil, err
		}
		cfg, err := detect.ParseConfig(strings.NewReader(n.Config()))
		if err != nil {
			return nil, err
		}
		fs := detect.Detect(detect.Observations{DataDirs: []detect.DataDir{u.Listing}, Config: cfg})
		for _, f := range fs {
			s.Record.Add(reports.KindFinding, f.Node, "%s: %s", f.Failure, strings.Join(f.Evidence, " | "))
		}
		findings = append(findings, fs...)
	}
	return findings, nil
}

// EnableAutopurge is the documented fix: a rolling restart with
// autopurge.purgeInterval=1 and autopurge.snapRetainCount=retain. The purge task
// also runs once at start-up, which is what lets a test see it within minutes
// (purgeInterval is in hours). Each node must be serving and purged before the next.
func (s *F2) EnableAutopurge(ctx context.Context, retain int) error {
	s.Record.Add(reports.KindFix, "", "rolling restart with autopurge.purgeInterval=1, autopurge.snapRetainCount=%d", retain)
	changes := map[string]string{"autopurge.purgeInterval": "1", "autopurge.snapRetainCount": strconv.Itoa(retain)}
	return s.Ens.RollingRestart(ctx, changes, 90*time.Second, func(ctx context.Context, n *harness.Node, mark int) error {
		if err := n.WaitLog(ctx, mark, purgeCompleted); err != nil {
			return err
		}
		u, err := DataDirUsage(ctx, n)
		if err != nil {
			return err
		}
		s.Record.Add(reports.KindState, n.Name, "restarted with autopurge on, start-up purge completed; %s", u)
		return nil
	})
}

// purgeCompleted is what DatadirCleanupManager logs when a purge ends (3.4–3.9).
const purgeCompleted = "Purge task completed."

// SnapshotsSincePurge counts the snapshots the node wrote after its last completed
// purge (a follower that rejoins writes one when it syncs with the leader), so that
// the retained count can be checked exactly: retain + these.
func SnapshotsSincePurge(ctx context.Context, n *harness.Node) (int, error) {
	logs, err := n.Logs(ctx)
	if err != nil {
		return 0, err
	}
	i := strings.LastIndex(logs, purgeCompleted)
	if i < 0 {
		return 0, fmt.Errorf("%s: no %q in the log", n, purgeCompleted)
	}
	return strings.Count(logs[i:], "Snapshotting: "), nil
}

// ReadAll reads back every znode the trigger wrote, through every node (each after
// a sync, as a linearizable read must), and returns how many were intact.
func (s *F2) ReadAll(ctx context.Context, written int) (map[string]int, error) {
	intact := map[string]int{}
	for _, n := range s.Ens.Nodes() {
		conn, err := n.Connect(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := conn.Sync(f2Parent); err != nil {
			conn.Close()
			return nil, fmt.Errorf("%s: sync: %w", n, err)
		}
		ok, err := readBack(conn, written, s.Size)
		conn.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		intact[n.Name] = ok
	}
	return intact, nil
}

func readBack(conn *zk.Conn, n, size int) (int, error) {
	ok := 0
	for i := range n {
		data, _, err := conn.Get(load.Path(f2Parent, i))
		if err != nil {
			return ok, fmt.Errorf("get %s: %w", load.Path(f2Parent, i), err)
		}
		if len(data) == size {
			ok++
		}
	}
	return ok, nil
}

// Death is a node that exited during a fill.
type Death struct {
	Node        *harness.Node
	After       time.Duration // since the load started
	AfterWrites int64         // znodes written when it was seen dead
	ExitCode    int
}

// FillResult is what a load that fills the disk did.
type FillResult struct {
	Deaths []Death // in the order they were seen
	// QuorumLost: a majority died, or no leader served for quorumLostAfter.
	QuorumLost      bool
	QuorumLostAfter time.Duration // since the load started
	load.WriteResult
}

// quorumLostAfter is how long the ensemble must go without serving before a fill
// calls the quorum lost: on 3.4.13 one node's death left the two others, their disks
// as full, cycling through elections that never finished.
const quorumLostAfter = 10 * time.Second

// Fill writes up to maxWrites znodes of size bytes (8 in flight) while watching every
// node; it ends when a majority of the nodes died, the writes are done, or they keep
// failing, at most after 3 minutes.
func (s *F2) Fill(ctx context.Context, maxWrites, size int) (FillResult, error) {
	conn, err := s.Ens.Connect(ctx)
	if err != nil {
		return FillResult{}, err
	}
	defer conn.Close()
	// The load goes on through one node's death (the client moves to another
	// server); it ends when the quorum is gone (the monitor cancels), after
	// maxWrites, or after 1000 failed creates.
	w := &load.Writer{Parent: "/fill", N: maxWrites, Size: size, Workers: 8, MaxFailures: 1000, Backoff: 100 * time.Millisecond}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	start := time.Now()
	var res FillResult
	seen := map[int]bool{}
	check := func() {
		for _, n := range s.Ens.Nodes() {
			if seen[n.MyID] {
				continue
			}
			exited, code, err := n.Exited(ctx)
			if err != nil || !exited {
				continue
			}
			seen[n.MyID] = true
			d := Death{Node: n, After: time.Since(start), AfterWrites: w.Written.Load(), ExitCode: code}
			res.Deaths = append(res.Deaths, d)
			s.Record.Add(reports.KindState, n.Name, "exited with code %d after %d writes (%.1f s into the load)", code, d.AfterWrites, d.After.Seconds())
		}
		if len(res.Deaths) > len(s.Ens.Nodes())/2 {
			res.QuorumLost, res.QuorumLostAfter = true, time.Since(start)
			cancel() // the quorum is gone: writing on only times out
		}
	}
	var notServing time.Time
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Every 250 ms: each round inspects every container and, once a node died,
		// probes the others (a srvr each).
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
				check()
				if len(res.Deaths) == 0 || res.QuorumLost {
					continue
				}
				if err := s.Ens.Serving(wctx); err == nil {
					notServing = time.Time{}
				} else if notServing.IsZero() {
					notServing = time.Now()
				} else if time.Since(notServing) >= quorumLostAfter {
					res.QuorumLost, res.QuorumLostAfter = true, notServing.Sub(start)
					s.Record.Add(reports.KindState, "", "no leader serves since %.1f s into the load: %v", res.QuorumLostAfter.Seconds(), err)
					cancel()
				}
			}
		}
	}()
	s.Record.Add(reports.KindStep, "", "writing up to %d znodes of %d bytes onto the small disk", maxWrites, size)
	res.WriteResult = w.Run(wctx, conn)
	cancel()
	<-done
	check()
	s.Record.Add(reports.KindClient, "", "wrote %d znodes in %.1f s, %d failed %v", res.Written, res.Duration.Seconds(), res.Failed, res.Errors)
	return res, nil
}

// fixAutopurge is F2's documented fix.
const fixAutopurge = "autopurge.purgeInterval=1, autopurge.snapRetainCount=3"

// planF2 is F2's catalogue entry: logs and snapshots pile up without autopurge;
// the fix purges them and loses nothing.
func planF2(r *Run) []Step {
	s := NewF2(r.Version, r.Progress)
	s.Record = r.Record
	var before, grown map[int]Usage
	var written int
	return []Step{
		{Name: "starts a 3-node ensemble with autopurge off (the default)", Phase: PhaseStart, Timeout: 2 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Symptom (F2)", "dataDir/version-2 grows until the disk is full; nobody purges it.")
			r.step("Start a 3-node ensemble", "snapCount=%d (a snapshot every ~%d transactions), autopurge off (the default).", s.SnapCount, s.SnapCount)
			ens, err := s.Start(ctx)
			r.Adopt(ens)
			return err
		}},
		{Name: "grows on every node under a bounded write load while autopurge is off", Phase: PhaseTrigger, Timeout: 3 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Trigger", "write %d znodes of %d bytes. Look for: snapshots and logs piling up on every node.", s.Writes, s.Size)
			var err error
			if before, err = s.Usages(ctx); err != nil {
				return err
			}
			w, err := s.Write(ctx)
			if err != nil {
				return err
			}
			written = w.Written
			r.Record.Trigger(w.Written == s.Writes && w.Failed == 0, "", "%d of %d writes of %d bytes acknowledged, %d failed %v", w.Written, s.Writes, s.Size, w.Failed, w.Errors)
			r.Record.Figure("write_ops_per_s", w.OpsPerSec())
			if grown, err = s.Usages(ctx); err != nil {
				return err
			}
			for _, n := range s.Ens.Nodes() {
				b, a := before[n.MyID], grown[n.MyID]
				r.say("%s: %s → %s", n.Name, b, a)
				r.Record.Failure(a.Snapshots > 3 && a.Apparent > b.Apparent && a.Allocated > b.Allocated, n.Name,
					"%s before %d writes: %s; after: %s (more than 3 snapshots kept, and growing)", n.Name, written, b, a)
			}
			a, b := grown[1], before[1]
			k := float64(max(written, 1)) / 1000
			r.Record.Figure("growth_apparent_MiB_per_1000_writes", float64(a.Apparent-b.Apparent)/(1<<20)/k)
			r.Record.Figure("growth_allocated_MiB_per_1000_writes", float64(a.Allocated-b.Allocated)/(1<<20)/k)
			r.Record.Figure("snapshots_after_load", float64(a.Snapshots))
			return nil
		}},
		{Name: "is recognised by the F2 detector on every node's listing and zoo.cfg", Phase: PhaseDetect, Timeout: time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Detector", "the F2 detector on each node's dataDir listing and zoo.cfg.")
			findings, err := s.Detect(ctx)
			if err != nil {
				return err
			}
			r.sayFindings(findings, detect.F2)
			for _, n := range s.Ens.Nodes() {
				f := foundOn(findings, detect.F2, n.Name)
				ok := f != nil && slices.ContainsFunc(f.Evidence, func(e string) bool { return strings.Contains(e, "purging is disabled") })
				r.Record.Finding(ok, n.Name, "the F2 detector on %s: %s; says purging is disabled: %v", n.Name, gradeOn(findings, detect.F2, n.Name), ok)
			}
			return nil
		}},
		{Name: "is fixed by autopurge: at most 3 snapshots remain, nothing is lost, the detector is clean", Phase: PhaseFix, Timeout: 5 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Fix (documented)", "autopurge.purgeInterval=1, autopurge.snapRetainCount=3, rolling restart (the purge runs at start).")
			if err := s.EnableAutopurge(ctx, 3); err != nil {
				return err
			}
			after, err := s.Usages(ctx)
			if err != nil {
				return err
			}
			intact, err := s.ReadAll(ctx, written)
			if err != nil {
				return err
			}
			rest, err := s.Detect(ctx)
			if err != nil {
				return err
			}
			works := len(rest) == 0
			var ev []string
			for _, n := range s.Ens.Nodes() {
				a := after[n.MyID]
				since, err := SnapshotsSincePurge(ctx, n)
				if err != nil {
					return err
				}
				if since > 0 {
					r.Record.Note("%s wrote %d snapshot(s) after its start-up purge (a follower snapshots when it syncs with the leader): %d on disk until the next purge, 1 h later", n.Name, since, a.Snapshots)
				}
				ok := a.Snapshots <= 3+since && a.Allocated < grown[n.MyID].Allocated && intact[n.Name] == written
				works = works && ok
				r.say("%s: %s; %d of %d znodes read back", n.Name, a, intact[n.Name], written)
				ev = append(ev, fmt.Sprintf("%s: %s (was %s), %d of %d znodes intact", n.Name, a, grown[n.MyID], intact[n.Name], written))
			}
			r.Record.Figure("allocated_MiB_after_purge", float64(after[1].Allocated)/(1<<20))
			r.Record.Figure("apparent_MiB_after_purge", float64(after[1].Apparent)/(1<<20))
			r.Record.FixOutcome(fixAutopurge, status(works), "", "after the rolling restart: %s; findings now: %d", strings.Join(ev, "; "), len(rest))
			return nil
		}},
	}
}

// planF2Disk is where F2 ends: the dataDir on a small disk fills, nodes die one
// after another ("No space left on device") until the quorum is lost; then the
// same burst with autopurge on.
func planF2Disk(r *Run) []Step {
	const disk, writes, size = "150m", 20000, 2048
	s := NewF2(r.Version, r.Progress)
	s.Record = r.Record
	var unpurged FillResult
	return []Step{
		{Name: "kills nodes with a full disk until the quorum is lost", Phase: PhaseTrigger, Timeout: 5 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Trigger", "a 3-node ensemble whose dataDir is a %s disk; up to %d writes of %d bytes. Look for: nodes exiting with \"No space left on device\".", disk, writes, size)
			ens, err := s.Start(ctx, harness.WithTmpfs("/data", disk))
			r.Adopt(ens)
			if err != nil {
				return err
			}
			if unpurged, err = s.Fill(ctx, writes, size); err != nil {
				return err
			}
			r.Record.Trigger(unpurged.Written > 0, "", "%d writes of %d bytes acknowledged on a %s dataDir before the load stopped (%d errors)", unpurged.Written, size, disk, len(unpurged.Errors))
			var logs string
			if len(unpurged.Deaths) > 0 {
				first := unpurged.Deaths[0]
				if logs, err = first.Node.Logs(ctx); err != nil {
					return err
				}
				for _, d := range unpurged.Deaths {
					r.Record.Evidence(d.Node.Name, "exited with code %d after %d writes, %.1f s into the load", d.ExitCode, d.AfterWrites, d.After.Seconds())
				}
				r.Record.Figure("writes_until_first_death", float64(first.AfterWrites))
				r.Record.Figure("seconds_until_first_death", first.After.Seconds())
			}
			servingErr := ens.Serving(ctx)
			died := len(unpurged.Deaths) > 0 && unpurged.Deaths[0].ExitCode != 0 && strings.Contains(logs, "No space left on device")
			r.Record.Failure(died && unpurged.QuorumLost && servingErr != nil, "", "%d of 3 nodes exited (the first with \"No space left on device\": %v); quorum lost %v, %.1f s into the load; serving now: %v",
				len(unpurged.Deaths), died, unpurged.QuorumLost, unpurged.QuorumLostAfter.Seconds(), servingErr == nil)
			if died {
				first := unpurged.Deaths[0].Node.Name
				nl, err := detect.ScanLog(first, strings.NewReader(logs))
				if err != nil {
					return err
				}
				fs := detect.Detect(detect.Observations{Logs: []*detect.NodeLog{nl}})
				f := foundOn(fs, detect.F2, first)
				ok := f != nil && slices.ContainsFunc(f.Evidence, func(e string) bool { return strings.Contains(e, "No space left on device") })
				r.Record.Finding(ok, first, "the F2 detector on %s's log: %s; cites \"No space left on device\": %v", first, gradeOn(fs, detect.F2, first), ok)
			}
			return r.End(ctx, ens)
		}},
		// purgeInterval is in hours: a burst that fills the disk in seconds is over
		// before the first scheduled purge. The claim "with autopurge on, the same
		// load survives" is measured here.
		{Name: "tries autopurge on the same burst: it runs every hour, the disk fills in seconds", Phase: PhaseFix, Timeout: 5 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Fix (documented)", "the same disk and load with %s.", fixAutopurge)
			if len(unpurged.Deaths) == 0 {
				r.say("nothing to fix: no node died of the full disk")
				return nil
			}
			r.Record.Add(reports.KindFix, "", "same disk and load, %s", fixAutopurge)
			ens, err := s.Start(ctx, harness.WithTmpfs("/data", disk),
				harness.WithConfig("autopurge.purgeInterval", "1"), harness.WithConfig("autopurge.snapRetainCount", "3"))
			r.Adopt(ens)
			if err != nil {
				return err
			}
			purged, err := s.Fill(ctx, writes, size)
			if err != nil {
				return err
			}
			fill := unpurged.Deaths[0].After
			if len(purged.Deaths) > 0 {
				d := purged.Deaths[0]
				r.Record.FixOutcome(fixAutopurge, reports.FixFails, d.Node.Name, "with autopurge.purgeInterval=1 (hours): %s exited with code %d after %d writes", d.Node.Name, d.ExitCode, d.AfterWrites)
				r.Record.Note("autopurge does not save a disk filled by a burst: the first node died after %.0f s, the purge runs every hour (and once at start-up); size the disk for the growth within one interval, or purge more often (purgeInterval is a whole number of hours)", fill.Seconds())
			} else {
				r.Record.FixOutcome(fixAutopurge, reports.FixWorks, "", "with autopurge on, %d writes and no node died", purged.Written)
			}
			return r.End(ctx, ens)
		}},
	}
}

// planF2Prealloc answers what users of small disks ask about preAllocSize:
// transaction logs are preallocated in preAllocSize steps (64 MiB by default,
// in KiB in zoo.cfg), sparse. A measurement: its checks are the result.
func planF2Prealloc(r *Run) []Step {
	var def, small Usage
	measure := func(ctx context.Context, r *Run, opts ...harness.Option) (Usage, error) {
		s := NewF2(r.Version, r.Progress)
		s.Record = r.Record
		ens, err := s.Start(ctx, opts...)
		r.Adopt(ens)
		if err != nil {
			return Usage{}, err
		}
		w, err := s.Write(ctx)
		if err != nil {
			return Usage{}, err
		}
		if w.Failed > 0 {
			return Usage{}, fmt.Errorf("%d of %d writes failed: %v", w.Failed, s.Writes, w.Errors)
		}
		u, err := DataDirUsage(ctx, ens.Node(1))
		if err != nil {
			return u, err
		}
		return u, r.End(ctx, ens)
	}
	return []Step{
		{Name: "measures the footprint of 3,000 writes with the default preAllocSize (64 MiB)", Phase: PhaseTrigger, Timeout: 2 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Default preAllocSize", "3,000 writes of 1 KiB; the transaction logs are preallocated in 64 MiB steps.")
			var err error
			if def, err = measure(ctx, r); err != nil {
				return err
			}
			r.Record.Check("each log is at least one 64 MiB step long", def.Logs > 1 && def.Apparent >= int64(def.Logs)*64<<20, "zk1", "preAllocSize default (65536 KiB): %s", def)
			r.Record.Figure("apparent_MiB_default", float64(def.Apparent)/(1<<20))
			r.Record.Figure("allocated_MiB_default", float64(def.Allocated)/(1<<20))
			return nil
		}},
		{Name: "shrinks what ls shows with preAllocSize=4096, not what the disk holds", Phase: PhaseFix, Timeout: 2 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("preAllocSize=4096 (4 MiB)", "the same writes.")
			var err error
			if small, err = measure(ctx, r, harness.WithConfig("preAllocSize", "4096")); err != nil {
				return err
			}
			r.Record.Check("the apparent size shrinks below a quarter", small.Apparent < def.Apparent/4, "zk1", "preAllocSize=4096 KiB: %s (default: %s)", small, def)
			r.Record.Figure("apparent_MiB_prealloc_4MiB", float64(small.Apparent)/(1<<20))
			r.Record.Figure("allocated_MiB_prealloc_4MiB", float64(small.Allocated)/(1<<20))
			r.Record.Note("same 3000 writes: apparent size %.0f MiB → %.0f MiB, allocated %.1f MiB → %.1f MiB when preAllocSize goes from 64 MiB to 4 MiB (preallocated logs are sparse files)",
				float64(def.Apparent)/(1<<20), float64(small.Apparent)/(1<<20), float64(def.Allocated)/(1<<20), float64(small.Allocated)/(1<<20))
			return nil
		}},
	}
}
