// Package scenarios holds the documented failures as plain Go: each scenario is a
// sequence of steps (trigger, evidence, detector, fix) on a real ensemble that the
// Ginkgo specs beside it assert on, and that the CLI can run without Ginkgo.
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
	return s.Ens.RollingRestart(ctx, map[string]string{"maxClientCnxns": strconv.Itoa(limit)}, 60*time.Second,
		func(_ context.Context, n *harness.Node, _ int) error {
			s.Record.Add(reports.KindState, n.Name, "restarted with maxClientCnxns=%d, ensemble serving again", limit)
			return nil
		})
}
