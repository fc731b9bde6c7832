package scenarios_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/fault"
	"github.com/zkchaos/zkchaos/harness/history"
)

// The checker can fail on a real history: plain reads from followers are only
// sequentially consistent, so treating them as linearizable must report a
// violation, while the default model (plain reads excluded) must not. The stale
// reads are caused, not waited for: one follower stops hearing the leader (a
// one-way drop, shorter than syncLimit, so it keeps serving) while the other
// nodes take writes and a plain reader pinned to it reads.
var _ = Describe("History checker on a real ensemble", Label("upgrade", "history"), func() {
	It("reports stale follower reads as a violation only when they are wrongly counted as linearizable", func(ctx SpecContext) {
		ens := startEnsemble(ctx, harness.WithVersion(harness.DefaultVersion))
		followers := ens.Followers(ctx)
		Expect(followers).To(HaveLen(2), "a 3-node ensemble has two followers")
		cut := followers[0]
		var servers [][]string
		for _, n := range ens.Nodes() {
			if n != cut {
				servers = append(servers, []string{n.ClientAddr()}, []string{n.ClientAddr()})
			}
		}
		servers = append(servers, []string{cut.ClientAddr()}) // the plain reader, last
		load, err := history.Go(ctx, history.Workload{Servers: servers, PlainReaders: 1, Keys: 2, Duration: 8 * time.Second,
			Seed: GinkgoRandomSeed(), SessionTimeout: 10 * time.Second, Dialer: ens.ZKDialer()})
		Expect(err).NotTo(HaveOccurred())

		f, err := fault.Apply(ctx, ens, fault.Spec{Kind: fault.Drop, Nodes: []int{cut.MyID}})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx context.Context) { _ = f.Heal(ctx) })
		Eventually(func() bool { Expect(f.Probe(ctx)).To(Succeed()); return f.Took }).WithContext(ctx).
			WithTimeout(10*time.Second).Should(BeTrue(), "%s: %s", f, f.Evidence)
		// Writes go on through the leader and the other follower for 3 s while
		// the cut follower still answers its reader (syncLimit is longer).
		time.Sleep(3 * time.Second)
		Expect(f.Heal(ctx)).To(Succeed())
		Expect(f.Healed).To(BeTrue(), "%s", f.HealEvidence)
		fmt.Fprintf(GinkgoWriter, "%s; healed: %s\n", f, f.HealEvidence)

		h, err := load.Wait()
		Expect(err).NotTo(HaveOccurred())
		ok, err := history.Check(h, history.Options{Timeout: time.Minute})
		Expect(err).NotTo(HaveOccurred())
		strict, err := history.Check(h, history.Options{Timeout: time.Minute, CheckPlainReadsAsLinearizable: true})
		Expect(err).NotTo(HaveOccurred())
		fmt.Fprintf(GinkgoWriter, "default: %s\nplain reads as linearizable: %s\n", ok, strict)
		Expect(ok.Linearizable).To(BeTrue(), "writes and sync+reads: %s", ok)
		Expect(ok.Checked).To(BeNumerically(">", 100), "the workload ran: %s", ok)
		Expect(strict.Linearizable).To(BeFalse(), "plain reads of %s, cut off from its leader while the others took writes, counted as linearizable: %s", cut.Name, strict)
	}, SpecTimeout(5*time.Minute))
})
