package scenarios_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/reports"
)

func TestScenarios(t *testing.T) {
	// This test binary is a program of ours: it may set process-wide defaults that
	// the harness library itself never touches.
	if os.Getenv(harness.EnvArtifacts) == "" {
		os.Setenv(harness.EnvArtifacts, filepath.Join("..", "reports", "artifacts"))
	}
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true") // no registry for its image; we remove our own
	}
	tclog.SetDefault(tclog.NewNoopLogger())
	RegisterFailHandler(Fail)
	RunSpecs(t, "zkchaos scenarios")
}

// Once per suite, before any process starts an ensemble: the engine answers, every
// image is there, and leftovers of killed runs are swept.
var _ = SynchronizedBeforeSuite(func(ctx SpecContext) {
	_, err := harness.Docker(ctx)
	Expect(err).NotTo(HaveOccurred())
	// Built images must match their recipe; an image named by
	// $ZKCHAOS_IMAGE_<version> must meet the contract (docs/images.md).
	Expect(harness.CheckReady(ctx, versionsSelected()...)).To(Succeed())
	st, err := harness.ClientImageStatus(ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(st).To(Equal(harness.ImageReady), "image %s is %s: run `make images`", harness.ClientImage, st)
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
// (also on failure or interrupt), keeping every node's log, zoo.cfg and mntr as
// artifacts when a spec failed: harness.CleanupEnsemble, the helper users' own
// tests call, through GinkgoT(). It accepts the half-built ensemble Run returns
// with an error.
func registerEnsemble(ens *harness.Ensemble) {
	harness.CleanupEnsemble(GinkgoT(), ens)
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

// expectedReach is the path the run must take ($ZKCHAOS_EXPECT_REACH: "direct" or
// "tunnel"; empty: either). make portable sets "tunnel" for a test process that
// cannot route to the containers.
func expectedReach() harness.Reach { return harness.Reach(os.Getenv("ZKCHAOS_EXPECT_REACH")) }

// The seam's own count, over the whole process: in a run that must tunnel, not
// one connection went from this process to a container's address.
var _ = SynchronizedAfterSuite(func() {
	dials := harness.ProcessDialStats()
	fmt.Fprintf(GinkgoWriter, "connections from this process to containers: %s\n", dials)
	if expectedReach() == harness.ReachTunnel {
		Expect(dials.Direct).To(BeZero(), "connections dialled to container addresses by a process that must only tunnel")
		Expect(dials.Tunnel).To(BeNumerically(">", 0), "nothing went through the tunnel")
	}
}, func() {})

// versionsSelected are the versions whose specs the label filter can select: those
// it names (a CI shard runs one), or every version when it names none.
func versionsSelected() []harness.Version {
	filter, _ := GinkgoConfiguration()
	var named []harness.Version
	for _, v := range harness.Versions {
		if strings.Contains(filter.LabelFilter, v.Label()) && !strings.Contains(filter.LabelFilter, "!"+v.Label()) {
			named = append(named, v)
		}
	}
	if len(named) == 0 {
		return harness.Versions
	}
	return named
}
