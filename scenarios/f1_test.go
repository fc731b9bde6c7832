package scenarios_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
	"github.com/zkchaos/zkchaos/harness/fle"
	"github.com/zkchaos/zkchaos/reports"
	"github.com/zkchaos/zkchaos/scenarios"
)

// F1 — ZOOKEEPER-1514 (fixed in 3.4.4): the real trigger on every version. The
// documented remedy (restart the leader) is checked too. The replay of the votes
// quoted in docs/F1.md by fake FLE peers follows below.
var _ = Describe("F1: a restarted node and a quorum whose round is far ahead", Label("F1"), func() {
	for _, v := range harness.Versions {
		Context("on "+v.Version, Ordered, Label(v.Label()), func() {
			var s *scenarios.F1
			var top int64

			BeforeAll(func(ctx SpecContext) {
				s = scenarios.NewF1(v, GinkgoWriter)
				keepRecord(s.Record)
				ens, err := s.Start(ctx)
				registerEnsemble(ens)
				Expect(err).NotTo(HaveOccurred())
			}, NodeTimeout(2*time.Minute))

			It("pushes the quorum's election round ahead with repeated leader elections", func(ctx SpecContext) {
				var err error
				top, err = s.PushRound(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(top).To(BeNumerically(">", 4), "the leader's round after %d elections", s.Elections)
				s.Record.Evidence("", "after %d leader restarts the leader announces round 0x%x", s.Elections, top)
			}, SpecTimeout(5*time.Minute))

			It("rejoins a restarted follower although its own round starts far behind (the 1514 fix holds)", func(ctx SpecContext) {
				r, err := s.RestartFollower(ctx, 60*time.Second)
				Expect(err).NotTo(HaveOccurred())
				Expect(r.OwnRound).To(BeNumerically(">=", 1))
				Expect(r.PeerRound).To(BeNumerically(">", r.OwnRound), "the round gap of the log quoted in docs/F1.md existed: %v", r.Evidence)
				for _, l := range r.Evidence {
					s.Record.Evidence(r.Node.Name, "%s", l)
				}
				Expect(r.Serving).To(BeTrue(), "%s rejoined", r.Node.Name)
				Expect(r.Findings).NotTo(ContainElement(HaveField("Failure", detect.F1)))
				s.Record.Evidence(r.Node.Name, "own round 0x%x vs leader's 0x%x; following again %.1f s after its restart; no F1 finding", r.OwnRound, r.PeerRound, r.Took.Seconds())
				s.Record.Figure("rejoin_seconds", r.Took.Seconds())
				s.Record.Note("ZOOKEEPER-1514 is fixed in %s: a node restarted into a quorum %d rounds ahead rejoined; the stuck node of docs/F1.md needs 3.3-era code (the detector recognises its lines from the fixture)", v.Version, r.PeerRound-r.OwnRound)
				s.Record.Verdict.Reproduced = false
			}, SpecTimeout(2*time.Minute))

			It("recovers with the documented remedy too: restarting the leader", func(ctx SpecContext) {
				old, err := s.RestartLeader(ctx)
				Expect(err).NotTo(HaveOccurred())
				leader, err := s.Ens.Leader(ctx)
				Expect(err).NotTo(HaveOccurred())
				s.Record.Evidence("", "leader %s restarted; %s leads, every node serves", old.Name, leader.Name)
				s.Record.Verdict.Fixed = true
			}, SpecTimeout(2*time.Minute))
		})
	}
})

// F1 replay: fake election peers speak each version's FLE wire protocol to one real
// server and send it the votes quoted in docs/F1.md (leader 3 LEADING at round 831, node 2
// FOLLOWING at round 832), as ZooKeeper's own election tests do with mock peers.
var _ = Describe("F1 replay: the votes quoted in docs/F1.md sent to a real server by fake FLE peers", Label("F1", "replay"), func() {
	const watch = 15 * time.Second
	for _, v := range harness.Versions {
		Context("on "+v.Version, Ordered, Label(v.Label()), func() {
			var s *scenarios.F1

			BeforeAll(func() {
				s = scenarios.NewF1(v, GinkgoWriter)
				s.Record = reports.New("F1-replay", "The election votes quoted in docs/F1.md replayed to a real server (ZOOKEEPER-1514)", v.Version)
				keepRecord(s.Record)
			})

			replay := func(ctx SpecContext, variant scenarios.ReplayVariant) scenarios.ReplayResult {
				r, err := s.Replay(ctx, variant, watch)
				registerEnsemble(s.Ens)
				Expect(err).NotTo(HaveOccurred())
				// The wire exchange happened: the server's own LOOKING votes reached the fake peers,
				// and its log shows the replayed rounds.
				Expect(r.Received).To(ContainElement(HaveField("State", fle.Looking)), "the server's votes reached the fake peers: %v", r.Events)
				Expect(r.Lines).NotTo(BeEmpty(), "the server logged the replayed votes (rounds 0x33f/0x340)")
				for _, l := range r.Lines[:min(2, len(r.Lines))] {
					s.Record.Evidence("zk1", "%s", l)
				}
				return r
			}

			It("follows the announced leader: it registers with the fake leader's quorum port although its round is 1", func(ctx SpecContext) {
				r := replay(ctx, scenarios.ReplaySeed)
				Expect(r.FollowerInfo).NotTo(BeNil(), "the server connected to leader 3's quorum port; events: %v", r.Events)
				Expect(r.FollowerInfo.SID).To(BeEquivalentTo(1))
				Expect(r.Decided).To(Equal("FOLLOWING"))
				own := r.Received[0]
				Expect(own.Round).To(BeNumerically("<", scenarios.SeedLeaderRound), "its own round was behind the quorum's")
				s.Record.Evidence("zk1", "own round 0x%x, quorum's 0x%x/0x%x: decided FOLLOWING and sent FOLLOWERINFO (sid %d, accepted epoch 0x%x) to the fake leader",
					own.Round, scenarios.SeedLeaderRound, scenarios.SeedFollowRound, r.FollowerInfo.SID, r.FollowerInfo.AcceptedEpoch)
				Expect(r.Findings).NotTo(ContainElement(HaveField("Failure", detect.F1)))
				s.Record.Note("%s: with the votes quoted in docs/F1.md (rounds 831/832, one epoch) a server at round 0x%x joins at once: ZOOKEEPER-1514 is fixed", v.Version, own.Round)
			}, SpecTimeout(3*time.Minute))

			It("stays LOOKING on the quoted votes byte for byte (3.3 format): leader and follower disagree on the epoch", func(ctx SpecContext) {
				r := replay(ctx, scenarios.ReplaySeed28)
				Expect(r.FollowerInfo).To(BeNil())
				Expect(r.Decided).To(BeEmpty())
				Expect(r.Serving).To(BeFalse())
				Expect(r.Log).To(ContainSubstring("Notification time out"))
				f1 := findingOf(r.Findings, detect.F1)
				Expect(f1).NotTo(BeNil(), "the F1 detector recognises the stuck server in its own log")
				Expect(f1.Explanation).To(Or(ContainSubstring("has the 1514 fix"), ContainSubstring("1514 is fixed")), "the finding says 1514 itself is fixed here")
				s.Record.Evidence("zk1", "28-byte votes: peer epochs 0x%x (leader, from zxid 0x%x) and 0x%x (follower, from zxid 0x%x): LOOKING after %s, F1 detector: %s",
					scenarios.SeedLeaderZxid>>32, scenarios.SeedLeaderZxid, scenarios.SeedFollowerZxid>>32, scenarios.SeedFollowerZxid, watch, f1.Evidence[len(f1.Evidence)-1])
				s.Record.Note("%s: the votes quoted in docs/F1.md, sent byte for byte in the 3.3 format, keep a server LOOKING, but not because of the rounds: "+
					"the receiver derives each peer's epoch from its zxid (leader 0x11, follower 0x12), and votes that disagree on the epoch never form a quorum. "+
					"The detector still reports F1 (its picture: LEADING/FOLLOWING votes in another round, time outs) and says 1514 is fixed", v.Version)
				s.Record.Verdict.Reproduced = true
				s.Record.Verdict.Detected = true
			}, SpecTimeout(3*time.Minute))

			It("does not lead on votes from another round (the ZOOKEEPER-1514 fix in checkLeader)", func(ctx SpecContext) {
				r := replay(ctx, scenarios.ReplaySelf)
				Expect(r.Decided).To(BeEmpty(), "a quorum naming it leader in round 0x340 does not make a server at round 1 lead")
				Expect(r.Serving).To(BeFalse())
				s.Record.Evidence("zk1", "peers 2 and 3 FOLLOWING leader 1 in round 0x%x: zk1 (round 1) stayed LOOKING for %s: with the 1514 fix, checkLeader lets a node lead on out-of-election votes only in its own round", scenarios.SeedFollowRound, watch)
			}, SpecTimeout(3*time.Minute))
		})
	}
})

func findingOf(fs []detect.Finding, f detect.Failure) *detect.Finding {
	for i := range fs {
		if fs[i].Failure == f {
			return &fs[i]
		}
	}
	return nil
}
