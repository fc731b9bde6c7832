package main

import (
	"flag"
	"os"
	"path/filepath"
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

// make bench's table: the start-up lines and the last suite's wall time, and
// its place in the README between the markers.
func TestBenchTable(t *testing.T) {
	dir := t.TempDir()
	bench := filepath.Join(dir, "bench-start.jsonl")
	lines := `{"version":"3.4.13","reach":"direct","starts":10,"median_s":2.9,"max_s":3.4,"min_s":2.7,"rss_mib":56,"measured":"2026-12-01"}
{"version":"3.9.3","reach":"direct","starts":10,"median_s":2.38,"max_s":3.0,"min_s":2.2,"rss_mib":84,"measured":"2026-12-01"}
`
	if err := os.WriteFile(bench, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "report.json")
	if err := os.WriteFile(report, []byte(`[{"RunTime":480000000000,"StartTime":"2026-12-01T09:00:00Z","SuiteConfig":{"LabelFilter":"!slow","ParallelTotal":4}}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	table, err := benchTable(bench, report)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 3.4.13 | 2.90 s | 3.40 s | 56 MiB | 10 | direct | 2026-12-01 |", "| 3.9.3 | 2.38 s |", "480 s wall time (labels `!slow`, 4 Ginkgo processes, 2026-12-01)"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(readme, []byte("a\n<!-- bench:begin -->\nold\n<!-- bench:end -->\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceBetween(readme, "<!-- bench:begin -->", "<!-- bench:end -->", table); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(readme)
	if strings.Contains(string(got), "\nold\n") || !strings.Contains(string(got), "| 3.9.3 | 2.38 s |") || !strings.HasSuffix(string(got), "<!-- bench:end -->\nb\n") {
		t.Fatalf("README:\n%s", got)
	}
	if _, err := benchTable(filepath.Join(dir, "missing"), report); err == nil {
		t.Fatal("a missing measurement file gave a table")
	}
}
