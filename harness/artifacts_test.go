package harness_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkchaos/zkchaos/harness"
)

// fakeT is a test that has failed: CleanupEnsemble must keep the artifacts, then
// remove the ensemble.
type fakeT struct {
	name     string
	cleanups []func()
	errs     []string
}

func (f *fakeT) Helper()                        {}
func (f *fakeT) Name() string                   { return f.name }
func (f *fakeT) Failed() bool                   { return true }
func (f *fakeT) Cleanup(fn func())              { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Logf(string, ...any)            {}
func (f *fakeT) Errorf(format string, a ...any) { f.errs = append(f.errs, fmt.Sprintf(format, a...)) }

// On the engine (skipped by -short, run by make test's examples step).
func TestEngineCleanupEnsembleKeepsArtifactsOfAFailedTest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real ensemble")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root := t.TempDir()
	t.Setenv(harness.EnvArtifacts, root)
	ens, err := harness.Run(ctx, harness.WithNodes(1))
	ft := &fakeT{name: "TestSomething/a failing case"}
	harness.CleanupEnsemble(ft, ens)
	if err != nil {
		ens.Terminate(ctx)
		t.Fatal(err)
	}
	if len(ft.cleanups) != 1 {
		t.Fatalf("%d clean-ups registered, want 1", len(ft.cleanups))
	}
	ft.cleanups[0]()
	if len(ft.errs) > 0 {
		t.Fatalf("clean-up failed: %v", ft.errs)
	}
	dir := filepath.Join(root, "TestSomething_a_failing_case-"+ens.ID)
	for file, want := range map[string]string{
		"zk1.log":      "binding to port",
		"zk1.zoo.cfg":  "clientPort=2181",
		"zk1.mntr":     "zk_version",
		"ensemble.txt": "reach: ",
	} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q:\n%.500s", file, want, b)
		}
	}
	if st := ens.Node(1).State(ctx); st.Mode != harness.ModeDown {
		t.Errorf("the ensemble still answers after the clean-up: %s", st.Mode)
	}
	if ok, err := ens.Node(1).Running(ctx); err == nil && ok {
		t.Error("zk1's container still runs after the clean-up")
	}
}
