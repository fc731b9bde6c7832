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
	var dir string
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Print where each run's time went (start, trigger, evidence, detect, fix, check, teardown) as a table",
		Long: `Read the run records in <dir>/runs and Ginkgo's JSON report <dir>/report.json
(make test writes both) and print one Markdown row per run: its time in each
phase of the runner's steps — start, trigger, evidence, detect, fix, check — and
"other": what the specs spent outside the steps (mostly removing the
ensembles). The last rows give each phase's total and the suite's wall time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			recs, err := reports.LoadDir(filepath.Join(dir, "runs"))
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				return usageErr("no run records in %s", filepath.Join(dir, "runs"))
			}
			suite, containers := ginkgoTimes(filepath.Join(dir, "report.json"))
			return writeProfile(cmd.OutOrStdout(), recs, suite, containers)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "reports/out", "report folder (records in runs/, Ginkgo's report.json)")
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
