package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkchaos/zkchaos/reports"
)

// The workshop narrator waits for Enter before every step after the first and
// goes on without pausing once its input ends.
func TestNarratorPauses(t *testing.T) {
	var out bytes.Buffer
	n := newConsoleNarrator(&out, strings.NewReader("\n"), false)
	n.Banner("F9 on 0.0.0")
	n.Step("One", "first %s", "step")
	n.Say("seen %d", 1)
	n.Step("Two", "second")
	n.Step("Three", "third") // input is empty now: no wait
	n.Done()
	got := out.String()
	for _, want := range []string{"==> 1. One\n    first step\n", "    seen 1\n", "[Enter] next step: Two", "==> 2. Two", "[Enter] next step: Three", "==> 3. Three"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "[Enter] next step: One") {
		t.Errorf("paused before the first step:\n%s", got)
	}
}

// A step that runs longer than a second without output says how long it has run.
func TestNarratorProgress(t *testing.T) {
	var out bytes.Buffer
	n := newConsoleNarrator(&out, nil, false)
	n.Step("Slow", "waits")
	deadline := time.Now().Add(5 * time.Second)
	for {
		n.mu.Lock()
		s := out.String()
		n.mu.Unlock()
		if strings.Contains(s, "    … 1 s") || strings.Contains(s, "    … 2 s") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress line after 5 s:\n%s", s)
		}
		time.Sleep(100 * time.Millisecond)
	}
	n.Done()
}

func TestVerdictLine(t *testing.T) {
	var out bytes.Buffer
	n := newConsoleNarrator(&out, nil, true)
	rec := f5Record("3.4.13", reports.FixNotAvailable)
	rec.Note("clientPortListenBacklog is not available\nsecond line")
	n.Verdict(rec, "x.json", 2*time.Second, nil, true)
	want := "reproduced yes · detected yes · fix not available"
	if !strings.Contains(out.String(), want) || strings.Contains(out.String(), "second line") || !strings.Contains(out.String(), "as expected") {
		t.Fatalf("got:\n%s", out.String())
	}
}

// Usage errors exit 2 before anything starts.
func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{{"run", "F9"}, {"run", "F3", "--version", "9.9.9"}, {"workshop", "nope"}, {"qualify", "--scenarios", "F1,F7"}, {"qualify", "--from", "3.8.0"}, {"qualify", "--from", "3.8.0", "--to", "4.0.0"}, {"run"},
		{"explore", "--faults", "partition,meteor"}, {"explore", "--duration", "2s"}, {"explore", "--version", "9.9.9"}} {
		cmd := exec.Command(zkchaosBin(t), args...)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%v: %v, stderr %s", args, err, errb.String())
		}
	}
}

// The same seed prints the same schedule (JSON), another seed another one;
// --plan starts nothing.
func TestExplorePlan(t *testing.T) {
	plan := func(seed string) string {
		out, err := exec.Command(zkchaosBin(t), "explore", "--seed", seed, "--duration", "60s", "--version", "3.9.3", "--plan", "--json").Output()
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	a, b, c := plan("7"), plan("7"), plan("8")
	if a != b || a == c {
		t.Fatalf("seed 7 twice:\n%s\n%s\nseed 8:\n%s", a, b, c)
	}
	var s struct {
		Seed  int64 `json:"seed"`
		Steps []struct {
			Fault struct{ Kind string } `json:"fault"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(a), &s); err != nil || s.Seed != 7 || len(s.Steps) < 5 {
		t.Fatalf("schedule %s: %v", a, err)
	}
}

// The upgrade report of `qualify --from A --to B`: the path's verdict, each
// failure on both versions with the changes marked, and the features that differ.
func TestUpgradeDiff(t *testing.T) {
	dir := t.TempDir()
	a, b := mustLookup("3.4.13"), mustLookup("3.8.0")
	write := func(r *reports.Record) {
		if _, err := r.WriteJSON(filepath.Join(dir, "runs")); err != nil {
			t.Fatal(err)
		}
	}
	f5a := f5Record(a.Version, reports.FixNotAvailable)
	f5b := f5Record(b.Version, reports.FixWorks)
	up := reports.New("upgrade-from-"+a.Version, "Rolling upgrade", b.Version)
	up.Trigger(true, "", "3 of 3 nodes swapped")
	up.Failure(true, "zk1", "zk1 does not start on 3.8.0: No snapshot found, but there are log entries")
	up.FixOutcome("snapshot.trust.empty=true", reports.FixWorks, "", "with the workaround: every node served")
	for _, r := range []*reports.Record{f5a, f5b, up} {
		write(r)
	}
	path, err := writeUpgradeDiff(dir, a, b)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	for _, want := range []string{
		"# Upgrade 3.4.13 → 3.8.0",
		"**Rolling upgrade:** upgrade fails ✗ · workaround works",
		"No snapshot found",
		"| F5 | reproduced ✓ · detected ✓ · fix not available | reproduced ✓ · detected ✓ · fix works | **yes** |",
		"| F1 | not run | not run |  |",
		"clientPortListenBacklog (ZOOKEEPER-974): not available in 3.4.13, available in 3.8.0",
		"election handshake: sid in 3.4.13, v1 in 3.8.0",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestUpgradeDiffSameFeatures(t *testing.T) {
	dir := t.TempDir()
	r := reports.New("F3", "x", "3.8.0")
	if _, err := r.WriteJSON(filepath.Join(dir, "runs")); err != nil {
		t.Fatal(err)
	}
	path, err := writeUpgradeDiff(dir, mustLookup("3.8.0"), mustLookup("3.9.3"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !strings.Contains(string(got), "- nothing: both versions") {
		t.Fatalf("no 'nothing changes' line:\n%s", got)
	}
}

// f5Record is an F5 record as the runner writes it: observations, from which
// the verdict is computed.
func f5Record(version, backlogFix string) *reports.Record {
	r := reports.New("F5", "flood", version)
	r.DocumentedFix = "clientPortListenBacklog=1024 + kernel"
	r.Trigger(true, "zk1", "40000 connections sent")
	r.Failure(true, "zk1", "backlog 50; ListenOverflows +17697")
	r.Finding(true, "zk1", "F5 finding on zk1")
	r.FixOutcome(r.DocumentedFix, backlogFix, "zk1", "Send-Q")
	return r
}
