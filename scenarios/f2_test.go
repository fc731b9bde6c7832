package scenarios_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
	"github.com/zkchaos/zkchaos/reports"
	"github.com/zkchaos/zkchaos/scenarios"
)

// F2 — transaction logs and snapshots fill dataDir/version-2. Fix: turn on autopurge.
var _ = Describe("F2: transaction logs and snapshots fill version-2", Label("F2"), func() {
	for _, v := range harness.Versions {
		Context("on "+v.Version, Ordered, Label(v.Label()), func() {
			var s *scenarios.F2
			var before, grown map[int]scenarios.Usage
			var written int

			BeforeAll(func(ctx SpecContext) {
				s = scenarios.NewF2(v, GinkgoWriter)
				ens, err := s.Start(ctx)
				registerEnsemble(ens)
				Expect(err).NotTo(HaveOccurred())
				DeferCleanup(func() {
					path, err := s.Record.WriteJSON(reports.Dir(".."))
					Expect(err).NotTo(HaveOccurred())
					AddReportEntry("run record", path)
				})
			}, NodeTimeout(2*time.Minute))

			It("grows on every node under a bounded write load while autopurge is off", func(ctx SpecContext) {
				var err error
				before, err = s.Usages(ctx)
				Expect(err).NotTo(HaveOccurred())
				r, err := s.Write(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(r.Failed).To(BeZero(), "writes failed: %v", r.Errors)
				written = r.Written
				s.Record.Figure("write_ops_per_s", r.OpsPerSec())
				grown, err = s.Usages(ctx)
				Expect(err).NotTo(HaveOccurred())
				for _, n := range s.Ens.Nodes() {
					b, a := before[n.MyID], grown[n.MyID]
					Expect(a.Snapshots).To(BeNumerically(">", 3), "%s keeps more snapshots than snapRetainCount would", a)
					Expect(a.Apparent).To(BeNumerically(">", b.Apparent))
					Expect(a.Allocated).To(BeNumerically(">", b.Allocated))
					s.Record.Evidence(n.Name, "before %d writes: %s; after: %s", written, b, a)
				}
				a, b := grown[1], before[1]
				k := float64(written) / 1000
				s.Record.Figure("growth_apparent_MiB_per_1000_writes", float64(a.Apparent-b.Apparent)/(1<<20)/k)
				s.Record.Figure("growth_allocated_MiB_per_1000_writes", float64(a.Allocated-b.Allocated)/(1<<20)/k)
				s.Record.Figure("snapshots_after_load", float64(a.Snapshots))
				s.Record.Verdict.Reproduced = true
			}, SpecTimeout(3*time.Minute))

			It("is recognised by the F2 detector on every node's listing and zoo.cfg", func(ctx SpecContext) {
				findings, err := s.Detect(ctx)
				Expect(err).NotTo(HaveOccurred())
				for _, n := range s.Ens.Nodes() {
					Expect(findings).To(ContainElement(SatisfyAll(
						HaveField("Failure", detect.F2),
						HaveField("Node", n.Name),
						HaveField("Evidence", ContainElement(ContainSubstring("purging is disabled"))),
					)), "no F2 finding for %s: %v", n.Name, findings)
				}
				s.Record.Verdict.Detected = true
			}, SpecTimeout(time.Minute))

			It("is fixed by autopurge: at most 3 snapshots remain, nothing is lost, the detector is clean", func(ctx SpecContext) {
				Expect(s.EnableAutopurge(ctx, 3)).To(Succeed())
				after, err := s.Usages(ctx)
				Expect(err).NotTo(HaveOccurred())
				for _, n := range s.Ens.Nodes() {
					a := after[n.MyID]
					since, err := scenarios.SnapshotsSincePurge(ctx, n)
					Expect(err).NotTo(HaveOccurred())
					Expect(a.Snapshots).To(BeNumerically("<=", 3+since),
						"%s: the purge keeps 3 snapshots; %d were written after it", a, since)
					if since > 0 {
						s.Record.Note("%s wrote %d snapshot(s) after its start-up purge (a follower snapshots when it syncs with the leader): %d on disk until the next purge, %s of autopurge.purgeInterval later",
							n.Name, since, a.Snapshots, "1 h")
					}
					Expect(a.Allocated).To(BeNumerically("<", grown[n.MyID].Allocated), "the purge freed space on %s", n.Name)
					s.Record.Evidence(n.Name, "after the fix: %s (was %s)", a, grown[n.MyID])
				}
				s.Record.Figure("allocated_MiB_after_purge", float64(after[1].Allocated)/(1<<20))
				s.Record.Figure("apparent_MiB_after_purge", float64(after[1].Apparent)/(1<<20))

				intact, err := s.ReadAll(ctx, written)
				Expect(err).NotTo(HaveOccurred())
				for _, n := range s.Ens.Nodes() {
					Expect(intact[n.Name]).To(Equal(written), "a purge that loses data is a failed fix")
				}
				s.Record.Evidence("", "all %d znodes read back intact through each of the %d nodes", written, len(s.Ens.Nodes()))

				findings, err := s.Detect(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(findings).To(BeEmpty())
				s.Record.Verdict.Fixed = true
			}, SpecTimeout(5*time.Minute))
		})
	}
})
