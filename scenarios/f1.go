package scenarios

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
	"github.com/zkchaos/zkchaos/reports"
)

// F1 — ZOOKEEPER-1514: a restarted node ignores the round of the running quorum and
// never rejoins (seed F1, 3.3-era). Fixed in 3.4.4, so on every version here this is
// a regression scenario: make the running quorum's round far ahead of a restarted
// node's logical clock, and show that the node still rejoins.
type F1 struct {
	Version harness.Version
	// Elections is how many leader restarts push the ensemble's round ahead.
	Elections int
	Record    *reports.Record
	Ens       *harness.Ensemble

	progress io.Writer
}

// NewF1 prepares the scenario on a version.
func NewF1(v harness.Version, progress io.Writer) *F1 {
	return &F1{Version: v, Elections: 8, progress: progress,
		Record: reports.New("F1", "A restarted node and the running quorum's election round (ZOOKEEPER-1514)", v.Version)}
}

// Start runs a 3-node ensemble.
func (s *F1) Start(ctx context.Context) (*harness.Ensemble, error) {
	ens, err := harness.Run(ctx, harness.WithVersion(s.Version.Version), harness.WithProgress(s.progress))
	s.Ens = ens
	return ens, err
}

// RestartLeader restarts the current leader and waits until the ensemble serves again.
func (s *F1) RestartLeader(ctx context.Context) (*harness.Node, error) {
	leader, err := s.Ens.Leader(ctx)
	if err != nil {
		return nil, err
	}
	if err := leader.Restart(ctx); err != nil {
		return nil, err
	}
	s.Record.Add(reports.KindFault, leader.Name, "leader restarted")
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return leader, s.Ens.WaitServing(wctx)
}

// PushRound forces Elections leader elections and returns the highest round a
// LEADING notification carried.
func (s *F1) PushRound(ctx context.Context) (int64, error) {
	for range s.Elections {
		if _, err := s.RestartLeader(ctx); err != nil {
			return 0, err
		}
	}
	var top int64
	for _, n := range s.Ens.Nodes() {
		logs, err := n.Logs(ctx)
		if err != nil {
			return 0, err
		}
		for _, nt := range notifications(logs) {
			if nt.State == "LEADING" {
				top = max(top, nt.Round)
			}
		}
	}
	return top, nil
}

// Rejoin is what a restarted follower saw and did.
type Rejoin struct {
	Node *harness.Node
	// OwnRound is the round of the node's own first vote after its restart; PeerRound
	// the round a LEADING peer answered with.
	OwnRound, PeerRound int64
	Evidence            []string // the two notification lines
	Serving             bool
	Took                time.Duration // restart to serving
	Findings            []detect.Finding
}

// RestartFollower restarts a follower and waits (at most bound) until it serves.
func (s *F1) RestartFollower(ctx context.Context, bound time.Duration) (Rejoin, error) {
	fs := s.Ens.Followers(ctx)
	if len(fs) == 0 {
		return Rejoin{}, fmt.Errorf("no follower")
	}
	n := fs[0]
	r := Rejoin{Node: n, OwnRound: -1, PeerRound: -1}
	mark, err := n.LogMark(ctx)
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	if err := n.Restart(ctx); err != nil {
		return r, err
	}
	s.Record.Add(reports.KindFault, n.Name, "follower restarted: its logical clock starts again from 1")
	wctx, cancel := context.WithTimeout(ctx, bound)
	err = s.Ens.WaitServing(wctx, n)
	cancel()
	r.Serving, r.Took = err == nil, time.Since(t0)
	logs, lerr := n.LogSince(ctx, mark)
	if lerr != nil {
		return r, lerr
	}
	for _, nt := range notifications(logs) {
		if nt.SID == int64(n.MyID) && nt.State == "LOOKING" && r.OwnRound < 0 {
			r.OwnRound = nt.Round
			r.Evidence = append(r.Evidence, nt.Line)
		}
		if nt.State == "LEADING" && r.PeerRound < 0 {
			r.PeerRound = nt.Round
			r.Evidence = append(r.Evidence, nt.Line)
		}
	}
	nl, err := detect.ScanLog(n.Name, strings.NewReader(logs))
	if err != nil {
		return r, err
	}
	r.Findings = detect.Detect(detect.Observations{Logs: []*detect.NodeLog{nl}})
	s.Record.Add(reports.KindState, n.Name, "own round 0x%x, leader's round 0x%x; serving %v after %.1f s", r.OwnRound, r.PeerRound, r.Serving, r.Took.Seconds())
	return r, nil
}

// notificationLine is a parsed election notification and the line it came from.
type notificationLine struct {
	detect.Notification
	Line string
}

func notifications(logs string) []notificationLine {
	var out []notificationLine
	for _, line := range strings.Split(logs, "\n") {
		if nt, err := detect.ParseNotification([]byte(line)); err == nil {
			out = append(out, notificationLine{nt, line})
		}
	}
	return out
}
