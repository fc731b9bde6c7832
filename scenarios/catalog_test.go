package scenarios_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/reports"
	"github.com/zkchaos/zkchaos/scenarios"
)

// Every catalogue entry on every version, run by the one runner the CLI uses: one
// spec per step, in order, each asserting that the checks it recorded held; then
// the verdict — computed from the observations, never set here — compared with
// the expected table (docs/verdicts.md). A trigger that did not happen, a
// failure that did not follow, a detector that stayed silent: each shows up as a
// verdict that differs from the table, with its evidence, and fails the spec.
var _ = Describe("The failure catalogue", func() {
	for _, e := range scenarios.Catalog {
		Describe(e.Name+": "+e.Title, Label(append([]string{e.Group()}, e.Labels...)...), func() {
			for _, v := range harness.Versions {
				if e.Skip == nil || !e.Skip(v) {
					entrySpecs(e, v)
				}
			}
		})
	}
	// Rolling upgrades (and a downgrade) under a client workload, node by node on
	// the same data volumes, the history checked with porcupine (writes and
	// sync+reads linearizable; plain reads only sequentially consistent).
	// 3.8.0 → 3.9.3 followers first runs in `make test`; the other paths are
	// label slow (`make upgrade`, `make slow`).
	Describe("Upgrade: rolling version changes under load", Label("upgrade"), func() {
		for _, p := range scenarios.UpgradePaths() {
			entrySpecs(p.Entry(), p.To)
		}
	})
	// Exploratory runs: a seeded random schedule of faults from the fault
	// library, 60 s per version, under a workload checked with porcupine
	// (docs/explore.md). The seed is Ginkgo's (printed at the top of every run;
	// ginkgo --seed N, or ZKCHAOS_EXPLORE_SEED, runs the same schedule again).
	Describe("Exploratory runs: random faults, a linearizability check", Label("explore"), func() {
		seed := GinkgoRandomSeed()
		if s, err := strconv.ParseInt(os.Getenv("ZKCHAOS_EXPLORE_SEED"), 10, 64); err == nil {
			seed = s
		}
		x := scenarios.Exploration{Seed: seed, Duration: 60 * time.Second}
		for _, v := range harness.Versions {
			entrySpecs(x.Entry(), v)
		}
	})
})

func entrySpecs(e scenarios.Entry, v harness.Version) {
	labels := Label(v.Label())
	if e.Slow() {
		labels = Label(v.Label(), "slow")
	}
	// Longest first: make scenarios runs with --randomize-all, so each cell is
	// scheduled on its own, and Ginkgo hands out higher priorities first; the
	// short cells (and the smoke specs, priority 0) then fill the processes
	// that finish early instead of one long cell running alone at the end.
	priority := SpecPriority(int(e.Minutes * 60))
	Context(e.Name+" on "+v.Version, Ordered, labels, priority, func() {
		r := e.Begin(v, scenarios.Quiet{}, GinkgoWriter)
		r.Seed = GinkgoRandomSeed()
		r.Artifacts = filepath.Join("..", "reports", "artifacts", e.Name+"-"+v.Version)
		var tb *orderedTB

		BeforeAll(func() {
			tb = &orderedTB{name: e.Name + " on " + v.Version}
			DeferCleanup(tb.cleanup)
			r.OnEnsemble = func(ens *harness.Ensemble) { harness.CleanupEnsemble(tb, ens) }
			keepRecord(r.Record)
		})
		AfterEach(func() {
			if CurrentSpecReport().Failed() {
				tb.fail()
			}
		})

		for i, st := range r.Steps {
			It(st.Name, func(ctx SpecContext) {
				before := len(r.Record.Verdict.Checks)
				Expect(r.Do(ctx, i)).To(Succeed())
				for _, c := range r.Record.Verdict.Checks[min(before, len(r.Record.Verdict.Checks)):] {
					Expect(c.Held).To(BeTrue(), "check %q: %s", c.Name, c.Evidence)
				}
			}, SpecTimeout(st.Timeout+30*time.Second))
		}

		It("gives the expected verdict (docs/verdicts.md)", func() {
			problems, known := scenarios.Compare(r.Record)
			Expect(known).To(BeTrue(), "no expected verdict for %s on %s in the table", e.Name, v.Version)
			Expect(problems).To(BeEmpty(), "%s on %s differs from the expected table.\nobservations:\n%s", e.Name, v.Version, observations(r.Record))
			AddReportEntry(e.Name+" on "+v.Version, reports.CellText(r.Record))
		})
	})
}

func observations(rec *reports.Record) string {
	var b strings.Builder
	for _, o := range rec.Observations {
		fmt.Fprintf(&b, "  %s %s held=%v %s: %s\n", o.Kind, o.Name, o.Held, o.Status, o.Evidence)
	}
	return b.String()
}

// orderedTB is the test harness.CleanupEnsemble sees for an ensemble an Ordered
// container's steps share: its clean-up runs when the container ends, and it has
// failed when any of its specs failed (then the nodes' logs are kept).
type orderedTB struct {
	name     string
	mu       sync.Mutex
	failed   bool
	cleanups []func()
	errs     []string
}

func (t *orderedTB) Helper()      {}
func (t *orderedTB) Name() string { return t.name }
func (t *orderedTB) fail() {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
}
func (t *orderedTB) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}
func (t *orderedTB) Cleanup(f func()) {
	t.mu.Lock()
	t.cleanups = append(t.cleanups, f)
	t.mu.Unlock()
}
func (t *orderedTB) Logf(format string, args ...any) { fmt.Fprintf(GinkgoWriter, format+"\n", args...) }
func (t *orderedTB) Errorf(format string, args ...any) {
	t.mu.Lock()
	t.errs = append(t.errs, fmt.Sprintf(format, args...))
	t.mu.Unlock()
}

// cleanup runs the registered clean-ups, last first, as testing.T does.
func (t *orderedTB) cleanup() {
	t.mu.Lock()
	fs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	Expect(t.errs).To(BeEmpty(), "clean-up of %s", t.name)
}
