package scenarios_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/reports"
	"github.com/zkchaos/zkchaos/scenarios"
)

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
