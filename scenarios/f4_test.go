package scenarios_test

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/reports"
	"github.com/zkchaos/zkchaos/scenarios"
)

// F4 — "Have smaller server identifier, so dropping the connection": the seed blames
// restarting the smallest myid last. A restart-order experiment per version (label
// slow: `make slow`): orders ascending and descending (smallest last), with no
// trigger and with myid 1 coming back on a new address while its peers keep the old
// one. Rejoin times are measured and recorded, not asserted; the evidence is.
var _ = Describe("F4: restart order and the smallest myid", Label("F4", "slow"), func() {
	const bound = 3 * time.Minute
	for _, v := range harness.Versions {
		Context("on "+v.Version, Ordered, Label(v.Label()), func() {
			var rec *reports.Record
			var table []scenarios.F4Cell

			BeforeAll(func() {
				rec = reports.New("F4-restart-order", "Restart orders × triggers: does the smallest myid rejoin?", v.Version)
				keepRecord(rec) // written after the table below is added (LIFO)
				DeferCleanup(func() {
					var b strings.Builder
					fmt.Fprintf(&b, "| %s order | trigger | rejoined within %s | seconds after the last start | stuck | evidence |\n|---|---|---|---|---|---|\n", v.Version, bound)
					for _, c := range table {
						fmt.Fprintf(&b, "| %v | %s | %v | %.1f | %v | %s |\n", c.Order, c.Trigger, c.Rejoined, c.Seconds, c.Stuck, strings.Join(c.Evidence, "<br>"))
						rec.Figure(fmt.Sprintf("%v %s: seconds", c.Order, c.Trigger), c.Seconds)
					}
					rec.Note("%s", b.String())
					AddReportEntry("F4 restart-order table "+v.Version, b.String())
				})
			})

			cell := func(ctx SpecContext, order []int, trigger scenarios.F4Trigger) scenarios.F4Cell {
				ens, c, err := scenarios.F4RestartOrder(ctx, v, 3, order, trigger, bound, rec, GinkgoWriter)
				registerEnsemble(ens)
				Expect(err).NotTo(HaveOccurred())
				table = append(table, c)
				Expect(ens.Terminate(ctx)).To(Succeed())
				return c
			}

			for _, order := range [][]int{{1, 2, 3}, {3, 2, 1}} {
				It(fmt.Sprintf("rejoins after a plain restart in order %v", order), func(ctx SpecContext) {
					c := cell(ctx, order, scenarios.F4None)
					Expect(c.Rejoined).To(BeTrue(), c.String())
					// The tie-break line is part of every normal start: it is not F4 by itself.
					Expect(c.Evidence).To(ContainElement(ContainSubstring("Have smaller server identifier")))
					Expect(c.Findings).To(BeEmpty())
				}, SpecTimeout(3*bound))
			}

			It("rejoins at once when myid 1 moves first (its peers restart after it and resolve the new address)", func(ctx SpecContext) {
				c := cell(ctx, []int{1, 2, 3}, scenarios.F4StaleIP)
				Expect(c.Rejoined).To(BeTrue(), c.String())
				rec.Evidence("", "%s", c)
			}, SpecTimeout(3*bound))

			It("measures the smallest myid restarted last on a new address", func(ctx SpecContext) {
				c := cell(ctx, []int{3, 2, 1}, scenarios.F4StaleIP)
				// The fault itself: zk1 moved, and the name already answers the new address.
				Expect(c.NewIP).NotTo(Equal(c.OldIP))
				Expect(c.ResolvedIP).To(Equal(c.NewIP), "Docker's DNS answers the new address: any stale one is cached in the peers")
				rec.Evidence("", "%s", c)
				switch {
				case !c.Rejoined:
					rec.Note("%s: the smallest myid restarted last on a new address was not serving after %s (stuck %v), %d dial-backs to its old address: the seed's claim holds here", v.Version, bound, c.Stuck, c.StaleDials)
				case c.StaleDials > 0:
					rec.Note("%s: the smallest myid restarted last on a new address rejoined after %.0f s, not never: its peers dialled the old address %d time(s) until they re-resolved the name (the JVM caches names for 30 s)", v.Version, c.Seconds, c.StaleDials)
				default:
					rec.Note("%s: the smallest myid restarted last on a new address rejoined after %.1f s: its peers dialled the new address at once", v.Version, c.Seconds)
				}
			}, SpecTimeout(3*bound))

			It("keeps the smallest myid out when its larger peers cannot dial it back, and measures the remedies", func(ctx SpecContext) {
				const short = 45 * time.Second
				ens, c, err := scenarios.F4RestartOrder(ctx, v, 3, []int{3, 2, 1}, scenarios.F4Drop, short, rec, GinkgoWriter)
				registerEnsemble(ens)
				Expect(err).NotTo(HaveOccurred())
				table = append(table, c)
				Expect(c.Stuck).To(ContainElement(1), c.String())
				Expect(c.Evidence).To(ContainElement(ContainSubstring("zk1: ")), "myid 1 dialled its larger peers and dropped the connections")
				Expect(c.Evidence).To(ContainElement(ContainSubstring("Have smaller server identifier")))
				rec.Evidence("zk1", "%s", c)
				for _, f := range c.Findings {
					rec.Add(reports.KindFinding, f.Node, "%s: %s", f.Failure, strings.Join(f.Evidence, " | "))
				}

				remedies, err := scenarios.TryRemedies(ctx, ens, short, rec)
				Expect(err).NotTo(HaveOccurred())
				Expect(remedies).NotTo(BeEmpty())
				for _, r := range remedies {
					rec.Evidence("zk1", "remedy %q: worked %v after %.1f s", r.Name, r.Worked, r.Seconds)
				}
				last := remedies[len(remedies)-1]
				Expect(last.Worked).To(BeTrue(), "the last remedy tried brought myid 1 back")
				if !remedies[0].Worked {
					rec.Note("%s: with a one-way firewall drop the seed's remedy (restart the others in ascending myid) did not bring myid 1 back; removing the cause did (%.1f s)", v.Version, last.Seconds)
				} else {
					rec.Note("%s: with a one-way firewall drop the seed's remedy brought myid 1 back (%.1f s)", v.Version, remedies[0].Seconds)
				}
				Expect(ens.Terminate(ctx)).To(Succeed())
			}, SpecTimeout(8*time.Minute))
		})
	}
})
