package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// TB is what CleanupEnsemble needs of a test. *testing.T and *testing.B satisfy
// it, and so does Ginkgo's GinkgoT(), so one helper serves both.
type TB interface {
	Helper()
	Name() string
	Failed() bool
	Cleanup(func())
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
}

// EnvArtifacts names the folder CleanupEnsemble keeps artifacts in (default
// "zkchaos-artifacts" in the test's working directory).
const EnvArtifacts = "ZKCHAOS_ARTIFACTS"

// CleanupEnsemble registers the end of ens with t: when the test has failed, every
// node's log, zoo.cfg and mntr answer are kept (KeepArtifacts) in
// $ZKCHAOS_ARTIFACTS/<test name>-<ensemble id>/; then the ensemble is terminated,
// and a failure to remove it fails the test. It accepts the half-built ensemble
// that Run returns with an error, and nil.
//
//	ens, err := harness.Run(ctx, harness.WithNodes(3))
//	harness.CleanupEnsemble(t, ens)
//	if err != nil {
//		t.Fatal(err)
//	}
func CleanupEnsemble(t TB, ens *Ensemble) {
	t.Helper()
	if ens == nil {
		return
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if t.Failed() {
			root := os.Getenv(EnvArtifacts)
			if root == "" {
				root = "zkchaos-artifacts"
			}
			dir := filepath.Join(root, safeName(t.Name())+"-"+ens.ID)
			if err := ens.KeepArtifacts(ctx, dir); err != nil {
				t.Logf("zkchaos: artifacts: %v", err)
			}
			t.Logf("zkchaos: the test failed: each node's log, zoo.cfg and mntr are in %s", dir)
		}
		if err := ens.Terminate(ctx); err != nil {
			t.Errorf("zkchaos: %v", err)
		}
	})
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safeName(s string) string {
	s = strings.Trim(unsafeChars.ReplaceAllString(s, "_"), "_")
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// KeepArtifacts writes into dir (created) what explains a failed test: each node's
// whole server log across restarts (zkN.log), its zoo.cfg (zkN.zoo.cfg) and its
// mntr answer (zkN.mntr), and ensemble.txt: the states, the reach and the dials.
// It goes on past a node that does not answer and joins the errors.
func (e *Ensemble) KeepArtifacts(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var errs []error
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			errs = append(errs, err)
		}
	}
	for _, n := range e.nodes {
		logs, err := n.Logs(ctx)
		if err != nil {
			logs += fmt.Sprintf("\n(log collection failed: %v)\n", err)
		}
		write(n.Name+".log", logs)
		mntr, err := n.FourLetter(ctx, "mntr")
		if err != nil {
			mntr = fmt.Sprintf("(mntr failed: %v)\n", err)
		}
		write(n.Name+".mntr", mntr)
		write(n.Name+".zoo.cfg", n.Config())
	}
	write("ensemble.txt", fmt.Sprintf("ensemble %s: ZooKeeper %s, %d nodes on %s (%s)\nreach: %s\ndials: %s\nstates: %s\n",
		e.ID, e.Version.Version, len(e.nodes), e.Network, e.Subnet, e.Reach(), e.DialStats(), e.explainStates(ctx, e.States(ctx))))
	return errors.Join(errs...)
}
