package scenarios_test

import (
	"strings"
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
				keepRecord(s.Record)
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

// Where F2 ends: the dataDir on a small disk fills, nodes die one after another
// ("No space left on device", "Severe unrecoverable error") until the quorum is lost.
var _ = Describe("F2 on a small disk", Label("F2", "disk"), func() {
	const disk, writes, size = "150m", 20000, 2048
	for _, v := range harness.Versions {
		Context("on "+v.Version, Ordered, Label(v.Label()), func() {
			var s *scenarios.F2
			var unpurged scenarios.FillResult

			BeforeAll(func() {
				s = scenarios.NewF2(v, GinkgoWriter)
				s.Record.Scenario = "F2-disk"
				s.Record.Title = "dataDir/version-2 growth on a " + disk + " disk"
				keepRecord(s.Record)
			})

			It("kills nodes with a full disk until the quorum is lost", func(ctx SpecContext) {
				ens, err := s.Start(ctx, harness.WithTmpfs("/data", disk))
				registerEnsemble(ens)
				Expect(err).NotTo(HaveOccurred())
				unpurged, err = s.Fill(ctx, writes, size)
				Expect(err).NotTo(HaveOccurred())
				Expect(unpurged.Deaths).NotTo(BeEmpty(), "a node died of the full disk: %d written, errors %v", unpurged.Written, unpurged.Errors)
				Expect(unpurged.QuorumLost).To(BeTrue(), "the quorum was lost")
				Expect(unpurged.Written).To(BeNumerically("<", writes), "the load could not finish")
				first := unpurged.Deaths[0]
				logs, err := first.Node.Logs(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(logs).To(ContainSubstring("No space left on device"))
				Expect(first.ExitCode).NotTo(BeZero())
				for _, d := range unpurged.Deaths {
					s.Record.Evidence(d.Node.Name, "exited with code %d after %d writes, %.1f s into the load", d.ExitCode, d.AfterWrites, d.After.Seconds())
				}
				Expect(ens.Serving(ctx)).NotTo(Succeed(), "no quorum is left")
				states := ens.States(ctx)
				for _, n := range ens.Nodes() {
					s.Record.Add(reports.KindState, n.Name, "at the end: %s", states[n.MyID].Mode)
				}
				s.Record.Evidence("", "quorum lost %.1f s into the load: %d of 3 nodes exited after %d writes of %d bytes, the others not serving",
					unpurged.QuorumLostAfter.Seconds(), len(unpurged.Deaths), unpurged.Written, size)
				s.Record.Figure("writes_until_first_death", float64(first.AfterWrites))
				s.Record.Figure("seconds_until_first_death", first.After.Seconds())
				s.Record.Verdict.Reproduced = true

				nl, err := detect.ScanLog(first.Node.Name, strings.NewReader(logs))
				Expect(err).NotTo(HaveOccurred())
				findings := detect.Detect(detect.Observations{Logs: []*detect.NodeLog{nl}})
				Expect(findings).To(ContainElement(SatisfyAll(
					HaveField("Failure", detect.F2),
					HaveField("Node", first.Node.Name),
					HaveField("Evidence", ContainElement(ContainSubstring("No space left on device"))),
				)))
				s.Record.Verdict.Detected = true
				Expect(ens.Terminate(ctx)).To(Succeed())
			}, SpecTimeout(5*time.Minute))

			// purgeInterval is in hours: a burst that fills the disk in seconds is over
			// before the first scheduled purge. The claim "with autopurge on, the same
			// load survives" is measured here, and expected to be false for a burst.
			It("is not saved by autopurge when the same burst fills the disk within the purge interval", func(ctx SpecContext) {
				Expect(unpurged.Deaths).NotTo(BeEmpty(), "needs the unpurged run")
				s.Record.Add(reports.KindFix, "", "same disk and load, autopurge.purgeInterval=1, autopurge.snapRetainCount=3")
				ens, err := s.Start(ctx, harness.WithTmpfs("/data", disk),
					harness.WithConfig("autopurge.purgeInterval", "1"), harness.WithConfig("autopurge.snapRetainCount", "3"))
				registerEnsemble(ens)
				Expect(err).NotTo(HaveOccurred())
				purged, err := s.Fill(ctx, writes, size)
				Expect(err).NotTo(HaveOccurred())
				fill := unpurged.Deaths[0].After
				Expect(fill).To(BeNumerically("<", time.Hour), "the disk filled within one purge interval")
				Expect(purged.Deaths).NotTo(BeEmpty(), "with autopurge on, the burst still filled the disk")
				s.Record.Evidence(purged.Deaths[0].Node.Name, "with autopurge.purgeInterval=1 (hours): %s exited with code %d after %d writes",
					purged.Deaths[0].Node.Name, purged.Deaths[0].ExitCode, purged.Deaths[0].AfterWrites)
				s.Record.Note("autopurge does not save a disk filled by a burst: the first node died after %.0f s, the purge runs every hour (and once at start-up); size the disk for the growth within one interval, or purge more often (purgeInterval is a whole number of hours)", fill.Seconds())
				s.Record.Verdict.Fixed = false
			}, SpecTimeout(5*time.Minute))
		})
	}
})

// Users of small disks ask what preAllocSize changes: transaction logs are
// preallocated in preAllocSize steps (64 MiB by default, in KiB in zoo.cfg).
var _ = Describe("F2: what preAllocSize does to the footprint", Label("F2"), Ordered, func() {
	v := harness.Versions[len(harness.Versions)-1]
	var rec *reports.Record

	BeforeAll(func() {
		rec = reports.New("F2-prealloc", "Disk footprint of the same load with preAllocSize 64 MiB (default) and 4 MiB", v.Version)
		keepRecord(rec)
	})

	measure := func(ctx SpecContext, opts ...harness.Option) scenarios.Usage {
		s := scenarios.NewF2(v, GinkgoWriter)
		ens, err := s.Start(ctx, opts...)
		registerEnsemble(ens)
		Expect(err).NotTo(HaveOccurred())
		r, err := s.Write(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Failed).To(BeZero())
		u, err := scenarios.DataDirUsage(ctx, ens.Node(1))
		Expect(err).NotTo(HaveOccurred())
		Expect(ens.Terminate(ctx)).To(Succeed())
		return u
	}

	It("shrinks what ls shows, not what the disk holds", Label(v.Label()), func(ctx SpecContext) {
		def := measure(ctx)
		small := measure(ctx, harness.WithConfig("preAllocSize", "4096"))
		rec.Evidence("zk1", "preAllocSize default (65536 KiB): %s", def)
		rec.Evidence("zk1", "preAllocSize=4096 KiB: %s", small)
		rec.Figure("apparent_MiB_default", float64(def.Apparent)/(1<<20))
		rec.Figure("allocated_MiB_default", float64(def.Allocated)/(1<<20))
		rec.Figure("apparent_MiB_prealloc_4MiB", float64(small.Apparent)/(1<<20))
		rec.Figure("allocated_MiB_prealloc_4MiB", float64(small.Allocated)/(1<<20))
		Expect(def.Logs).To(BeNumerically(">", 1))
		// Each log is at least one preallocation step long: 64 MiB vs 4 MiB.
		Expect(def.Apparent).To(BeNumerically(">=", int64(def.Logs)*64<<20))
		Expect(small.Apparent).To(BeNumerically("<", def.Apparent/4))
		rec.Note("same %d writes: apparent size %.0f MiB → %.0f MiB, allocated %.1f MiB → %.1f MiB when preAllocSize goes from 64 MiB to 4 MiB (preallocated logs are sparse files)",
			3000, float64(def.Apparent)/(1<<20), float64(small.Apparent)/(1<<20), float64(def.Allocated)/(1<<20), float64(small.Allocated)/(1<<20))
	}, SpecTimeout(4*time.Minute))
})
