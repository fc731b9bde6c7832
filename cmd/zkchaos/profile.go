package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkchaos/zkchaos/reports"
	"github.com/zkchaos/zkchaos/scenarios"
)

// profile: where the suite's time goes, per run and per phase, from the run
// records (each step's time) and, when present, Ginkgo's JSON report (each
// container's whole time, teardown included, and the suite's wall time).
func init() {
	var dir, bench, readme string
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Print where each run's time went (start, trigger, evidence, detect, fix, check, teardown) as a table",
		Long: `Read the run records in <dir>/runs and Ginkgo's JSON report <dir>/report.json
(make test writes both) and print one Markdown row per run: its time in each
phase of the runner's steps — start, trigger, evidence, detect, fix, check — and
"other": what the specs spent outside the steps (mostly removing the
ensembles). The last rows give each phase's total and the suite's wall time.

With --bench (make bench): first the start-up table — per version the median
and maximum time from Run to 3 nodes serving and the RSS per node, from the JSON
lines BenchmarkEnsembleStart wrote (ZKCHAOS_BENCH_OUT) — with the wall time of
the last suite run in <dir> (its label filter and processes, from Ginkgo's
report). With --readme, that table also replaces the part of the README between
<!-- bench:begin --> and <!-- bench:end -->.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			if bench != "" {
				table, err := benchTable(bench, filepath.Join(dir, "report.json"))
				if err != nil {
					return usageErr("%v", err)
				}
				fmt.Fprint(w, table)
				if readme != "" {
					if err := replaceBetween(readme, "<!-- bench:begin -->", "<!-- bench:end -->", table); err != nil {
						return usageErr("%v", err)
					}
					fmt.Fprintf(w, "\n(written into %s)\n", readme)
				}
			}
			recs, err := reports.LoadDir(filepath.Join(dir, "runs"))
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				if bench != "" {
					return nil
				}
				return usageErr("no run records in %s", filepath.Join(dir, "runs"))
			}
			if bench != "" {
				fmt.Fprintln(w)
			}
			suite, containers := ginkgoTimes(filepath.Join(dir, "report.json"))
			return writeProfile(w, recs, suite, containers)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "reports/out", "report folder (records in runs/, Ginkgo's report.json)")
	cmd.Flags().StringVar(&bench, "bench", "", "start-up measurements (JSON lines of BenchmarkEnsembleStart) to print as a table")
	cmd.Flags().StringVar(&readme, "readme", "", "with --bench: write the table into this file between <!-- bench:begin --> and <!-- bench:end -->")
	rootCmd.AddCommand(cmd)
}

var phases = []string{scenarios.PhaseStart, scenarios.PhaseTrigger, scenarios.PhaseEvidence, scenarios.PhaseDetect, scenarios.PhaseFix, scenarios.PhaseCheck}

func writeProfile(w io.Writer, recs []*reports.Record, suite time.Duration, containers map[string]time.Duration) error {
	type row struct {
		name    string
		total   float64
		byPhase map[string]float64
		other   float64
	}
	var rows []row
	sums := map[string]float64{}
	var sumOther, sumTotal float64
	for _, r := range recs {
		if len(r.Steps) == 0 {
			continue // written by an older zkchaos, or not by the runner
		}
		x := row{name: r.Scenario + " on " + r.Version, byPhase: map[string]float64{}}
		for _, st := range r.Steps {
			x.byPhase[st.Phase] += st.Seconds
			x.total += st.Seconds
		}
		if d, ok := containers[r.Scenario+" on "+r.Version]; ok && d.Seconds() > x.total {
			x.other = d.Seconds() - x.total
			x.total = d.Seconds()
		}
		for p, v := range x.byPhase {
			sums[p] += v
		}
		sumOther += x.other
		sumTotal += x.total
		rows = append(rows, x)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].total > rows[j].total })
	fmt.Fprintf(w, "| run | total s | %s | other s |\n|---|---|%s---|\n", strings.Join(phases, " s | ")+" s", strings.Repeat("---|", len(phases)))
	cell := func(v float64) string {
		if v == 0 {
			return "—"
		}
		return fmt.Sprintf("%.1f", v)
	}
	for _, x := range rows {
		fmt.Fprintf(w, "| %s | %.1f |", x.name, x.total)
		for _, p := range phases {
			fmt.Fprintf(w, " %s |", cell(x.byPhase[p]))
		}
		fmt.Fprintf(w, " %s |\n", cell(x.other))
	}
	fmt.Fprintf(w, "| **all runs** | %.1f |", sumTotal)
	for _, p := range phases {
		fmt.Fprintf(w, " %s |", cell(sums[p]))
	}
	fmt.Fprintf(w, " %s |\n", cell(sumOther))
	if suite > 0 {
		fmt.Fprintf(w, "\nsuite wall time %.0f s for %.0f s of runs (%.1f× in parallel)\n", suite.Seconds(), sumTotal, sumTotal/suite.Seconds())
	}
	return nil
}

// ginkgoTimes reads Ginkgo's JSON report: the suite's run time, and each
// catalogue container's specs' summed run time ("F3 on 3.9.3"), teardown
// included. A missing report gives nothing.
func ginkgoTimes(path string) (time.Duration, map[string]time.Duration) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, nil
	}
	var suites []struct {
		RunTime     time.Duration
		SpecReports []struct {
			ContainerHierarchyTexts []string
			RunTime                 time.Duration
			State                   string
		}
	}
	if json.Unmarshal(b, &suites) != nil {
		return 0, nil
	}
	out := map[string]time.Duration{}
	var total time.Duration
	for _, s := range suites {
		total += s.RunTime
		for _, sp := range s.SpecReports {
			if n := len(sp.ContainerHierarchyTexts); n > 0 && sp.State != "skipped" {
				out[sp.ContainerHierarchyTexts[n-1]] += sp.RunTime
			}
		}
	}
	return total, out
}

// benchRow is one line BenchmarkEnsembleStart writes (ZKCHAOS_BENCH_OUT).
type benchRow struct {
	Version  string  `json:"version"`
	Reach    string  `json:"reach"`
	Starts   int     `json:"starts"`
	Median   float64 `json:"median_s"`
	Max      float64 `json:"max_s"`
	RSS      float64 `json:"rss_mib"`
	Measured string  `json:"measured"`
}

// benchTable renders the start-up measurements and the last suite's wall time.
func benchTable(benchPath, ginkgoReport string) (string, error) {
	b, err := os.ReadFile(benchPath)
	if err != nil {
		return "", fmt.Errorf("read the start-up measurements: %w (make bench writes them)", err)
	}
	var rows []benchRow
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r benchRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return "", fmt.Errorf("%s: %w", benchPath, err)
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return "", fmt.Errorf("%s: no measurements", benchPath)
	}
	var t strings.Builder
	fmt.Fprintf(&t, "| version | start to 3 nodes serving: median | max | RSS per node | starts | reach | measured |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&t, "| %s | %.2f s | %.2f s | %.0f MiB | %d | %s | %s |\n", r.Version, r.Median, r.Max, r.RSS, r.Starts, r.Reach, r.Measured)
	}
	suite, filter, procs, when := ginkgoSuite(ginkgoReport)
	if suite > 0 {
		fmt.Fprintf(&t, "\nThe last suite run in this folder: %.0f s wall time (labels `%s`, %d Ginkgo processes, %s).\n", suite.Seconds(), filter, procs, when)
	} else {
		fmt.Fprintf(&t, "\nNo suite run in this folder yet: `make test` (or `make scenarios`) writes its wall time.\n")
	}
	return t.String(), nil
}

// ginkgoSuite reads the suite's wall time, label filter, process count and
// start date from Ginkgo's JSON report.
func ginkgoSuite(path string) (time.Duration, string, int, string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, "", 0, ""
	}
	var suites []struct {
		RunTime     time.Duration
		StartTime   time.Time
		SuiteConfig struct {
			LabelFilter   string
			ParallelTotal int
		}
	}
	if json.Unmarshal(b, &suites) != nil || len(suites) == 0 {
		return 0, "", 0, ""
	}
	s := suites[0]
	filter := s.SuiteConfig.LabelFilter
	if filter == "" {
		filter = "all"
	}
	return s.RunTime, filter, max(s.SuiteConfig.ParallelTotal, 1), s.StartTime.UTC().Format(time.DateOnly)
}

// replaceBetween replaces what lies between the begin and end markers in path.
func replaceBetween(path, begin, end, body string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %s … %s markers", path, begin, end)
	}
	s = s[:i+len(begin)] + "\n" + body + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}
