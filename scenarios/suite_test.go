package scenarios_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/reports"
)

func TestScenarios(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "zkchaos scenarios")
}

// Once per suite, before any process starts an ensemble: the engine answers, every
// image is there, and leftovers of killed runs are swept.
var _ = SynchronizedBeforeSuite(func(ctx SpecContext) {
	_, err := harness.Docker(ctx)
	Expect(err).NotTo(HaveOccurred())
	for _, v := range harness.Versions {
		st, err := harness.ImageStatus(ctx, v)
		Expect(err).NotTo(HaveOccurred())
		Expect(st).To(Equal(harness.ImageReady), "image %s is %s: run `make images`", v.Image(), st)
	}
	swept, err := harness.Sweep(ctx, harness.SweepStale)
	Expect(err).NotTo(HaveOccurred())
	if n := len(swept.Containers) + len(swept.Networks); n > 0 {
		fmt.Fprintf(GinkgoWriter, "swept leftovers of killed runs: %v %v\n", swept.Containers, swept.Networks)
	}
}, func() {})

// startEnsemble runs an ensemble for the current spec or container and registers
// its clean-up.
func startEnsemble(ctx context.Context, opts ...harness.Option) *harness.Ensemble {
	GinkgoHelper()
	opts = append([]harness.Option{harness.WithProgress(GinkgoWriter)}, opts...)
	ens, err := harness.Run(ctx, opts...)
	registerEnsemble(ens)
	Expect(err).NotTo(HaveOccurred())
	return ens
}

// registerEnsemble removes the ensemble when the current spec or container ends
// (also on failure or interrupt), keeping every node's log as an artifact when a
// spec failed. It accepts the half-built ensemble Run returns with an error.
func registerEnsemble(ens *harness.Ensemble) {
	if ens == nil {
		return
	}
	DeferCleanup(func(ctx SpecContext) {
		if CurrentSpecReport().Failed() {
			keepArtifacts(ctx, ens)
		}
		Expect(ens.Terminate(ctx)).To(Succeed())
	}, NodeTimeout(2*time.Minute))
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// keepArtifacts writes every node's whole log, its mntr and its config under
// reports/artifacts/<spec>/ (ZKCHAOS_ARTIFACTS overrides the folder).
func keepArtifacts(ctx context.Context, ens *harness.Ensemble) {
	root := os.Getenv("ZKCHAOS_ARTIFACTS")
	if root == "" {
		root = filepath.Join("..", "reports", "artifacts")
	}
	dir := filepath.Join(root, unsafeChars.ReplaceAllString(CurrentSpecReport().FullText(), "_")+"-"+ens.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(GinkgoWriter, "artifacts: %v\n", err)
		return
	}
	for _, n := range ens.Nodes() {
		logs, err := n.Logs(ctx)
		if err != nil {
			logs += fmt.Sprintf("\n(log collection failed: %v)\n", err)
		}
		mntr, err := n.FourLetter(ctx, "mntr")
		if err != nil {
			mntr = fmt.Sprintf("(mntr failed: %v)\n", err)
		}
		_ = os.WriteFile(filepath.Join(dir, n.Name+".log"), []byte(logs), 0o644)
		_ = os.WriteFile(filepath.Join(dir, n.Name+".mntr"), []byte(mntr), 0o644)
		_ = os.WriteFile(filepath.Join(dir, n.Name+".zoo.cfg"), []byte(n.Config()), 0o644)
	}
	AddReportEntry("artifacts", dir)
	fmt.Fprintf(GinkgoWriter, "artifacts kept in %s\n", dir)
}

// keepRecord writes the run record next to the Ginkgo report when the current
// container ends, and attaches its path to the report.
func keepRecord(rec *reports.Record) {
	DeferCleanup(func() {
		path, err := rec.WriteJSON(reports.Dir(".."))
		Expect(err).NotTo(HaveOccurred())
		AddReportEntry("run record", path)
	})
}
