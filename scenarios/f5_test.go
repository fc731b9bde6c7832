package scenarios_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
	"github.com/zkchaos/zkchaos/scenarios"
)

// F5 — clients occasionally fail to connect: a flood of short-lived connections
// overflows the client port's accept queue (ZooKeeper's backlog is 50).
var _ = Describe("F5: a short-connection flood overflows the listen backlog", Label("F5"), func() {
	for _, v := range harness.Versions {
		Context("on "+v.Version, Ordered, Label(v.Label()), func() {
			var s *scenarios.F5
			var runs []scenarios.F5Run
			variants := scenarios.F5Variants()
			run := func(ctx SpecContext, i int) scenarios.F5Run {
				r, err := s.Run(ctx, variants[i])
				Expect(err).NotTo(HaveOccurred())
				runs = append(runs, r)
				s.Record.Figure(variants[i].Name+": ListenOverflows delta", float64(r.Overflows))
				s.Record.Figure(variants[i].Name+": client failures", float64(r.ClientFailures))
				return r
			}

			BeforeAll(func() {
				s = scenarios.NewF5(v, GinkgoWriter)
				keepRecord(s.Record) // written after the table below is added (LIFO)
				DeferCleanup(func() {
					table := scenarios.F5Table(v.Version, runs)
					s.Record.Note("fix table (same %d/s flood for %s per variant; the flood comes from one client host with maxClientCnxns=0):\n%s", s.Rate, s.Duration, table)
					AddReportEntry("F5 fix table "+v.Version, table)
				})
			})

			It("overflows the accept queue of 50 under the reported rate, and the detector sees it", func(ctx SpecContext) {
				r := run(ctx, 0)
				Expect(r.Backlog).To(BeEquivalentTo(50), "ss -ltn Send-Q of :2181 is ZooKeeper's backlog:\n%s", r.SS)
				Expect(r.Overflows).To(BeNumerically(">", 0), "TcpExt ListenOverflows grew")
				s.Record.Evidence("zk1", "backlog %d; ListenOverflows +%d, ListenDrops +%d during a %d/s flood (achieved %.0f/s); %d of %d attempts failed (connect timeouts %d), p99 connect %.0f ms",
					r.Backlog, r.Overflows, r.Drops, s.Rate, r.Flood.Achieved, r.ClientFailures, r.Requests, r.Flood.ConnectTO, r.Flood.P99Ms)
				s.Record.Verdict.Reproduced = true
				Expect(r.Findings).To(ContainElement(HaveField("Failure", detect.F5)), "findings: %v", r.Findings)
				s.Record.Verdict.Detected = true
			}, SpecTimeout(4*time.Minute))

			It("is not fixed by the kernel limits alone while ZooKeeper passes 50", func(ctx SpecContext) {
				r := run(ctx, 1)
				Expect(r.Backlog).To(BeEquivalentTo(50), "the accept queue is min(backlog, somaxconn)")
				Expect(r.Overflows).To(BeNumerically(">", 0))
				s.Record.Evidence("zk1", "somaxconn and tcp_max_syn_backlog 65535: backlog still %d, ListenOverflows +%d", r.Backlog, r.Overflows)
			}, SpecTimeout(4*time.Minute))

			if v.ClientPortListenBacklog {
				It("is relieved by clientPortListenBacklog=1024 (ZOOKEEPER-974)", func(ctx SpecContext) {
					r := run(ctx, 2)
					Expect(r.Backlog).To(BeEquivalentTo(1024))
					Expect(r.Overflows).To(BeNumerically("<", runs[0].Overflows), "fewer overflows than with 50")
					s.Record.Evidence("zk1", "clientPortListenBacklog=1024: backlog %d, ListenOverflows +%d (was +%d)", r.Backlog, r.Overflows, runs[0].Overflows)
				}, SpecTimeout(4*time.Minute))
			} else {
				It("cannot use clientPortListenBacklog: the option does not exist in this version", func(ctx SpecContext) {
					r := run(ctx, 2)
					Expect(r.Backlog).To(BeEquivalentTo(50), "the unknown key is silently ignored")
					s.Record.Evidence("zk1", "clientPortListenBacklog=1024 set, Send-Q still %d: fix not available in %s", r.Backlog, v.Version)
					s.Record.Note("clientPortListenBacklog (ZOOKEEPER-974, 3.6.0+) is not available in %s: the key is ignored, the backlog stays 50", v.Version)
				}, SpecTimeout(4*time.Minute))
			}

			It("is fixed on the client side: the same rate over long-lived sessions overflows nothing", func(ctx SpecContext) {
				r := run(ctx, 3)
				Expect(r.Reuse.Connected).To(Equal(r.Reuse.Sessions))
				Expect(r.Reuse.OK).To(BeNumerically(">", 0))
				Expect(r.Overflows).To(BeZero())
				Expect(r.Findings).NotTo(ContainElement(HaveField("Failure", detect.F5)))
				s.Record.Evidence("zk1", "%d sessions carried %d of %d requests (%.0f/s achieved): ListenOverflows +%d",
					r.Reuse.Connected, r.Reuse.OK, r.Reuse.Requests, r.Reuse.Achieved, r.Overflows)
				s.Record.Verdict.Fixed = true
			}, SpecTimeout(4*time.Minute))
		})
	}
})
