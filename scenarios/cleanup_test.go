package scenarios_test

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/zkchaos/zkchaos/harness"
)

// No leftovers: a run interrupted mid-way removes what it made, and a run killed
// outright leaves things that the stale sweep (`zkchaos clean`, and every
// suite start) removes.
var _ = Describe("An interrupted run", Label("smoke", "cleanup"), Ordered, func() {
	var bin string

	BeforeAll(func() {
		var err error
		bin, err = gexec.Build("github.com/zkchaos/zkchaos/cmd/zkchaos")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(gexec.CleanupBuildArtifacts)
	})

	// startHolding runs `zkchaos demo --hold` in a child process with its own run id
	// and waits until its ensemble serves.
	startHolding := func(ctx context.Context, runID string) *gexec.Session {
		cmd := exec.Command(bin, "demo", "--scenario", "failover", "--version", harness.DefaultVersion, "--hold", "5m")
		cmd.Env = append(os.Environ(), "ZKCHAOS_RUN_ID="+runID)
		s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { s.Kill() })
		Eventually(ctx, s.Out).WithTimeout(90 * time.Second).Should(gbytes.Say("holding for"))
		containers, networks, err := harness.Leftovers(ctx, runID)
		Expect(err).NotTo(HaveOccurred())
		Expect(containers).To(Equal(3), "the child's ensemble is running")
		Expect(networks).To(Equal(1))
		return s
	}

	It("removes every container and network when interrupted with SIGINT", func(ctx SpecContext) {
		runID := "cleanup-sigint-" + harness.RunID
		s := startHolding(ctx, runID)
		s.Signal(os.Interrupt)
		Eventually(ctx, s).WithTimeout(60 * time.Second).Should(gexec.Exit())
		Expect(s.Out).To(gbytes.Say("cleaning up"))
		containers, networks, err := harness.Leftovers(ctx, runID)
		Expect(err).NotTo(HaveOccurred())
		Expect(containers).To(BeZero(), "containers left by the interrupted run")
		Expect(networks).To(BeZero(), "networks left by the interrupted run")
	}, SpecTimeout(3*time.Minute))

	It("leaves labelled leftovers when SIGKILLed, and the stale sweep removes them", func(ctx SpecContext) {
		runID := "cleanup-sigkill-" + harness.RunID
		s := startHolding(ctx, runID)
		s.Signal(syscall.SIGKILL)
		Eventually(ctx, s).WithTimeout(10 * time.Second).Should(gexec.Exit())
		containers, networks, err := harness.Leftovers(ctx, runID)
		Expect(err).NotTo(HaveOccurred())
		Expect(containers).To(Equal(3), "a killed process cannot clean up: the sweep must")
		Expect(networks).To(Equal(1))

		swept, err := harness.Sweep(ctx, harness.SweepStale)
		Expect(err).NotTo(HaveOccurred())
		Expect(len(swept.Containers)).To(BeNumerically(">=", 3), "the stale sweep removed the killed run's containers")
		containers, networks, err = harness.Leftovers(ctx, runID)
		Expect(err).NotTo(HaveOccurred())
		Expect(containers).To(BeZero())
		Expect(networks).To(BeZero())
	}, SpecTimeout(3*time.Minute))
})
