package scenarios_test

import (
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/zkchaos/zkchaos/harness"
)

var worldACL = zk.WorldACL(zk.PermAll)

// The smoke suite proves the foundation on every version: an ensemble of real
// servers forms, replicates, fails over and takes a node back.
var _ = Describe("A ZooKeeper ensemble", Label("smoke"), func() {
	for _, v := range harness.Versions {
		smokeSpecs(v, 3)
	}
	smokeSpecs(harness.Versions[len(harness.Versions)-1], 5)
})

func smokeSpecs(v harness.Version, nodes int) {
	Context(fmt.Sprintf("of %d nodes on %s", nodes, v.Version), Ordered, Label(v.Label()), func() {
		var ens *harness.Ensemble
		const path = "/zkchaos-smoke"

		BeforeAll(func(ctx SpecContext) {
			ens = startEnsemble(ctx, harness.WithVersion(v.Version), harness.WithNodes(nodes))
		}, NodeTimeout(2*time.Minute))

		It("has one leader and every other node follows", func(ctx SpecContext) {
			leader, err := ens.Leader(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(ens.Followers(ctx)).To(HaveLen(nodes-1), "leader is %s", describe(leader))
			// The first spec's time includes the BeforeAll's start, which parallel
			// processes on 2 cores slow down.
		}, SpecTimeout(2*time.Minute+30*time.Second))

		It("reads on every node what was written on one", func(ctx SpecContext) {
			writer, err := ens.Node(1).Connect(ctx)
			Expect(err).NotTo(HaveOccurred())
			defer writer.Close()
			_, err = writer.Create(path, []byte("v1"), 0, worldACL)
			Expect(err).NotTo(HaveOccurred())
			for _, n := range ens.Nodes() {
				conn, err := n.Connect(ctx)
				Expect(err).NotTo(HaveOccurred())
				// A follower may lag the commit: sync first, as a linearizable read must.
				_, err = conn.Sync(path)
				Expect(err).NotTo(HaveOccurred())
				data, _, err := conn.Get(path)
				conn.Close()
				Expect(err).NotTo(HaveOccurred(), describe(n))
				Expect(string(data)).To(Equal("v1"), describe(n))
			}
		}, SpecTimeout(60*time.Second))

		It("elects a new leader when the leader is killed, and keeps the data", func(ctx SpecContext) {
			old, err := ens.Leader(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(old.Kill(ctx)).To(Succeed())
			Eventually(ctx, modeOf(old)).Should(Equal(harness.ModeDown))
			Eventually(ctx, servingOf(ens, ens.Others(old)...)).WithPolling(100 * time.Millisecond).Should(Succeed())
			leader, err := ens.Leader(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(leader).NotTo(Equal(old))

			conn, err := leader.Connect(ctx)
			Expect(err).NotTo(HaveOccurred())
			defer conn.Close()
			data, _, err := conn.Get(path)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(data)).To(Equal("v1"))

			// Bring the old leader back so the next spec starts from a full ensemble.
			Expect(old.Start(ctx)).To(Succeed())
			Eventually(ctx, servingOf(ens)).WithPolling(100 * time.Millisecond).Should(Succeed())
		}, SpecTimeout(90*time.Second))

		It("reached every node only through the path chosen for this process", func(ctx SpecContext) {
			if want := expectedReach(); want != "" {
				Expect(ens.Reach()).To(Equal(want), "the path chosen automatically")
			}
			dials := ens.DialStats()
			switch ens.Reach() {
			case harness.ReachTunnel:
				Expect(dials.Direct).To(BeZero(), "dials to container addresses: %s", dials)
				Expect(dials.Tunnel).To(BeNumerically(">", 0), "%s", dials)
			case harness.ReachDirect:
				Expect(dials.Tunnel).To(BeZero(), "%s", dials)
				Expect(dials.Direct).To(BeNumerically(">", 0), "%s", dials)
			default:
				Fail(fmt.Sprintf("reach %q unresolved", ens.Reach()))
			}
		})

		It("takes back a follower that was stopped and started", func(ctx SpecContext) {
			followers := ens.Followers(ctx)
			Expect(followers).NotTo(BeEmpty())
			f := followers[0]
			Expect(f.Stop(ctx)).To(Succeed())
			Expect(f.State(ctx).Mode).To(Equal(harness.ModeDown))

			conn, err := ens.Connect(ctx)
			Expect(err).NotTo(HaveOccurred())
			defer conn.Close()
			_, err = conn.Set(path, []byte("v2"), -1)
			Expect(err).NotTo(HaveOccurred(), "the quorum serves writes while %s is down", describe(f))

			Expect(f.Start(ctx)).To(Succeed())
			Eventually(ctx, modeOf(f)).WithPolling(100 * time.Millisecond).Should(Equal(harness.ModeFollower))

			direct, err := f.Connect(ctx)
			Expect(err).NotTo(HaveOccurred())
			defer direct.Close()
			_, err = direct.Sync(path)
			Expect(err).NotTo(HaveOccurred())
			data, _, err := direct.Get(path)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(data)).To(Equal("v2"), "%s caught up with the write made while it was down", describe(f))
		}, SpecTimeout(90*time.Second))
	})
}

// A node whose container runs but which this process cannot reach is reported as
// exactly that, with the path, never as "down": the path is cut in each node's own
// firewall (new connections from this process's source address dropped), on both
// paths alike, and healing the cut brings the answers back.
var _ = Describe("An ensemble this process cannot reach", Label("smoke", harness.Versions[len(harness.Versions)-1].Label()), func() {
	It("is reported as running and not reachable via its path, not as down", func(ctx SpecContext) {
		ens := startEnsemble(ctx, harness.WithVersion(harness.Versions[len(harness.Versions)-1].Version))
		rule := []string{"INPUT", "-p", "tcp", "--dport", fmt.Sprint(harness.ClientPort), "-s", ens.ReachSource().String(), "-j", "DROP"}
		for _, n := range ens.Nodes() {
			_, err := n.Exec(ctx, append([]string{"iptables", "-A"}, rule...)...)
			Expect(err).NotTo(HaveOccurred())
		}
		err := ens.Serving(ctx)
		Expect(err).To(HaveOccurred(), "served although every node drops this process's connections")
		AddReportEntry("the error", err.Error())
		for _, n := range ens.Nodes() {
			Expect(err.Error()).To(ContainSubstring(n.Name+"=running, not reachable from this process via "+string(ens.Reach())), "the error: %v", err)
		}
		Expect(err.Error()).NotTo(ContainSubstring("=down"))

		for _, n := range ens.Nodes() {
			_, err := n.Exec(ctx, append([]string{"iptables", "-D"}, rule...)...)
			Expect(err).NotTo(HaveOccurred())
		}
		Eventually(ctx, servingOf(ens)).WithPolling(100 * time.Millisecond).Should(Succeed())
	}, SpecTimeout(90*time.Second))
})
