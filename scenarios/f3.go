// Package scenarios holds the documented failures as plain Go, as a catalogue
// (Catalog, UpgradePaths): each entry is a sequence of steps (start, trigger,
// evidence, detector, fix, checks) on real ensembles, run by one runner (Run) for
// the Ginkgo specs beside it and for the CLI alike. Steps record observations;
// the verdict is computed from them (reports), and compared with the expected
// table (Expected, Compare; docs/verdicts.md). Only this package's tests know
// Ginkgo.
package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
	"github.com/zkchaos/zkchaos/harness/load"
	"github.com/zkchaos/zkchaos/reports"
)

// TooManyConnections matches the refusal in both forms seen (3.4 plain, 3.6+ through
// RateLogger "Message:Error accepting new connection: ...").
var TooManyConnections = regexp.MustCompile(`Too many connections from /?(\S+) - max is (\d+)`)

// F3 — "some processes on one client host cannot connect": maxClientCnxns limits
// concurrent connections per client IP per server (docs/F3.md).
type F3 struct {
	Version harness.Version
	// Limit is the small maxClientCnxns of the trigger; Processes > Limit sessions
	// come from one client host.
	Limit, Processes int
	Record           *reports.Record
	Ens              *harness.Ensemble

	progress io.Writer
	target   *harness.Node
	logMark  int // length of the target's log before the current step
	clients  int
}

// NewF3 prepares the scenario on a version.
func NewF3(v harness.Version, progress io.Writer) *F3 {
	return &F3{
		Version: v, Limit: 10, Processes: 12, progress: progress,
		Record: reports.New("F3", "Some processes on one client host cannot connect (maxClientCnxns)", v.Version),
	}
}

// Start runs a 3-node ensemble whose per-IP limit is small. The returned ensemble is
// non-nil on error too, for clean-up.
func (s *F3) Start(ctx context.Context) (*harness.Ensemble, error) {
	s.Record.Add(reports.KindFault, "", "ensemble with maxClientCnxns=%d on every node", s.Limit)
	ens, err := harness.Run(ctx, harness.WithVersion(s.Version.Version),
		harness.WithConfig("maxClientCnxns", strconv.Itoa(s.Limit)), harness.WithProgress(s.progress))
	s.Ens = ens
	if err == nil {
		track(ens, s.Record)
		s.target = ens.Node(1)
	}
	return ens, err
}

// HostResult is what one client host's processes got.
type HostResult struct {
	Host string // the client host's IP
	load.HoldResult
	client *harness.Client
}

// OpenSessions starts a client host running procs client processes, one after
// another, each opening perProc sessions to the target node and holding them, and
// waits until all were tried. Sessions are numbered 1.. in that order.
func (s *F3) OpenSessions(ctx context.Context, name string, procs, perProc int) (HostResult, error) {
	c, err := s.Ens.StartClient(ctx, name, "load", "sessions", "--target", s.target.ClientAddr(),
		"--procs", strconv.Itoa(procs), "--count", strconv.Itoa(perProc), "--hold", "5m")
	if err != nil {
		return HostResult{}, err
	}
	s.clients++
	// The summary is the line that starts with "opened: " (children's own summaries
	// come prefixed with their process).
	out, err := c.WaitOutput(ctx, "\nopened: ")
	if err != nil {
		return HostResult{}, err
	}
	var line string
	for l := range strings.SplitSeq(out, "\n") {
		if js, ok := strings.CutPrefix(l, "opened: "); ok {
			line = js
		}
	}
	res := HostResult{Host: c.IP(), client: c}
	if err := json.Unmarshal([]byte(line), &res.HoldResult); err != nil {
		return res, fmt.Errorf("%s: summary %q: %w", c, line, err)
	}
	s.Record.Add(reports.KindClient, c.IP(), "%s: %d process(es) × %d session(s) to %s: accepted %v, refused %v, failed %v",
		name, procs, perProc, s.target.Name, res.Accepted, res.Refused, res.Failed)
	return res, nil
}

// Release ends a client host's sessions.
func (s *F3) Release(ctx context.Context, r HostResult) error {
	if r.client == nil {
		return nil
	}
	return r.client.Stop(ctx)
}

// Rejected reads zk_connection_rejected from the target's mntr (ok=false where the
// version has no such metric).
func (s *F3) Rejected(ctx context.Context) (int64, bool, error) {
	if !s.Version.ConnectionRejectedMetric {
		return 0, false, nil
	}
	out, err := s.target.FourLetter(ctx, "mntr")
	if err != nil {
		return 0, false, err
	}
	m, err := detect.ParseMntr(strings.NewReader(out))
	if err != nil {
		return 0, false, err
	}
	v, ok := m.Int("zk_connection_rejected")
	return v, ok, nil
}

// MarkLog remembers how far the target's log goes, so that later evidence and
// detection only look at what was written after this point.
func (s *F3) MarkLog(ctx context.Context) (err error) {
	s.logMark, err = s.target.LogMark(ctx)
	return err
}

// NewLog returns the target's log written since MarkLog.
func (s *F3) NewLog(ctx context.Context) (string, error) {
	return s.target.LogSince(ctx, s.logMark)
}

// Refusals returns the log lines since MarkLog that refuse connections, as
// (ip, limit) pairs with the lines.
func (s *F3) Refusals(ctx context.Context) (lines []string, ips []string, limits []int, err error) {
	logs, err := s.NewLog(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	for line := range strings.SplitSeq(logs, "\n") {
		m := TooManyConnections.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		lim, _ := strconv.Atoi(m[2])
		lines = append(lines, line)
		if !slices.Contains(ips, m[1]) {
			ips = append(ips, m[1])
		}
		if !slices.Contains(limits, lim) {
			limits = append(limits, lim)
		}
	}
	return lines, ips, limits, nil
}

// Detect runs the detectors on the target's log since MarkLog and its live 4lw answers.
func (s *F3) Detect(ctx context.Context) ([]detect.Finding, error) {
	logs, err := s.NewLog(ctx)
	if err != nil {
		return nil, err
	}
	nl, err := detect.ScanLog(s.target.Name, strings.NewReader(logs))
	if err != nil {
		return nil, err
	}
	obs := detect.Observations{Logs: []*detect.NodeLog{nl}}
	findings := detect.Detect(obs)
	for _, f := range findings {
		s.Record.Add(reports.KindFinding, f.Node, "%s: %s", f.Failure, strings.Join(f.Evidence, " | "))
	}
	return findings, nil
}

// RaiseLimit is the documented fix: a rolling restart with a new maxClientCnxns,
// one node at a time, each back to serving before the next.
func (s *F3) RaiseLimit(ctx context.Context, limit int) error {
	s.Record.Add(reports.KindFix, "", "rolling restart with maxClientCnxns=%d", limit)
	return s.restartWithLimit(ctx, limit, s.Ens.Nodes())
}

// SetLimitOnTarget restarts the target node alone with a new maxClientCnxns: what
// a measurement on that node needs.
func (s *F3) SetLimitOnTarget(ctx context.Context, limit int) error {
	s.Record.Add(reports.KindFix, s.target.Name, "restarted alone with maxClientCnxns=%d", limit)
	return s.restartWithLimit(ctx, limit, []*harness.Node{s.target})
}

// restartWithLimit restarts nodes one at a time with maxClientCnxns=limit, each
// back to serving before the next, and records each.
func (s *F3) restartWithLimit(ctx context.Context, limit int, nodes []*harness.Node) error {
	return s.Ens.RestartNodes(ctx, nodes, map[string]string{"maxClientCnxns": strconv.Itoa(limit)}, 60*time.Second,
		func(_ context.Context, n *harness.Node, _ int) error {
			s.Record.Add(reports.KindState, n.Name, "restarted with maxClientCnxns=%d, ensemble serving again", limit)
			return nil
		})
}

// fixRaiseLimit is F3's documented fix.
const fixRaiseLimit = "raise maxClientCnxns (rolling restart)"

// planF3 is F3's catalogue entry: one client host opens more sessions than
// maxClientCnxns allows; the fixes raise the limit or share sessions.
func planF3(r *Run) []Step {
	s := NewF3(r.Version, r.Progress)
	s.Record = r.Record
	var hostA HostResult
	var rejectedBefore int64
	over := func() []int {
		var o []int
		for i := s.Limit + 1; i <= s.Processes; i++ {
			o = append(o, i)
		}
		return o
	}
	return []Step{
		{Name: "starts a 3-node ensemble with a small maxClientCnxns", Phase: PhaseStart, Timeout: 2 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Symptom (F3)", "several copies of a process on one client host: some connect, others never do.")
			r.step("Start a 3-node ensemble", "maxClientCnxns=%d on every node (ZooKeeper's default is 60).", s.Limit)
			ens, err := s.Start(ctx)
			r.Adopt(ens)
			if err == nil {
				r.say("serving: %s", strings.Join(ens.ClientAddrs(), ", "))
			}
			return err
		}},
		{Name: "refuses exactly the sessions over maxClientCnxns from one host", Phase: PhaseTrigger, Timeout: 2 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Trigger", "client host A (its own IP on the ensemble's network) starts %d processes, one session each, to %s. Look for: the last %d refused.",
				s.Processes, s.Ens.Node(1).Name, s.Processes-s.Limit)
			if err := s.MarkLog(ctx); err != nil {
				return err
			}
			var err error
			if rejectedBefore, _, err = s.Rejected(ctx); err != nil {
				return err
			}
			r.Record.Add(reports.KindFault, "", "client host A starts %d processes, one session each, to %s", s.Processes, s.Ens.Node(1).Name)
			if hostA, err = s.OpenSessions(ctx, "host-a", s.Processes, 1); err != nil {
				return err
			}
			r.say("host A %s: sessions %v accepted, %v refused, %v failed otherwise", hostA.Host, hostA.Accepted, hostA.Refused, hostA.Failed)
			tried := len(hostA.Accepted) + len(hostA.Refused) + len(hostA.Failed)
			r.Record.Trigger(tried == s.Processes && s.Processes > s.Limit, "host-a", "%d sessions from one host %s tried against maxClientCnxns=%d", tried, hostA.Host, s.Limit)
			r.Record.Check("no session fails for another reason", len(hostA.Failed) == 0, "host-a", "sessions failed otherwise: %v %v", hostA.Failed, hostA.Errors)
			r.Record.Failure(slices.Equal(hostA.Refused, over()) && len(hostA.Accepted) == s.Limit, "host-a",
				"%d of %d sessions from %s accepted, sessions %v refused (maxClientCnxns=%d)", len(hostA.Accepted), s.Processes, hostA.Host, hostA.Refused, s.Limit)
			r.Record.Figure("sessions_accepted", float64(len(hostA.Accepted)))
			r.Record.Figure("sessions_refused", float64(len(hostA.Refused)))
			return nil
		}},
		{Name: "still serves a second client host: the limit is per source IP", Phase: PhaseCheck, Timeout: 2 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			hostB, err := s.OpenSessions(ctx, "host-b", 1, 1)
			if err != nil {
				return err
			}
			r.say("host B %s: %d of 1 accepted — the limit is per client IP", hostB.Host, len(hostB.Accepted))
			r.Record.Check("the limit is per client IP", hostB.Host != hostA.Host && slices.Equal(hostB.Accepted, []int{1}), "host-b",
				"host B %s got %d session(s) while host A %s held %d", hostB.Host, len(hostB.Accepted), hostA.Host, len(hostA.Accepted))
			return s.Release(ctx, hostB)
		}},
		{Name: "logs 'Too many connections from /<host A> - max is N' and counts the rejections", Phase: PhaseEvidence, Timeout: time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Evidence that the fault happened", "what the server wrote and counted (%s's log, mntr).", s.Ens.Node(1).Name)
			var lines, ips []string
			var limits []int
			// The refusal is logged as it happens; the log reaches the engine a little later.
			for tick := time.NewTicker(200 * time.Millisecond); ; {
				var err error
				if lines, ips, limits, err = s.Refusals(ctx); err != nil || len(lines) > 0 {
					tick.Stop()
					if err != nil {
						return err
					}
					break
				}
				select {
				case <-ctx.Done():
					tick.Stop()
					return fmt.Errorf("no refusal in %s's log: %w", s.Ens.Node(1).Name, ctx.Err())
				case <-tick.C:
				}
			}
			for _, l := range lines {
				r.say("log: %s", l)
			}
			node := s.Ens.Node(1).Name
			r.Record.Failure(slices.Equal(ips, []string{hostA.Host}) && !slices.ContainsFunc(limits, func(l int) bool { return l != s.Limit }), node,
				"%d refusal line(s), IPs %v, limits %v: %s", len(lines), ips, limits, lines[0])
			if r.Version.ConnectionRejectedMetric {
				after, ok, err := s.Rejected(ctx)
				if err != nil {
					return err
				}
				r.say("mntr zk_connection_rejected: %d → %d", rejectedBefore, after)
				r.Record.Check("mntr counts the rejections", ok && after-rejectedBefore >= int64(len(hostA.Refused)), node, "mntr zk_connection_rejected %d → %d (%d refused)", rejectedBefore, after, len(hostA.Refused))
				r.Record.Figure("zk_connection_rejected_delta", float64(after-rejectedBefore))
			}
			return nil
		}},
		{Name: "is recognised by the F3 detector, which names host A and the limit", Phase: PhaseDetect, Timeout: time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Detector", "zkchaos diagnose's F3 detector on that log.")
			findings, err := s.Detect(ctx)
			if err != nil {
				return err
			}
			r.sayFindings(findings, detect.F3)
			node := s.Ens.Node(1).Name
			f := foundOn(findings, detect.F3, node)
			names := func(sub string) bool {
				return f != nil && slices.ContainsFunc(f.Evidence, func(e string) bool { return strings.Contains(e, sub) })
			}
			r.Record.Finding(names(hostA.Host) && names("max is "+strconv.Itoa(s.Limit)), node, "the F3 detector on %s's log: %s; names %s and max is %d: %v",
				node, gradeOn(findings, detect.F3, node), hostA.Host, s.Limit, names(hostA.Host) && names("max is "+strconv.Itoa(s.Limit)))
			return nil
		}},
		{Name: "is also fixed on the client side: processes that share one session each stay under the limit", Phase: PhaseFix, Timeout: 2 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			const procs, each = 4, 3 // 12 sessions from 4 processes: over the limit of 10
			r.step("Fix (client side)", "%d processes with %d sessions each exceed the limit; the same processes sharing one session each do not.", procs, each)
			perThread, err := s.OpenSessions(ctx, "host-c", procs, each)
			if err != nil {
				return err
			}
			if err := s.Release(ctx, perThread); err != nil {
				return err
			}
			shared, err := s.OpenSessions(ctx, "host-c-shared", procs, 1)
			if err != nil {
				return err
			}
			r.Record.FixOutcome("one shared session per process (client side)", status(len(perThread.Refused) == procs*each-s.Limit && len(shared.Refused) == 0 && len(shared.Accepted) == procs), "host-c",
				"%d processes × %d sessions: %d refused; the same %d processes sharing one session each: %d connected, %d refused, limit unchanged (%d)",
				procs, each, len(perThread.Refused), procs, len(shared.Accepted), len(shared.Refused), s.Limit)
			return s.Release(ctx, shared)
		}},
		{Name: "is fixed by raising maxClientCnxns: every process connects and the detector is clean", Phase: PhaseFix, Timeout: 4 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Fix (documented)", "raise maxClientCnxns to %d with a rolling restart, one node at a time.", 2*s.Processes)
			if err := s.Release(ctx, hostA); err != nil {
				return err
			}
			if err := s.RaiseLimit(ctx, 2*s.Processes); err != nil {
				return err
			}
			if err := s.MarkLog(ctx); err != nil {
				return err
			}
			again, err := s.OpenSessions(ctx, "host-a-after-fix", s.Processes, 1)
			if err != nil {
				return err
			}
			findings, err := s.Detect(ctx)
			if err != nil {
				return err
			}
			r.say("host A again: %d of %d accepted; findings now: %d", len(again.Accepted), s.Processes, len(findings))
			r.Record.FixOutcome(fixRaiseLimit, status(len(again.Accepted) == s.Processes && len(findings) == 0), "host-a-after-fix",
				"after maxClientCnxns=%d: %d of %d sessions from %s accepted, %d findings", 2*s.Processes, len(again.Accepted), s.Processes, again.Host, len(findings))
			return s.Release(ctx, again)
		}},
		{Name: "treats maxClientCnxns=0 as unlimited (measured, not assumed)", Phase: PhaseCheck, Timeout: 4 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			// Measured where the host connects: the target alone is restarted.
			if err := s.SetLimitOnTarget(ctx, 0); err != nil {
				return err
			}
			if err := s.MarkLog(ctx); err != nil {
				return err
			}
			const many = 70 // more than the default limit of 60
			h, err := s.OpenSessions(ctx, "host-a-unlimited", 1, many)
			if err != nil {
				return err
			}
			lines, _, _, err := s.Refusals(ctx)
			if err != nil {
				return err
			}
			r.Record.Check("maxClientCnxns=0 is unlimited", len(h.Refused) == 0 && len(h.Accepted) == many && len(lines) == 0, "host-a-unlimited",
				"maxClientCnxns=0: %d of %d sessions from one host accepted, %d refusal lines", len(h.Accepted), many, len(lines))
			return s.Release(ctx, h)
		}},
	}
}
