package scenarios_test

import (
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
	"github.com/zkchaos/zkchaos/reports"
	"github.com/zkchaos/zkchaos/scenarios"
)

// F3 — on one client host some processes can connect, others cannot; the server
// logs "Too many connections from /ip - max is N". Fix: raise maxClientCnxns.
var _ = Describe("F3: some processes on one client host cannot connect", Label("F3"), func() {
	for _, v := range harness.Versions {
		Context("on "+v.Version, Ordered, Label(v.Label()), func() {
			var s *scenarios.F3
			var hostA scenarios.HostResult
			var rejectedBefore int64

			BeforeAll(func(ctx SpecContext) {
				s = scenarios.NewF3(v, GinkgoWriter)
				ens, err := s.Start(ctx)
				registerEnsemble(ens)
				Expect(err).NotTo(HaveOccurred())
				keepRecord(s.Record)
			}, NodeTimeout(2*time.Minute))

			It("refuses exactly the sessions over maxClientCnxns from one host", func(ctx SpecContext) {
				Expect(s.MarkLog(ctx)).To(Succeed())
				var err error
				rejectedBefore, _, err = s.Rejected(ctx)
				Expect(err).NotTo(HaveOccurred())

				s.Record.Add(reports.KindFault, "", "client host A starts %d processes, one session each, to %s", s.Processes, s.Ens.Node(1).Name)
				hostA, err = s.OpenSessions(ctx, "host-a", s.Processes, 1)
				Expect(err).NotTo(HaveOccurred())
				var over []int
				for i := s.Limit + 1; i <= s.Processes; i++ {
					over = append(over, i)
				}
				Expect(hostA.Failed).To(BeEmpty(), "no session may fail for another reason: %v", hostA.Errors)
				Expect(hostA.Refused).To(Equal(over), "the sessions over the limit are refused")
				Expect(hostA.Accepted).To(HaveLen(s.Limit))
				s.Record.Evidence("host-a", "%d of %d sessions from %s accepted, sessions %v refused (maxClientCnxns=%d)",
					len(hostA.Accepted), s.Processes, hostA.Host, hostA.Refused, s.Limit)
				s.Record.Figure("sessions_accepted", float64(len(hostA.Accepted)))
				s.Record.Figure("sessions_refused", float64(len(hostA.Refused)))
			}, SpecTimeout(2*time.Minute))

			It("still serves a second client host: the limit is per source IP", func(ctx SpecContext) {
				hostB, err := s.OpenSessions(ctx, "host-b", 1, 1)
				Expect(err).NotTo(HaveOccurred())
				Expect(hostB.Host).NotTo(Equal(hostA.Host))
				Expect(hostB.Accepted).To(Equal([]int{1}), "host B (%s) connects while host A (%s) is at the limit", hostB.Host, hostA.Host)
				s.Record.Evidence("host-b", "host B %s got a session while host A %s held %d", hostB.Host, hostA.Host, len(hostA.Accepted))
				Expect(s.Release(ctx, hostB)).To(Succeed())
			}, SpecTimeout(2*time.Minute))

			It("logs 'Too many connections from /<host A> - max is N' and counts the rejections", func(ctx SpecContext) {
				var lines, ips []string
				var limits []int
				Eventually(ctx, func(ctx SpecContext) []string {
					var err error
					lines, ips, limits, err = s.Refusals(ctx)
					Expect(err).NotTo(HaveOccurred())
					return lines
				}).ShouldNot(BeEmpty())
				Expect(ips).To(ConsistOf(hostA.Host), "only host A is refused")
				Expect(limits).To(ConsistOf(s.Limit))
				s.Record.Evidence(s.Ens.Node(1).Name, "%s", lines[0])
				if v.ConnectionRejectedMetric {
					after, ok, err := s.Rejected(ctx)
					Expect(err).NotTo(HaveOccurred())
					Expect(ok).To(BeTrue(), "mntr has zk_connection_rejected on %s", v.Version)
					Expect(after - rejectedBefore).To(BeNumerically(">=", len(hostA.Refused)))
					s.Record.Evidence(s.Ens.Node(1).Name, "mntr zk_connection_rejected %d → %d", rejectedBefore, after)
					s.Record.Figure("zk_connection_rejected_delta", float64(after-rejectedBefore))
				}
				s.Record.Verdict.Reproduced = true
			}, SpecTimeout(time.Minute))

			It("is recognised by the F3 detector, which names host A and the limit", func(ctx SpecContext) {
				findings, err := s.Detect(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(findings).To(ContainElement(SatisfyAll(
					HaveField("Failure", detect.F3),
					HaveField("Evidence", ContainElement(ContainSubstring(hostA.Host))),
					HaveField("Evidence", ContainElement(ContainSubstring("max is "+strconv.Itoa(s.Limit)))),
				)), "findings: %v", findings)
				s.Record.Verdict.Detected = true
			}, SpecTimeout(time.Minute))

			It("is also fixed on the client side: processes that share one session each stay under the limit", func(ctx SpecContext) {
				const procs, each = 4, 3 // 12 sessions from 4 processes: over the limit of 10
				perThread, err := s.OpenSessions(ctx, "host-c", procs, each)
				Expect(err).NotTo(HaveOccurred())
				Expect(perThread.Refused).To(HaveLen(procs*each-s.Limit), "%d processes with %d sessions each exceed maxClientCnxns=%d", procs, each, s.Limit)
				Expect(s.Release(ctx, perThread)).To(Succeed())
				shared, err := s.OpenSessions(ctx, "host-c-shared", procs, 1)
				Expect(err).NotTo(HaveOccurred())
				Expect(shared.Refused).To(BeEmpty())
				Expect(shared.Accepted).To(HaveLen(procs))
				s.Record.Evidence("host-c", "%d processes × %d sessions: %d refused; the same %d processes sharing one session each: all %d connected, limit unchanged (%d)",
					procs, each, len(perThread.Refused), procs, len(shared.Accepted), s.Limit)
				Expect(s.Release(ctx, shared)).To(Succeed())
			}, SpecTimeout(2*time.Minute))

			It("is fixed by raising maxClientCnxns: every process connects and the detector is clean", func(ctx SpecContext) {
				Expect(s.Release(ctx, hostA)).To(Succeed())
				Expect(s.RaiseLimit(ctx, 2*s.Processes)).To(Succeed())
				Expect(s.MarkLog(ctx)).To(Succeed())
				again, err := s.OpenSessions(ctx, "host-a-after-fix", s.Processes, 1)
				Expect(err).NotTo(HaveOccurred())
				Expect(again.Refused).To(BeEmpty())
				Expect(again.Accepted).To(HaveLen(s.Processes))
				findings, err := s.Detect(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(findings).To(BeEmpty())
				s.Record.Evidence("host-a-after-fix", "after maxClientCnxns=%d: %d of %d sessions from %s accepted, no F3 finding",
					2*s.Processes, len(again.Accepted), s.Processes, again.Host)
				s.Record.Verdict.Fixed = true
				Expect(s.Release(ctx, again)).To(Succeed())
			}, SpecTimeout(4*time.Minute))

			It("treats maxClientCnxns=0 as unlimited (measured, not assumed)", func(ctx SpecContext) {
				Expect(s.RaiseLimit(ctx, 0)).To(Succeed())
				Expect(s.MarkLog(ctx)).To(Succeed())
				const many = 70 // more than the default limit of 60
				r, err := s.OpenSessions(ctx, "host-a-unlimited", 1, many)
				Expect(err).NotTo(HaveOccurred())
				Expect(r.Refused).To(BeEmpty())
				Expect(r.Accepted).To(HaveLen(many))
				lines, _, _, err := s.Refusals(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(lines).To(BeEmpty())
				s.Record.Evidence("host-a-unlimited", "maxClientCnxns=0: %d of %d sessions from one host accepted", len(r.Accepted), many)
				s.Record.Note("maxClientCnxns=0 is unlimited on %s: %d sessions from one IP, none refused", v.Version, many)
				Expect(s.Release(ctx, r)).To(Succeed())
			}, SpecTimeout(4*time.Minute))
		})
	}
})
