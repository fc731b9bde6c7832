package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
	"github.com/zkchaos/zkchaos/harness/fle"
	"github.com/zkchaos/zkchaos/reports"
)

// F1 — ZOOKEEPER-1514: a restarted node ignores the round of the running quorum and
// never rejoins (F1, docs/F1.md; 3.3-era). Fixed in 3.4.4, so on every version here this is
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
	return &F1{Version: v, Elections: 4, progress: progress,
		Record: reports.New("F1", "A restarted node and the running quorum's election round (ZOOKEEPER-1514)", v.Version)}
}

// Start runs a 3-node ensemble.
func (s *F1) Start(ctx context.Context) (*harness.Ensemble, error) {
	ens, err := harness.Run(ctx, harness.WithVersion(s.Version.Version), harness.WithProgress(s.progress))
	s.Ens = ens
	if err == nil {
		track(ens, s.Record)
	}
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

// The two votes quoted in docs/F1.md (a 3.3 log): leader 3 LEADING in round
// 831 with zxid 73014444480 (epoch 0x11), node 2 FOLLOWING leader 3 in round 832
// with zxid 77309411648 (epoch 0x12). The 3.3 format has no peer epoch field.
const (
	SeedLeaderZxid   int64 = 73014444480
	SeedLeaderRound  int64 = 831
	SeedFollowerZxid int64 = 77309411648
	SeedFollowRound  int64 = 832
)

// ReplayVariant is one set of votes the fake peers answer a real server with.
type ReplayVariant struct {
	Name string
	// Format of the fake peers' notifications (fle.Format28 is the 3.3 wire
	// format of docs/F1.md's votes; fle.FormatAuto answers in the server's format).
	Format string
	// Leader is the id both fake peers announce; PeerEpoch their epoch in formats
	// that carry one.
	Leader, PeerEpoch int64
}

// The replay variants of F1.
var (
	// ReplaySeed: the votes quoted in docs/F1.md in the server's own format, both
	// peers with the epoch of the newer zxid — what a running 3.4.6+ quorum would send.
	ReplaySeed = ReplayVariant{Name: "the votes of docs/F1.md, one epoch", Format: fle.FormatAuto, Leader: 3, PeerEpoch: 0x12}
	// ReplaySeed28: the votes quoted in docs/F1.md byte for byte in the 3.3 format:
	// receivers derive each peer's epoch from its zxid, so leader and follower
	// disagree (0x11, 0x12).
	ReplaySeed28 = ReplayVariant{Name: "the votes of docs/F1.md in the 3.3 wire format", Format: fle.Format28, Leader: 3}
	// ReplaySelf: the quorum announces the restarted server itself as leader in
	// another round; the ZOOKEEPER-1514 fix (checkLeader) forbids it to lead on that.
	ReplaySelf = ReplayVariant{Name: "the quorum names the restarted node leader in another round", Format: fle.FormatAuto, Leader: 1, PeerEpoch: 0x12}
)

// ReplayResult is what the real server did with the replayed votes.
type ReplayResult struct {
	Variant ReplayVariant
	// Events are the fake peers' events (JSON lines of `zkchaos fle-replay`).
	Events []fle.Event
	// Received are the real server's notifications as the fake peers decoded them.
	Received []fle.Notification
	// FollowerInfo is set when the server connected to the fake leader's quorum port.
	FollowerInfo *fle.FollowerInfo
	// Log is the real server's log; Lines its notification lines with the quoted rounds.
	Log      string
	Lines    []string
	Decided  string // "FOLLOWING", "LEADING" or "" (stayed LOOKING)
	Serving  bool
	Findings []detect.Finding
}

// Replay starts one real server (myid 1) whose peers 2 and 3 are fake election
// peers in a client container named "fle" (ZooKeeper's own FLE tests do the same
// with in-process mock peers), lets them answer its votes for `watch` (or until it
// registers with the fake leader), and reports what it decided.
func (s *F1) Replay(ctx context.Context, variant ReplayVariant, watch time.Duration) (ReplayResult, error) {
	res := ReplayResult{Variant: variant}
	ens, err := harness.Run(ctx, harness.WithVersion(s.Version.Version), harness.WithNodes(1),
		harness.WithConfig("server.2", fmt.Sprintf("fle:%d:%d", harness.QuorumPort, harness.ElectionPort)),
		harness.WithConfig("server.3", fmt.Sprintf("fle:%d:%d", harness.QuorumPort+1, harness.ElectionPort+1)),
		harness.WithoutWait(), harness.WithPeerWait(time.Minute), harness.WithProgress(s.progress))
	s.Ens = ens
	if err != nil {
		return res, err
	}
	track(ens, s.Record)
	peer := func(sid int64, state string, zxid, round int64, quorum bool) string {
		p := fmt.Sprintf("sid=%d,election=:%d,advertise=fle:%d,state=%s,leader=%d,zxid=%d,round=%d,peer-epoch=%d",
			sid, harness.ElectionPort+int(sid)-2, harness.ElectionPort+int(sid)-2, state, variant.Leader, zxid, round, variant.PeerEpoch)
		if quorum {
			p += fmt.Sprintf(",quorum=:%d", harness.QuorumPort+int(sid)-2)
		}
		return p
	}
	thirdState := "LEADING"
	if variant.Leader != 3 {
		thirdState = "FOLLOWING"
	}
	s.Record.Add(reports.KindFault, "zk1", "fake peers 2 and 3 answer with %s: %s", variant.Name, variant.Format)
	cl, err := ens.StartClient(ctx, "fle", "fle-replay", "--target", fmt.Sprintf("zk1:%d", harness.ElectionPort),
		"--target-sid", "1", "--handshake", s.Version.ElectionHandshake, "--format", variant.Format, "--duration", (watch + 30*time.Second).String(),
		"--peer", peer(2, "FOLLOWING", SeedFollowerZxid, SeedFollowRound, false),
		"--peer", peer(3, thirdState, SeedLeaderZxid, SeedLeaderRound, variant.Leader == 3))
	if err != nil {
		return res, err
	}
	n := ens.Node(1)
	// Watch until the server registers with the fake leader, or for `watch`.
	deadline := time.Now().Add(watch)
	for time.Now().Before(deadline) {
		out, err := cl.Output(ctx)
		if err != nil {
			return res, err
		}
		res.Events = parseFLEEvents(out)
		if slices.ContainsFunc(res.Events, func(e fle.Event) bool { return e.Kind == "followerinfo" }) {
			break
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	res.Serving = n.State(ctx).Mode.Serving()
	if err := cl.Stop(ctx); err != nil {
		return res, err
	}
	out, err := cl.Output(ctx)
	if err == nil {
		res.Events = parseFLEEvents(out)
	}
	for _, e := range res.Events {
		if e.Kind == "received" && e.Notification != nil {
			res.Received = append(res.Received, *e.Notification)
		}
		if e.Kind == "followerinfo" && res.FollowerInfo == nil {
			res.FollowerInfo = e.FollowerInfo
		}
	}
	if res.Log, err = n.Logs(ctx); err != nil {
		return res, err
	}
	for _, nt := range notifications(res.Log) {
		if nt.Round == SeedLeaderRound || nt.Round == SeedFollowRound {
			res.Lines = append(res.Lines, nt.Line)
		}
	}
	for _, line := range strings.Split(res.Log, "\n") {
		for _, st := range []string{"FOLLOWING", "LEADING"} {
			// QuorumPeer logs the bare state when it leaves LOOKING.
			if strings.HasSuffix(strings.TrimSpace(line), "- "+st) && res.Decided == "" {
				res.Decided = st
			}
		}
	}
	nl, err := detect.ScanLog(n.Name, strings.NewReader(res.Log))
	if err != nil {
		return res, err
	}
	res.Findings = detect.Detect(detect.Observations{Logs: []*detect.NodeLog{nl}})
	s.Record.Add(reports.KindState, "zk1", "after %s: decided %q, registered with the fake leader: %v, serving %v",
		variant.Name, res.Decided, res.FollowerInfo != nil, res.Serving)
	return res, nil
}

func parseFLEEvents(out string) []fle.Event {
	var evs []fle.Event
	for _, line := range strings.Split(out, "\n") {
		_, js, ok := strings.Cut(line, "fle: ")
		if !ok {
			continue
		}
		var e fle.Event
		if json.Unmarshal([]byte(js), &e) == nil {
			evs = append(evs, e)
		}
	}
	return evs
}

// planF1 is F1's catalogue entry: the real trigger (a quorum many rounds ahead,
// a follower restarted) and, only if the follower stays out, the documented
// remedy. 1514 was fixed in 3.4.4: a rejoin is the regression check's pass.
func planF1(r *Run) []Step {
	s := NewF1(r.Version, r.Progress)
	s.Record = r.Record
	var rj Rejoin
	return []Step{
		{Name: "starts a 3-node ensemble", Phase: PhaseStart, Timeout: 2 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Symptom (F1, ZOOKEEPER-1514)", "a restarted node stays LOOKING; its log shows votes of a LEADING leader in round 831 while its own round is 1, and \"Notification time out\" doubling.")
			r.step("Start a 3-node ensemble", "ZooKeeper %s. 1514 was fixed in 3.4.4: expect the real trigger NOT to keep the node out.", r.Version.Version)
			ens, err := s.Start(ctx)
			r.Adopt(ens)
			return err
		}},
		{Name: "pushes the quorum's election round ahead with repeated leader elections", Phase: PhaseTrigger, Timeout: 5 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Trigger: push the quorum's round ahead", "restart the leader %d times; each election raises the round.", s.Elections)
			top, err := s.PushRound(ctx)
			if err != nil {
				return err
			}
			r.say("the leader now announces round 0x%x", top)
			// The first election is round 1, and every election raises the round of
			// the nodes that take part in it by at least one.
			r.Record.Check("each leader election raised the round", top >= int64(1+s.Elections), "", "after %d leader restarts the leader announces round 0x%x (at least 0x%x expected)", s.Elections, top, 1+s.Elections)
			return nil
		}},
		{Name: "restarts a follower into a quorum whose round is far ahead: it rejoins (the 1514 fix holds)", Phase: PhaseTrigger, Timeout: 2 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Restart a follower", "its logical clock starts again from 1. Look for: notifications with round 0x1 (its own) and the leader's higher round; does it follow?")
			var err error
			if rj, err = s.RestartFollower(ctx, time.Minute); err != nil {
				return err
			}
			node := rj.Node.Name
			for _, l := range rj.Evidence {
				r.say("log: %s", l)
			}
			gap := rj.PeerRound > rj.OwnRound && rj.OwnRound >= 1
			r.Record.Trigger(gap, node, "own round 0x%x vs the leader's 0x%x after its restart: %s", rj.OwnRound, rj.PeerRound, strings.Join(rj.Evidence, " | "))
			r.Record.Failure(!rj.Serving, node, "%s serving again: %v, %.1f s after its restart (bound 60 s)", node, rj.Serving, rj.Took.Seconds())
			r.Record.Figure("rejoin_seconds", rj.Took.Seconds())
			r.say("%s serving again: %v after %.1f s (own round 0x%x, leader's 0x%x)", node, rj.Serving, rj.Took.Seconds(), rj.OwnRound, rj.PeerRound)
			f1 := r.sayFindings(rj.Findings, detect.F1)
			if rj.Serving {
				// Silent means no finding at all, suspected ones included.
				r.Record.Check("the F1 detector is silent on a node that rejoined", f1 == nil, node, "F1 findings on %s's log since its restart: %d", node, len(rj.Findings))
				if gap {
					r.Record.Note("ZOOKEEPER-1514 is fixed in %s: a node restarted into a quorum %d rounds ahead rejoined in %.1f s; the stuck node of docs/F1.md needs 3.3-era code (F1-replay shows what its votes do)", r.Version.Version, rj.PeerRound-rj.OwnRound, rj.Took.Seconds())
				}
			} else {
				r.Record.Finding(foundOn(rj.Findings, detect.F1, node) != nil, node, "the F1 detector on the stuck %s: %s", node, gradeOn(rj.Findings, detect.F1, node))
			}
			return nil
		}},
		{Name: "tries the documented remedy where the follower stayed out: restart the leader", Phase: PhaseFix, Timeout: 2 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Documented remedy", "restart the leader.")
			if rj.Serving {
				r.say("nothing to fix: %s rejoined by itself", rj.Node.Name)
				return nil
			}
			old, err := s.RestartLeader(ctx)
			if err != nil && old == nil {
				return err
			}
			wctx, cancel := context.WithTimeout(ctx, time.Minute)
			werr := s.Ens.WaitServing(wctx, rj.Node)
			cancel()
			r.Record.FixOutcome(r.Entry.DocumentedFix, status(werr == nil), rj.Node.Name, "leader %s restarted: %s serving %v", old.Name, rj.Node.Name, werr == nil)
			return nil
		}},
	}
}

// planF1Replay is F1-replay's entry: fake election peers speak each version's
// FLE wire protocol to one real server and send it the votes quoted in docs/F1.md
// (leader 3 LEADING at round 831, node 2 FOLLOWING at round 832), as ZooKeeper's
// own election tests do with mock peers.
func planF1Replay(r *Run) []Step {
	s := NewF1(r.Version, r.Progress)
	s.Record = r.Record
	const watch = 15 * time.Second
	replay := func(ctx context.Context, r *Run, variant ReplayVariant) (ReplayResult, error) {
		res, err := s.Replay(ctx, variant, watch)
		r.Adopt(s.Ens)
		if err != nil {
			return res, err
		}
		for _, l := range res.Lines[:min(2, len(res.Lines))] {
			r.say("log: %s", l)
		}
		r.say("decided: %q, serving: %v", res.Decided, res.Serving)
		return res, r.End(ctx, s.Ens)
	}
	// exchanged: the server's own LOOKING votes reached the fake peers and its log
	// shows the replayed rounds.
	exchanged := func(res ReplayResult) bool {
		looking := slices.ContainsFunc(res.Received, func(n fle.Notification) bool { return n.State == fle.Looking })
		return looking && len(res.Lines) > 0
	}
	return []Step{
		{Name: "stays LOOKING on the quoted votes byte for byte (3.3 format): leader and follower disagree on the epoch", Phase: PhaseTrigger, Timeout: 3 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Replay the reported votes", "one real server (myid 1) and two fake election peers (myids 2 and 3) that speak ZooKeeper %s's election protocol and answer with the exact votes quoted in docs/F1.md: leader 3 LEADING round 831, node 2 FOLLOWING round 832, in the 3.3 wire format. Look for: does the server follow?", r.Version.Version)
			res, err := replay(ctx, r, ReplaySeed28)
			if err != nil {
				return err
			}
			r.Record.Trigger(exchanged(res), "zk1", "the server's LOOKING votes reached the fake peers (%d received); its log shows the replayed rounds: %s", len(res.Received), strings.Join(res.Lines[:min(2, len(res.Lines))], " | "))
			stuck := res.FollowerInfo == nil && res.Decided == "" && !res.Serving && strings.Contains(res.Log, "Notification time out")
			r.Record.Failure(stuck, "zk1", "28-byte votes: peer epochs 0x%x (leader, from zxid 0x%x) and 0x%x (follower, from zxid 0x%x): decided %q, serving %v after %s",
				SeedLeaderZxid>>32, SeedLeaderZxid, SeedFollowerZxid>>32, SeedFollowerZxid, res.Decided, res.Serving, watch)
			r.sayFindings(res.Findings, detect.F1)
			f1 := foundOn(res.Findings, detect.F1, "zk1")
			says := f1 != nil && (strings.Contains(f1.Explanation, "has the 1514 fix") || strings.Contains(f1.Explanation, "1514 is fixed"))
			r.Record.Finding(says, "zk1", "the F1 detector on the replayed server: %s; says 1514 itself is fixed here: %v", gradeOn(res.Findings, detect.F1, "zk1"), says)
			if stuck {
				r.Record.Note("%s: the votes quoted in docs/F1.md, sent byte for byte in the 3.3 format, keep a server LOOKING, but not because of the rounds: "+
					"the receiver derives each peer's epoch from its zxid (leader 0x11, follower 0x12), and votes that disagree on the epoch never form a quorum", r.Version.Version)
			}
			return nil
		}},
		{Name: "follows the announced leader when the same votes carry one epoch, although its round is 1", Phase: PhaseCheck, Timeout: 3 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Replay with one epoch", "the same votes in the server's own format, both peers with epoch 0x12 — what a running 3.4.6+ quorum sends. Look for: FOLLOWERINFO at the fake leader's quorum port.")
			res, err := replay(ctx, r, ReplaySeed)
			if err != nil {
				return err
			}
			followed := exchanged(res) && res.FollowerInfo != nil && res.FollowerInfo.SID == 1 && res.Decided == "FOLLOWING" && res.Received[0].Round < SeedLeaderRound
			ev := fmt.Sprintf("decided %q, FOLLOWERINFO %v", res.Decided, res.FollowerInfo != nil)
			if followed {
				ev = fmt.Sprintf("own round 0x%x, quorum's 0x%x/0x%x: decided FOLLOWING and sent FOLLOWERINFO (sid %d, accepted epoch 0x%x) to the fake leader",
					res.Received[0].Round, SeedLeaderRound, SeedFollowRound, res.FollowerInfo.SID, res.FollowerInfo.AcceptedEpoch)
			}
			r.Record.Check("a server at round 1 follows a quorum far ahead (the 1514 fix)", followed, "zk1", "%s", ev)
			r.Record.Check("the F1 detector is silent on a server that followed", findingOn(res.Findings, detect.F1, "") == nil, "zk1", "F1 findings: %d", len(res.Findings))
			return nil
		}},
		{Name: "does not lead on votes from another round (the ZOOKEEPER-1514 fix in checkLeader)", Phase: PhaseCheck, Timeout: 3 * time.Minute, Do: func(ctx context.Context, r *Run) error {
			r.step("Replay: the quorum names the server leader in another round", "peers 2 and 3 FOLLOWING leader 1 in round 0x%x. With the 1514 fix, checkLeader lets a node lead on out-of-election votes only in its own round.", SeedFollowRound)
			res, err := replay(ctx, r, ReplaySelf)
			if err != nil {
				return err
			}
			r.Record.Check("a quorum naming it leader in another round does not make it lead", exchanged(res) && res.Decided == "" && !res.Serving, "zk1",
				"peers FOLLOWING leader 1 in round 0x%x: zk1 (round 1) decided %q, serving %v after %s", SeedFollowRound, res.Decided, res.Serving, watch)
			return nil
		}},
	}
}
