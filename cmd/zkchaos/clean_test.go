package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// --all and --run name different sets: asking for both is a usage error (exit 2),
// decided before the engine is asked anything.
func TestCleanAllAndRunExcludeEachOther(t *testing.T) {
	out, err := exec.Command(zkchaosBin(t), "clean", "--all", "--run", "some-run").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitUsage {
		t.Fatalf("exit %v, want %d: %s", err, exitUsage, out)
	}
	if !strings.Contains(string(out), "--all and --run exclude each other") {
		t.Fatalf("output: %s", out)
	}
}

// The default removes only the leftovers of processes that are gone: the help says so.
func TestCleanHelpSaysTheDefaultIsStale(t *testing.T) {
	out, err := exec.Command(zkchaosBin(t), "clean", "--help").CombinedOutput()
	if err != nil {
		t.Fatal(err, string(out))
	}
	for _, want := range []string{"By default, only those whose creating process is gone", "--all", "--run"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}
