package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/nemesis"
	"github.com/zkchaos/zkchaos/reports"
	"github.com/zkchaos/zkchaos/scenarios"
)

// run, qualify, workshop and report share the scenario catalog (scenarios.Catalog:
// the same step functions the Ginkgo specs assert on) and the report writers.
func init() {
	var versions []string
	var out string
	var quiet, asJSON bool
	runCmd := &cobra.Command{
		Use:   "run <F1|F2|F3|F4|F5|all|entry>",
		Short: "Run one documented failure (or all) on real ensembles, compare each verdict with the expected table, write the reports",
		Long: `Run a scenario end to end on real ZooKeeper servers in containers — trigger,
evidence, detector, fix — narrated step by step, then write its run record (JSON)
and the HTML report, and print the report's path.

A failure's name runs its entries (F1: F1 and F1-replay); "all" runs every
entry but the slow experiments, which run by their full name
(F4-restart-order). Each verdict is computed from what the run observed and
compared with the expected verdicts of docs/verdicts.md.

Exit status:
  0  every verdict is the expected one and every check held
  1  a verdict differs from docs/verdicts.md, or a check failed
     (e.g. a history that is not linearizable)
  2  usage or environment error (unknown scenario, image missing, no engine)
  3  a run could not finish (an engine error, a time-out)
  130 interrupted; everything started was removed

With --json the narration goes to standard error and standard output carries
one JSON document: each run's verdict, the expected verdict, what differs, and
its record's path.`,
		Example: `  zkchaos run F3 --version 3.9.3
  zkchaos run all --version 3.4.13
  zkchaos run F5 --version 3.4.13 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			entries, err := entriesFor(args[0])
			if err != nil {
				return err
			}
			vs, err := lookupVersions(versions)
			if err != nil {
				return err
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			o := newRunOutput(cmd, quiet, asJSON)
			return runAndReport(ctx, o, entries, vs, out)
		},
	}
	runCmd.Flags().StringSliceVar(&versions, "version", []string{harness.DefaultVersion}, "ZooKeeper version(s), comma-separated")
	runCmd.Flags().StringVar(&out, "out", "reports/out", "report folder (run records in runs/, HTML in html/)")
	runCmd.Flags().BoolVar(&quiet, "quiet", false, "print only a heartbeat, the verdicts and the report path")
	runCmd.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON on standard output (narration on standard error)")
	rootCmd.AddCommand(runCmd)

	var qversions []string
	var qscen, qout, qfrom, qto string
	var qjson bool
	qualify := &cobra.Command{
		Use:   "qualify",
		Short: "Run every failure on every version, gate on the expected verdicts, write the qualification matrix",
		Long: `Run the documented failures on each version and write the qualification
matrix — failure × version → reproduced / detected / fix works / fix not
available, each cell linked to its evidence — as Markdown (matrix.md) and HTML
(index.html), then print the Markdown. About 10 minutes per version on 2 cores;
a heartbeat line every 30 s says which step runs.

With --from A --to B it qualifies an upgrade: the failures on A and on B, a
rolling upgrade A → B under a porcupine-checked workload (served throughout?
longest gap, client errors, linearizable? every acknowledged write intact?),
and what changes between A and B (upgrade-A-B.md).

Exit status: as "zkchaos run" — 0 when every verdict is the expected one
(docs/verdicts.md) and every check held; 1 when a verdict differs or a check
failed (a history that is not linearizable, a lost write, an upgrade that stops
without its documented workaround); 2 usage or environment error; 3 a run could
not finish; 130 interrupted.`,
		Example: `  zkchaos qualify --versions 3.4.13,3.8.0,3.9.3
  zkchaos qualify --versions 3.9.3 --scenarios F3,F5
  zkchaos qualify --from 3.8.0 --to 3.9.3 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var entries []scenarios.Entry
			for _, name := range strings.Split(qscen, ",") {
				es, err := entriesFor(strings.TrimSpace(name))
				if err != nil {
					return err
				}
				entries = append(entries, es...)
			}
			if (qfrom == "") != (qto == "") {
				return usageErr("--from and --to go together")
			}
			if qfrom != "" {
				qversions = []string{qfrom, qto}
			}
			vs, err := lookupVersions(qversions)
			if err != nil {
				return err
			}
			if qfrom != "" && vs[0].Version == vs[1].Version {
				return usageErr("--from and --to name the same version")
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			o := newRunOutput(cmd, true, qjson)
			if qfrom != "" {
				entries = append(entries, scenarios.UpgradePath{From: vs[0], To: vs[1], Nodes: 3}.Entry())
			}
			o.upgrade = qfrom != ""
			err = runAndReport(ctx, o, entries, vs, qout)
			if md, rerr := os.ReadFile(filepath.Join(qout, "html", "matrix.md")); rerr == nil {
				fmt.Fprintf(o.human, "\n%s", md)
			}
			if qfrom != "" {
				path, derr := writeUpgradeDiff(qout, vs[0], vs[1])
				if derr != nil {
					return errors.Join(err, derr)
				}
				b, _ := os.ReadFile(path)
				fmt.Fprintf(o.human, "\n%s\nupgrade report: %s\n", b, path)
			}
			return err
		},
	}
	qualify.Flags().StringSliceVar(&qversions, "versions", harness.VersionNames(), "versions to qualify")
	qualify.Flags().StringVar(&qscen, "scenarios", "all", "scenarios, comma-separated (F1..F5, an entry's name, or all)")
	qualify.Flags().StringVar(&qout, "out", "reports/out", "report folder")
	qualify.Flags().StringVar(&qfrom, "from", "", "qualify an upgrade from this version (with --to)")
	qualify.Flags().StringVar(&qto, "to", "", "qualify an upgrade to this version (with --from)")
	qualify.Flags().BoolVar(&qjson, "json", false, "print the results as JSON on standard output (the rest on standard error)")
	rootCmd.AddCommand(qualify)

	var wversion, wout string
	var noPause bool
	workshop := &cobra.Command{
		Use:   "workshop <F1|F2|F3|F4|F5>",
		Short: "Teaching mode: a narrated run that waits for Enter between steps",
		Long: `Run one failure as a workshop: each step says in plain words what is about to
break and what to look for, shows the evidence as it appears, the detector's
finding and the fix, and waits for Enter before the next step (--no-pause for a
projector or a script). Steps that take longer than a second show progress. Ends
with the path of the HTML report.`,
		Example: `  zkchaos workshop F4
  zkchaos workshop F3 --no-pause`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			entries, err := entriesFor(args[0])
			if err != nil {
				return err
			}
			v, err := harness.LookupVersion(wversion)
			if err != nil {
				return usageErr("%v", err)
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			var in io.Reader
			if !noPause {
				in = cmd.InOrStdin()
			}
			o := newRunOutput(cmd, false, false)
			o.narrator = newConsoleNarrator(cmd.OutOrStdout(), in, false)
			for _, e := range entries {
				fmt.Fprintf(cmd.OutOrStdout(), "zkchaos workshop — %s: %s (ZooKeeper %s, about %.0f min)\n", e.Name, e.Title, v.Version, e.Minutes)
			}
			if !noPause {
				fmt.Fprintln(cmd.OutOrStdout(), "Press Enter after each step to go on; Ctrl-C stops and cleans up.")
			}
			return runAndReport(ctx, o, entries, []harness.Version{v}, wout)
		},
	}
	workshop.Flags().StringVar(&wversion, "version", harness.DefaultVersion, "ZooKeeper version")
	workshop.Flags().BoolVar(&noPause, "no-pause", false, "do not wait for Enter between steps")
	workshop.Flags().StringVar(&wout, "out", "reports/out", "report folder")
	rootCmd.AddCommand(workshop)

	var rdir string
	var rcheck bool
	report := &cobra.Command{
		Use:   "report",
		Short: "Render the HTML report and the matrix from the run records in a folder",
		Long: `Render <dir>/html/index.html (matrix and every run), one page per run, and
<dir>/html/matrix.md from the run records in <dir>/runs — the records the Ginkgo
suites (make test) and zkchaos run write.

With --check it also compares every record with the expected verdicts
(docs/verdicts.md) and exits 1 when one differs or a check failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := writeReports(rdir)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", path)
			if !rcheck {
				return nil
			}
			recs, err := reports.LoadDir(filepath.Join(rdir, "runs"))
			if err != nil {
				return err
			}
			var results []runResult
			for _, rec := range recs {
				res := judgeRun(rec, "", nil, 0)
				for _, p := range res.Problems {
					fmt.Fprintf(cmd.OutOrStdout(), "✗ %s on %s: %s\n", rec.Scenario, rec.Version, p)
				}
				results = append(results, res)
			}
			err = gate(results)
			if err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "✓ %d record(s): every verdict as expected (docs/verdicts.md), every check held\n", len(recs))
			}
			return err
		},
	}
	report.Flags().StringVar(&rdir, "dir", "reports/out", "report folder (records in runs/)")
	report.Flags().BoolVar(&rcheck, "check", false, "exit 1 when a record's verdict differs from docs/verdicts.md or a check failed")
	rootCmd.AddCommand(report)
}

func entriesFor(name string) ([]scenarios.Entry, error) {
	es, err := scenarios.Select(name)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return es, nil
}

// exitUnfinished: a run could not finish (an engine error, a time-out).
const exitUnfinished = 3

// runOutput is where a run's words go: the narration and the human summary on
// human (standard output, or standard error under --json), the JSON document on
// standard output.
type runOutput struct {
	human    io.Writer
	json     io.Writer // nil without --json
	narrator *consoleNarrator
	quiet    bool
	upgrade  bool
	// schedule is an exploration's fault schedule, for the JSON document.
	schedule *nemesis.Schedule
}

func newRunOutput(cmd *cobra.Command, quiet, asJSON bool) *runOutput {
	o := &runOutput{human: cmd.OutOrStdout(), quiet: quiet}
	if asJSON {
		o.human, o.json = cmd.ErrOrStderr(), cmd.OutOrStdout()
	}
	o.narrator = newConsoleNarrator(o.human, nil, quiet)
	return o
}

// runResult is one run in the JSON document.
type runResult struct {
	Scenario string                 `json:"scenario"`
	Version  string                 `json:"version"`
	Verdict  reports.Verdict        `json:"verdict"`
	Expected *scenarios.Expectation `json:"expected"`
	// Problems: how the verdict differs from the expected one, and failed checks.
	Problems []string `json:"problems,omitempty"`
	Passed   bool     `json:"passed"`
	Error    string   `json:"error,omitempty"`
	Record   string   `json:"record,omitempty"`
	Seconds  float64  `json:"seconds"`
	// Figures are the run's measurements (an exploration's availability per
	// fault kind among them).
	Figures map[string]float64 `json:"figures,omitempty"`
}

type runDocument struct {
	// Schedule is an exploration's fault schedule (zkchaos explore).
	Schedule *nemesis.Schedule `json:"schedule,omitempty"`
	Runs     []runResult       `json:"runs"`
	Passed   bool              `json:"passed"`
	ExitCode int               `json:"exit_code"`
	Report   string            `json:"report,omitempty"`
}

// runAndReport runs each entry on each version through the scenarios' runner,
// writes every record, compares each verdict with the expected table, renders
// the HTML and the matrix, and prints the report's path. A scenario that fails
// to finish is reported and the others still run.
func runAndReport(ctx context.Context, o *runOutput, entries []scenarios.Entry, vs []harness.Version, out string) error {
	if err := harness.CheckReady(ctx, vs...); err != nil {
		return usageErr("%v", err)
	}
	n := o.narrator
	runs := filepath.Join(out, "runs")
	doc := runDocument{Schedule: o.schedule}
	var pages []string
	for _, v := range vs {
		for _, e := range entries {
			if e.Skip != nil && e.Skip(v) {
				continue
			}
			n.Banner("%s on ZooKeeper %s — %s (about %.0f min)", e.Name, v.Version, e.Title, e.Minutes)
			t0 := time.Now()
			r := e.Begin(v, n, n.ProgressWriter())
			r.Artifacts = filepath.Join(out, "artifacts", e.Name+"-"+v.Version)
			r.Seed = time.Now().Unix() // F4-restart-order's random orders; recorded below
			stopBeat := heartbeat(o.human, e.Name, v.Version, r, o.quiet)
			rec, err := r.Execute(ctx)
			stopBeat()
			n.Done()
			if err != nil {
				rec.Note("the run did not finish: %v", err)
			}
			path, werr := rec.WriteJSON(runs)
			err = errors.Join(err, werr)
			res := judgeRun(rec, path, err, time.Since(t0))
			n.Verdict(rec, path, time.Since(t0), res.Problems, res.Expected != nil)
			pages = append(pages, filepath.Join(out, "html", rec.Scenario+"-"+rec.Version+".html"))
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				n.Say("%s on %s did not finish: %v", e.Name, v.Version, err)
			}
			doc.Runs = append(doc.Runs, res)
		}
	}
	index, err := writeReports(out)
	if err != nil {
		return err
	}
	doc.Report = index
	for _, p := range pages {
		fmt.Fprintf(o.human, "\nHTML report of the run: %s", p)
	}
	fmt.Fprintf(o.human, "\nHTML report with the matrix and every run: %s\n", index)
	result := gate(doc.Runs)
	doc.Passed = result == nil
	doc.ExitCode = exitCode(result)
	if o.json != nil {
		if jerr := writeJSON(o.json, doc); jerr != nil {
			return errors.Join(result, jerr)
		}
	}
	return result
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// judgeRun compares a run's record with the expected table (scenarios.Compare):
// the run passes when it finished, its verdict is the expected one, and every
// check held.
func judgeRun(rec *reports.Record, path string, runErr error, took time.Duration) runResult {
	res := runResult{Scenario: rec.Scenario, Version: rec.Version, Verdict: rec.Verdict, Record: path, Seconds: took.Seconds(), Figures: rec.Figures}
	if runErr != nil {
		res.Error = runErr.Error()
	}
	res.Problems, _ = scenarios.Compare(rec)
	if exp, ok := scenarios.ExpectedFor(rec.Scenario, rec.Version); ok {
		res.Expected = &exp
	}
	res.Passed = runErr == nil && len(res.Problems) == 0
	return res
}

// gate is the exit status of a set of runs: exitUnfinished when one could not
// finish, exitFindings (1) when one differs from the expected verdicts or failed
// a check, nil when all passed.
func gate(runs []runResult) error {
	var unfinished, differ []string
	for _, r := range runs {
		switch {
		case r.Error != "":
			unfinished = append(unfinished, fmt.Sprintf("%s on %s: %s", r.Scenario, r.Version, r.Error))
		case len(r.Problems) > 0:
			differ = append(differ, fmt.Sprintf("%s on %s: %s", r.Scenario, r.Version, strings.Join(r.Problems, "; ")))
		}
	}
	switch {
	case len(unfinished) > 0:
		return &exitError{code: exitUnfinished, err: fmt.Errorf("%d run(s) did not finish:\n  %s", len(unfinished), strings.Join(unfinished, "\n  "))}
	case len(differ) > 0:
		return failed(fmt.Errorf("%d run(s) differ from the expected verdicts (docs/verdicts.md) or failed a check:\n  %s", len(differ), strings.Join(differ, "\n  ")))
	}
	return nil
}

// exitCode is the status main gives err.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	}
	return exitUsage
}

// heartbeat prints, every 30 s while a run goes on, which step runs and for how
// long — in quiet mode (qualify, --quiet, --json), where nothing else would say
// that the run is alive. The narrator has its own ticker otherwise.
func heartbeat(w io.Writer, name, version string, r *scenarios.Run, quiet bool) (stop func()) {
	if !quiet {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	t0 := time.Now()
	go func() {
		defer wg.Done()
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				step, took := r.Current()
				fmt.Fprintf(w, "    … %s on %s: %.0f s — %s (%.0f s)\n", name, version, time.Since(t0).Seconds(), step, took.Seconds())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// writeReports renders every record under dir/runs into dir/html.
func writeReports(dir string) (string, error) {
	recs, err := reports.LoadDir(filepath.Join(dir, "runs"))
	if err != nil {
		return "", err
	}
	if len(recs) == 0 {
		return "", usageErr("no run records in %s", filepath.Join(dir, "runs"))
	}
	return reports.WriteAll(filepath.Join(dir, "html"), recs)
}

// consoleNarrator prints a scenario's steps; with in set it waits for Enter before
// each step after the first. While a step runs longer than a second without
// output it prints how long it has been running.
type consoleNarrator struct {
	out   io.Writer
	in    *bufio.Reader
	quiet bool
	step  int

	mu       sync.Mutex
	lastOut  time.Time
	stepAt   time.Time
	stopTick chan struct{}
	tickDone chan struct{}
}

func newConsoleNarrator(out io.Writer, in io.Reader, quiet bool) *consoleNarrator {
	n := &consoleNarrator{out: out, quiet: quiet}
	if in != nil {
		n.in = bufio.NewReader(in)
	}
	return n
}

func (n *consoleNarrator) printf(format string, a ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fmt.Fprintf(n.out, format, a...)
	n.lastOut = time.Now()
}

// Banner starts a scenario.
func (n *consoleNarrator) Banner(format string, a ...any) {
	n.step = 0
	n.printf("\n%s\n%s\n", fmt.Sprintf(format, a...), strings.Repeat("─", 72))
}

func (n *consoleNarrator) Step(title, format string, a ...any) {
	n.stopTicker()
	if n.quiet {
		return
	}
	if n.in != nil && n.step > 0 {
		n.printf("\n    [Enter] next step: %s ", title)
		if _, err := n.in.ReadString('\n'); err != nil {
			n.in = nil // input closed: go on without pausing
		}
	}
	n.step++
	n.printf("\n==> %d. %s\n    %s\n", n.step, title, fmt.Sprintf(format, a...))
	n.startTicker()
}

func (n *consoleNarrator) Say(format string, a ...any) {
	if n.quiet {
		return
	}
	n.printf("    %s\n", fmt.Sprintf(format, a...))
}

// ProgressWriter carries the harness's progress lines (ensemble started, node
// restarted…) into the narration, indented.
func (n *consoleNarrator) ProgressWriter() io.Writer {
	if n.quiet {
		return io.Discard
	}
	return writerFunc(func(p []byte) (int, error) {
		for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
			n.printf("    · %s\n", strings.TrimSpace(l))
		}
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (n *consoleNarrator) startTicker() {
	n.mu.Lock()
	n.stepAt = time.Now()
	stop, done := make(chan struct{}), make(chan struct{})
	n.stopTick, n.tickDone = stop, done
	n.mu.Unlock()
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				n.mu.Lock()
				quietFor := now.Sub(n.lastOut)
				running := now.Sub(n.stepAt)
				n.mu.Unlock()
				// Every 5 s of silence (the first after 1 s): still working.
				if quietFor >= time.Second && (running < 2*time.Second || quietFor >= 5*time.Second) {
					n.printf("    … %.0f s\n", running.Seconds())
				}
			}
		}
	}()
}

func (n *consoleNarrator) stopTicker() {
	n.mu.Lock()
	stop, done := n.stopTick, n.tickDone
	n.stopTick, n.tickDone = nil, nil
	n.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// Done ends the last step of a scenario.
func (n *consoleNarrator) Done() { n.stopTicker() }

// Verdict prints a run's verdict, how it compares with the expected one, and
// where its record is.
func (n *consoleNarrator) Verdict(rec *reports.Record, path string, took time.Duration, problems []string, known bool) {
	v := rec.Verdict
	fix := v.FixStatus()
	if fix == "" {
		fix = "not tried"
	}
	reproduced := yesNo(v.Reproduced)
	if v.FixedInVersion {
		reproduced = "no (fixed in this version)"
	}
	switch {
	case rec.Scenario == scenarios.ExploreName, strings.HasPrefix(rec.Scenario, "upgrade-"):
		// Not a failure of the catalogue: its faults and checks are the verdict.
		n.printf("\n==> Verdict — %s on %s (%.0f s): %s\n", rec.Scenario, rec.Version, took.Seconds(), reports.CellText(rec))
	default:
		n.printf("\n==> Verdict — %s on %s (%.0f s): reproduced %s · detected %s · fix %s\n", rec.Scenario, rec.Version, took.Seconds(), reproduced, yesNo(v.Detected), fix)
	}
	for _, f := range v.Fixes {
		if f.Name != rec.DocumentedFix {
			st := f.Status
			if st == "" {
				st = "not tried"
			}
			n.printf("    other fix: %s — %s\n", f.Name, st)
		}
	}
	for _, note := range v.Notes {
		first, _, _ := strings.Cut(note, "\n")
		n.printf("    note: %s\n", first)
	}
	switch {
	case len(problems) > 0:
		for _, p := range problems {
			n.printf("    ✗ %s\n", p)
		}
	case known:
		n.printf("    ✓ as expected (docs/verdicts.md); %d check(s) held\n", len(v.Checks))
	default:
		n.printf("    no expected verdict for %s on %s in docs/verdicts.md; %d check(s) held\n", rec.Scenario, rec.Version, len(v.Checks))
	}
	n.printf("    run record: %s\n", path)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func mustLookup(name string) harness.Version {
	v, _ := harness.LookupVersion(name)
	return v
}

// writeUpgradeDiff writes upgrade-A-B.md: the upgrade path's result and what
// changes between A and B — each failure's verdict on both, and the features of
// the versions table that differ.
func writeUpgradeDiff(dir string, a, b harness.Version) (string, error) {
	recs, err := reports.LoadDir(filepath.Join(dir, "runs"))
	if err != nil {
		return "", err
	}
	find := func(scenario, version string) *reports.Record {
		for _, r := range recs {
			if r.Scenario == scenario && r.Version == version {
				return r
			}
		}
		return nil
	}
	var w strings.Builder
	fmt.Fprintf(&w, "# Upgrade %s → %s\n\n", a.Version, b.Version)
	if up := find("upgrade-from-"+a.Version, b.Version); up != nil {
		fmt.Fprintf(&w, "**Rolling upgrade:** %s\n\n", reports.CellText(up))
		for _, e := range up.Verdict.Evidence {
			fmt.Fprintf(&w, "- %s\n", e)
		}
		w.WriteString("\n")
	}
	w.WriteString("## The failures on both versions\n\n| failure | " + a.Version + " | " + b.Version + " | changed |\n|---|---|---|---|\n")
	for _, e := range scenarios.Catalog {
		ra, rb := find(e.Name, a.Version), find(e.Name, b.Version)
		ta, tb := "not run", "not run"
		if ra != nil {
			ta = reports.CellText(ra)
		}
		if rb != nil {
			tb = reports.CellText(rb)
		}
		changed := ""
		if ta != tb {
			changed = "**yes**"
		}
		fmt.Fprintf(&w, "| %s | %s | %s | %s |\n", e.Name, ta, tb, changed)
	}
	w.WriteString("\n## What the versions table says changes\n\n")
	differ := false
	feature := func(name string, fa, fb any, why string) {
		if fa != fb {
			differ = true
			fmt.Fprintf(&w, "- %s: %v in %s, %v in %s — %s\n", name, fa, a.Version, fb, b.Version, why)
		}
	}
	feature("clientPortListenBacklog (ZOOKEEPER-974)", avail(a.ClientPortListenBacklog), avail(b.ClientPortListenBacklog), "F5's configurable backlog")
	feature("mntr zk_connection_rejected", avail(a.ConnectionRejectedMetric), avail(b.ConnectionRejectedMetric), "F3's refusals counted by the server")
	feature("4lw.commands.whitelist", required(a.FourLetterWhitelist), required(b.FourLetterWhitelist), "only srvr answers unless whitelisted: monitoring that uses mntr/cons/stat breaks")
	feature("AdminServer", avail(a.AdminServer), avail(b.AdminServer), "a Jetty server on :8080 unless admin.enableServer=false")
	feature("election handshake", a.ElectionHandshake, b.ElectionHandshake, "3.5+ advertise their election address and peers dial it back (F4: an unreachable advertised address keeps a node out)")
	feature("log format", a.LogFormat, b.LogFormat, "notification and connection-limit lines change shape: log-based alerts need updating")
	if !differ {
		w.WriteString("- nothing: both versions have the same options, metrics, election handshake and log formats here\n")
	}
	path := filepath.Join(dir, "html", "upgrade-"+a.Version+"-"+b.Version+".md")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte(w.String()), 0o644)
}

func avail(b bool) string {
	if b {
		return "available"
	}
	return "not available"
}

func required(b bool) string {
	if b {
		return "required"
	}
	return "not needed"
}
