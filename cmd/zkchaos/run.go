package main

import (
	"bufio"
	"context"
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
	"github.com/zkchaos/zkchaos/reports"
	"github.com/zkchaos/zkchaos/scenarios"
)

// run, qualify, workshop and report share the scenario catalog (scenarios.Catalog:
// the same step functions the Ginkgo specs assert on) and the report writers.
func init() {
	var versions []string
	var out string
	var quiet bool
	runCmd := &cobra.Command{
		Use:   "run <F1|F2|F3|F4|F5|all>",
		Short: "Run one documented failure (or all) on real ensembles and write the reports",
		Long: `Run a scenario end to end on real ZooKeeper servers in containers — trigger,
evidence, detector, fix — narrated step by step, then write its run record (JSON)
and the HTML report, and print the report's path.

Exit status: 0 when every scenario ran to its verdict (a verdict may be "not
reproduced": that is a result, e.g. F1 on versions where ZOOKEEPER-1514 is fixed),
1 when a scenario could not finish, 2 on a usage or environment error.`,
		Example: `  zkchaos run F3 --version 3.9.3
  zkchaos run all --version 3.4.13`,
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
			n := newConsoleNarrator(cmd.OutOrStdout(), nil, quiet)
			return runAndReport(ctx, n, entries, vs, out)
		},
	}
	runCmd.Flags().StringSliceVar(&versions, "version", []string{harness.DefaultVersion}, "ZooKeeper version(s), comma-separated")
	runCmd.Flags().StringVar(&out, "out", "reports/out", "report folder (run records in runs/, HTML in html/)")
	runCmd.Flags().BoolVar(&quiet, "quiet", false, "print only the verdicts and the report path")
	rootCmd.AddCommand(runCmd)

	var qversions []string
	var qscen, qout, qfrom, qto string
	qualify := &cobra.Command{
		Use:   "qualify",
		Short: "Run every failure on every version and write the qualification matrix",
		Long: `Run the documented failures on each version and write the qualification
matrix — failure × version → reproduced / detected / fix works / fix not
available, each cell linked to its evidence — as Markdown (matrix.md) and HTML
(index.html), then print the Markdown. About 10 minutes per version on 2 cores.

With --from A --to B it qualifies an upgrade: the failures on A and on B, a
rolling upgrade A → B under a porcupine-checked workload (served throughout?
longest gap, client errors, linearizable?), and what changes between A and B
(upgrade-A-B.md).`,
		Example: `  zkchaos qualify --versions 3.4.13,3.8.0,3.9.3
  zkchaos qualify --versions 3.9.3 --scenarios F3,F5
  zkchaos qualify --from 3.8.0 --to 3.9.3`,
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
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			n := newConsoleNarrator(cmd.OutOrStdout(), nil, true)
			if qfrom != "" {
				entries = append(entries, upgradeEntry(vs[0]))
				vs = vs[:1]
				vs = append(vs, mustLookup(qto))
			}
			err = runAndReport(ctx, n, entries, vs, qout)
			md, rerr := os.ReadFile(filepath.Join(qout, "html", "matrix.md"))
			if rerr == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "\n%s", md)
			}
			if qfrom != "" {
				path, derr := writeUpgradeDiff(qout, vs[0], vs[1])
				if derr != nil {
					return errors.Join(err, derr)
				}
				b, _ := os.ReadFile(path)
				fmt.Fprintf(cmd.OutOrStdout(), "\n%s\nupgrade report: %s\n", b, path)
			}
			return err
		},
	}
	qualify.Flags().StringSliceVar(&qversions, "versions", harness.VersionNames(), "versions to qualify")
	qualify.Flags().StringVar(&qscen, "scenarios", "all", "scenarios, comma-separated (F1..F5 or all)")
	qualify.Flags().StringVar(&qout, "out", "reports/out", "report folder")
	qualify.Flags().StringVar(&qfrom, "from", "", "qualify an upgrade from this version (with --to)")
	qualify.Flags().StringVar(&qto, "to", "", "qualify an upgrade to this version (with --from)")
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
			e, err := scenarios.Lookup(args[0])
			if err != nil {
				return usageErr("%v", err)
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
			n := newConsoleNarrator(cmd.OutOrStdout(), in, false)
			fmt.Fprintf(cmd.OutOrStdout(), "zkchaos workshop — %s: %s (ZooKeeper %s, about %.0f min)\n", e.Name, e.Title, v.Version, e.Minutes)
			if !noPause {
				fmt.Fprintln(cmd.OutOrStdout(), "Press Enter after each step to go on; Ctrl-C stops and cleans up.")
			}
			return runAndReport(ctx, n, []scenarios.Entry{e}, []harness.Version{v}, wout)
		},
	}
	workshop.Flags().StringVar(&wversion, "version", harness.DefaultVersion, "ZooKeeper version")
	workshop.Flags().BoolVar(&noPause, "no-pause", false, "do not wait for Enter between steps")
	workshop.Flags().StringVar(&wout, "out", "reports/out", "report folder")
	rootCmd.AddCommand(workshop)

	var rdir string
	report := &cobra.Command{
		Use:   "report",
		Short: "Render the HTML report and the matrix from the run records in a folder",
		Long: `Render <dir>/html/index.html (matrix and every run), one page per run, and
<dir>/html/matrix.md from the run records in <dir>/runs — the records the Ginkgo
suites (make test) and zkchaos run write.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := writeReports(rdir)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", path)
			return nil
		},
	}
	report.Flags().StringVar(&rdir, "dir", "reports/out", "report folder (records in runs/)")
	rootCmd.AddCommand(report)
}

func entriesFor(name string) ([]scenarios.Entry, error) {
	if strings.EqualFold(name, "all") {
		return scenarios.Catalog, nil
	}
	e, err := scenarios.Lookup(name)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return []scenarios.Entry{e}, nil
}

// runAndReport runs each entry on each version, writes every record, renders the
// HTML and the matrix, and prints the report's path. A scenario that fails to
// finish is reported and the others still run.
func runAndReport(ctx context.Context, n *consoleNarrator, entries []scenarios.Entry, vs []harness.Version, out string) error {
	if err := harness.CheckReady(ctx, vs...); err != nil {
		return usageErr("%v", err)
	}
	runs := filepath.Join(out, "runs")
	var failedRuns []error
	var pages []string
	for _, v := range vs {
		for _, e := range entries {
			if e.Skip != nil && e.Skip(v) {
				continue
			}
			n.Banner("%s on ZooKeeper %s — %s (about %.0f min)", e.Name, v.Version, e.Title, e.Minutes)
			t0 := time.Now()
			rec, err := e.Run(ctx, v, n, n.ProgressWriter())
			n.Done()
			if rec != nil {
				if err != nil {
					rec.Note("the run did not finish: %v", err)
				}
				path, werr := rec.WriteJSON(runs)
				if werr != nil {
					err = errors.Join(err, werr)
				}
				n.Verdict(rec, path, time.Since(t0))
				pages = append(pages, filepath.Join(out, "html", rec.Scenario+"-"+rec.Version+".html"))
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				n.Say("%s on %s did not finish: %v", e.Name, v.Version, err)
				failedRuns = append(failedRuns, fmt.Errorf("%s on %s: %w", e.Name, v.Version, err))
			}
		}
	}
	index, err := writeReports(out)
	if err != nil {
		return err
	}
	for _, p := range pages {
		fmt.Fprintf(n.out, "\nHTML report of the run: %s", p)
	}
	fmt.Fprintf(n.out, "\nHTML report with the matrix and every run: %s\n", index)
	if len(failedRuns) > 0 {
		return failed(errors.Join(failedRuns...))
	}
	return nil
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

// Verdict prints a run's verdict and where its record is.
func (n *consoleNarrator) Verdict(rec *reports.Record, path string, took time.Duration) {
	v := rec.Verdict
	fix := v.FixStatus()
	if fix == "" {
		fix = "not tried"
	}
	n.printf("\n==> Verdict — %s on %s (%.0f s): reproduced %s · detected %s · fix %s\n", rec.Scenario, rec.Version, took.Seconds(), yesNo(v.Reproduced), yesNo(v.Detected), fix)
	for _, note := range v.Notes {
		first, _, _ := strings.Cut(note, "\n")
		n.printf("    note: %s\n", first)
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

// upgradeEntry runs the rolling upgrade from → (the version it is run on); it runs
// only on a version newer or older than from, not on from itself.
func upgradeEntry(from harness.Version) scenarios.Entry {
	return scenarios.Entry{Name: "upgrade", Title: "Rolling upgrade from " + from.Version, Minutes: 2,
		Skip: func(to harness.Version) bool { return to.Version == from.Version },
		Run: func(ctx context.Context, to harness.Version, n scenarios.Narrator, progress io.Writer) (*reports.Record, error) {
			return scenarios.QualifyUpgrade(ctx, from, to, n, progress)
		}}
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
