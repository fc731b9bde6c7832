package main

import (
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/reports"
	"github.com/zkchaos/zkchaos/scenarios"
)

var updateDocs = flag.Bool("update", false, "rewrite the generated part of docs/verdicts.md")

// docs/verdicts.md shows the expected table the specs and the CLI gate on.
func TestVerdictsDoc(t *testing.T) {
	const path, begin, end = "../../docs/verdicts.md", "<!-- expected:begin -->\n", "<!-- expected:end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %q … %q markers", path, begin, end)
	}
	want := doc[:i+len(begin)] + scenarios.ExpectedMarkdown() + doc[j:]
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Errorf("%s differs from scenarios.Expected: go test ./cmd/zkchaos -run TestVerdictsDoc -update", path)
	}
}

// Every entry the suite and the CLI run has an expected verdict on every
// version it runs on, and steps with names and time bounds; a failure's name
// selects its entries but not the slow experiments.
func TestCatalog(t *testing.T) {
	entries := append([]scenarios.Entry(nil), scenarios.Catalog...)
	for _, p := range scenarios.UpgradePaths() {
		entries = append(entries, p.Entry())
	}
	for _, e := range entries {
		for _, v := range harness.Versions {
			if e.Skip != nil && e.Skip(v) {
				continue
			}
			if _, ok := scenarios.ExpectedFor(e.Name, v.Version); !ok {
				t.Errorf("%s on %s: no expected verdict", e.Name, v.Version)
			}
			r := e.Begin(v, nil, nil)
			if len(r.Steps) == 0 {
				t.Errorf("%s on %s: no steps", e.Name, v.Version)
			}
			for _, st := range r.Steps {
				if st.Name == "" || st.Timeout <= 0 || st.Do == nil || st.Phase == "" {
					t.Errorf("%s on %s: step %+v", e.Name, v.Version, st)
				}
			}
		}
	}
	names := func(q string) string {
		es, err := scenarios.Select(q)
		if err != nil {
			return err.Error()
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Name)
		}
		return strings.Join(out, ",")
	}
	for q, want := range map[string]string{
		"F1": "F1,F1-replay", "f4": "F4", "F4-restart-order": "F4-restart-order", "F2": "F2,F2-disk,F2-prealloc",
		"all": "F1,F1-replay,F2,F2-disk,F2-prealloc,F3,F4,F5",
	} {
		if got := names(q); got != want {
			t.Errorf("Select(%q) = %s, want %s", q, got, want)
		}
	}
	if _, err := scenarios.Select("F9"); err == nil {
		t.Errorf("Select(F9): no error")
	}
}

// The profile adds each step's time to its phase and puts what the specs spent
// outside the steps (teardown) in "other".
func TestProfile(t *testing.T) {
	r := reports.New("F3", "x", "3.9.3")
	r.StepTime("starts", scenarios.PhaseStart, 3*time.Second)
	r.StepTime("refuses", scenarios.PhaseTrigger, 5*time.Second)
	r.StepTime("raises", scenarios.PhaseFix, 10*time.Second)
	var b strings.Builder
	if err := writeProfile(&b, []*reports.Record{r}, 30*time.Second, map[string]time.Duration{"F3 on 3.9.3": 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| F3 on 3.9.3 | 20.0 | 3.0 | 5.0 | — | — | 10.0 | — | 2.0 |", "suite wall time 30 s for 20 s of runs"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
}
