package scenarios_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
	"github.com/zkchaos/zkchaos/reports"
	"github.com/zkchaos/zkchaos/scenarios"
)

// F4 — "Have smaller server identifier, so dropping the connection": the reported
// cause is restarting the smallest myid last (docs/F4.md). A restart-order
// experiment per version (label slow: `make slow`): 3 and 5 nodes; orders
// ascending, descending (smallest last) and random (from Ginkgo's seed); triggers
// none, a stale address, an advertised address nobody can reach, a dead election
// listener, and a one-way drop. Rejoin times are measured and recorded, not
// asserted; the evidence is. Where a trigger does not keep myid 1 out on a
// version, that is the verdict, with its evidence.
var _ = Describe("F4: restart order and the smallest myid", Label("F4", "slow"), func() {
	const bound = 3 * time.Minute
	// short bounds a stuck node: long enough for the election back-off to show
	// (the F4 detector calls an open LOOKING stretch stuck after ~6 s of time outs).
	const short = 45 * time.Second
	rng := rand.New(rand.NewPCG(uint64(GinkgoRandomSeed()), 4))
	random := func(n int) []int {
		order := make([]int, n)
		for i, p := range rng.Perm(n) {
			order[i] = p + 1
		}
		return order
	}
	asc := func(n int) []int {
		o := make([]int, n)
		for i := range o {
			o[i] = i + 1
		}
		return o
	}
	desc := func(n int) []int { o := asc(n); slices.Reverse(o); return o }

	for _, v := range harness.Versions {
		Context("on "+v.Version, Ordered, Label(v.Label()), func() {
			var rec *reports.Record
			var table []scenarios.F4Cell

			BeforeAll(func() {
				rec = reports.New("F4-restart-order", "Restart orders × triggers: does the smallest myid rejoin?", v.Version)
				keepRecord(rec) // written after the table below is added (LIFO)
				DeferCleanup(func() {
					var b strings.Builder
					fmt.Fprintf(&b, "| %s nodes | order | trigger | rejoined | seconds after the last start | stuck | detector | evidence |\n|---|---|---|---|---|---|---|---|\n", v.Version)
					for _, c := range table {
						var fs []string
						for _, f := range c.Findings {
							fs = append(fs, string(f.Failure)+"@"+f.Node)
						}
						fmt.Fprintf(&b, "| %d | %v | %s | %v | %.1f | %v | %s | %s |\n", c.Nodes, c.Order, c.Trigger, c.Rejoined, c.Seconds, c.Stuck,
							strings.Join(fs, " "), strings.Join(c.Evidence, "<br>"))
						rec.Figure(fmt.Sprintf("%d nodes %v %s: seconds", c.Nodes, c.Order, c.Trigger), c.Seconds)
					}
					rec.Note("%s", b.String())
					AddReportEntry("F4 restart-order table "+v.Version, b.String())
				})
			})

			cell := func(ctx SpecContext, nodes int, order []int, trigger scenarios.F4Trigger) scenarios.F4Cell {
				ens, c, err := scenarios.F4RestartOrder(ctx, v, nodes, order, trigger, bound, rec, GinkgoWriter)
				registerEnsemble(ens)
				Expect(err).NotTo(HaveOccurred())
				table = append(table, c)
				Expect(ens.Terminate(ctx)).To(Succeed())
				return c
			}

			for _, tc := range []struct {
				nodes int
				order []int
			}{{3, asc(3)}, {3, desc(3)}, {3, random(3)}, {5, desc(5)}, {5, random(5)}} {
				It(fmt.Sprintf("rejoins after a plain restart of %d nodes in order %v", tc.nodes, tc.order), func(ctx SpecContext) {
					c := cell(ctx, tc.nodes, tc.order, scenarios.F4None)
					Expect(c.Rejoined).To(BeTrue(), c.String())
					// The tie-break line is part of every normal start: it is not F4 by itself.
					Expect(c.Evidence).To(ContainElement(ContainSubstring("Have smaller server identifier")))
					Expect(c.Findings).To(BeEmpty())
				}, SpecTimeout(time.Duration(tc.nodes)*bound))
			}

			It("rejoins at once when myid 1 moves first (its peers restart after it and resolve the new address)", func(ctx SpecContext) {
				c := cell(ctx, 3, asc(3), scenarios.F4StaleIP)
				Expect(c.Rejoined).To(BeTrue(), c.String())
				rec.Evidence("", "%s", c)
			}, SpecTimeout(3*bound))

			It("measures the smallest myid restarted last on a new address", func(ctx SpecContext) {
				c := cell(ctx, 3, desc(3), scenarios.F4StaleIP)
				// The fault itself: zk1 moved, and the name already answers the new address.
				Expect(c.NewIP).NotTo(Equal(c.OldIP))
				Expect(c.ResolvedIP).To(Equal(c.NewIP), "Docker's DNS answers the new address: any stale one is cached in the peers")
				rec.Evidence("", "%s", c)
				switch {
				case !c.Rejoined:
					rec.Note("%s: the smallest myid restarted last on a new address was not serving after %s (stuck %v), %d dial-backs to its old address: the reported claim holds here", v.Version, bound, c.Stuck, c.StaleDials)
				case c.StaleDials > 0:
					rec.Note("%s: the smallest myid restarted last on a new address rejoined after %.0f s, not never: its peers dialled the old address %d time(s) until they re-resolved the name (the JVM caches names for 30 s)", v.Version, c.Seconds, c.StaleDials)
				default:
					rec.Note("%s: the smallest myid restarted last on a new address rejoined after %.1f s: its peers dialled the new address at once", v.Version, c.Seconds)
				}
			}, SpecTimeout(3*bound))

			// stuckCase restarts myid 1 last under a trigger that may keep it out. If it is
			// kept out: the evidence, the F4 detector's finding (while it is alive and
			// LOOKING), and the remedies measured. If not: the verdict that the trigger does
			// not keep it out here, and the evidence that the trigger was applied.
			stuckCase := func(ctx SpecContext, nodes int, trigger scenarios.F4Trigger, applied func(c scenarios.F4Cell)) {
				ens, c, err := scenarios.F4RestartOrder(ctx, v, nodes, desc(nodes), trigger, short, rec, GinkgoWriter)
				registerEnsemble(ens)
				Expect(err).NotTo(HaveOccurred())
				table = append(table, c)
				applied(c)
				rec.Evidence("zk1", "%s", c)
				for _, e := range c.Evidence {
					rec.Evidence("", "%s", e)
				}
				for _, f := range c.Findings {
					rec.Add(reports.KindFinding, f.Node, "%s: %s", f.Failure, strings.Join(f.Evidence, " | "))
				}
				if !slices.Contains(c.Stuck, 1) {
					Expect(c.Rejoined).To(BeTrue(), c.String())
					rec.Note("%s, %d nodes, trigger %s: myid 1 restarted last rejoined after %.1f s: this trigger does not keep the smallest myid out on this version", v.Version, nodes, trigger, c.Seconds)
					return
				}
				rec.Verdict.Reproduced = true
				exited, code, err := ens.Node(1).Exited(ctx)
				Expect(err).NotTo(HaveOccurred())
				if exited {
					rec.Evidence("zk1", "the server exited with code %d", code)
				} else {
					f4 := findingOf(c.Findings, detect.F4)
					Expect(f4).NotTo(BeNil(), "the F4 detector names the stuck node: %v", c.Findings)
					Expect(f4.Node).To(Equal("zk1"))
					rec.Evidence("zk1", "F4 detector: %s", f4.Explanation)
					rec.Verdict.Detected = true
				}
				remedies, err := scenarios.TryRemedies(ctx, ens, trigger, short, rec)
				Expect(err).NotTo(HaveOccurred())
				Expect(remedies).NotTo(BeEmpty())
				var worked []string
				for _, r := range remedies {
					rec.Evidence("zk1", "remedy %q: worked %v after %.1f s", r.Name, r.Worked, r.Seconds)
					if r.Worked {
						worked = append(worked, r.Name)
					}
				}
				last := remedies[len(remedies)-1]
				Expect(last.Worked).To(BeTrue(), "the last remedy tried brought myid 1 back")
				// The verdict's fix is the documented one: it fails on this version if it failed in any stuck case.
				switch {
				case !remedies[0].Worked:
					rec.Verdict.Fix, rec.Verdict.Fixed = reports.FixFails, false
				case rec.Verdict.Fix == "":
					rec.Verdict.Fix, rec.Verdict.Fixed = reports.FixWorks, true
				}
				rec.Note("%s, %d nodes, trigger %s: myid 1 restarted last stayed out (%s bound); remedies tried in turn: %s; the first that worked: %q (%.1f s). The documented remedy worked: %v",
					v.Version, nodes, trigger, short, remedyList(remedies), worked[0], last.Seconds, remedies[0].Worked)
				Expect(ens.Terminate(ctx)).To(Succeed())
			}

			It("keeps the smallest myid out when its larger peers cannot dial it back (one-way drop), and measures the remedies", func(ctx SpecContext) {
				stuckCase(ctx, 3, scenarios.F4Drop, func(c scenarios.F4Cell) {
					Expect(c.Evidence).To(ContainElement(ContainSubstring("zk1: ")), "myid 1 dialled its larger peers and dropped the connections")
					Expect(c.Evidence).To(ContainElement(ContainSubstring("Have smaller server identifier")))
				})
			}, SpecTimeout(10*time.Minute))

			It("measures the one-way drop on 5 nodes", func(ctx SpecContext) {
				stuckCase(ctx, 5, scenarios.F4Drop, func(c scenarios.F4Cell) {
					Expect(c.Evidence).To(ContainElement(ContainSubstring("Have smaller server identifier")))
				})
			}, SpecTimeout(12*time.Minute))

			It("measures myid 1 advertising an election address its peers cannot reach", func(ctx SpecContext) {
				stuckCase(ctx, 3, scenarios.F4Advertised, func(c scenarios.F4Cell) {
					// Applied: zk1 listens on every interface (3.4.13 "My election bind port:
					// 0.0.0.0/0.0.0.0:3888", 3.9.3 "... my election bind port: /0.0.0.0:3888").
					Expect(c.Evidence).To(ContainElement(MatchRegexp(`election bind port: /?0\.0\.0\.0`)), c.String())
				})
			}, SpecTimeout(10*time.Minute))

			It("measures myid 1 with a dead election listener (its own line names an address it lacks)", func(ctx SpecContext) {
				stuckCase(ctx, 3, scenarios.F4DeadListener, func(c scenarios.F4Cell) {
					Expect(c.Evidence).To(ContainElement(Or(ContainSubstring("As I'm leaving the listener thread"), ContainSubstring("Exiting JVM with code 14"))), c.String())
				})
			}, SpecTimeout(10*time.Minute))
		})
	}
})

func remedyList(rs []scenarios.F4Remedy) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%q worked %v", r.Name, r.Worked))
	}
	return strings.Join(parts, "; ")
}
