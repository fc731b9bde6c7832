package main

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/fault"
	"github.com/zkchaos/zkchaos/harness/nemesis"
	"github.com/zkchaos/zkchaos/scenarios"
)

func init() {
	var versions []string
	var out, faults string
	var quiet, asJSON, planOnly bool
	var seed int64
	var duration time.Duration
	var kindLines []string
	for _, k := range fault.Kinds {
		kindLines = append(kindLines, "  "+string(k)+strings.Repeat(" ", 12-len(k))+k.Describe())
	}
	cmd := &cobra.Command{
		Use:   "explore",
		Short: "Random faults nobody scripted, from a seed, under a workload checked for linearizability",
		Long: `Start a 3-node ensemble, run a seeded random schedule of faults against it one
at a time — each with evidence that it took effect and a checked heal, then a
wait (at most 90 s) until every node serves again — while client sessions
write and read throughout, and check the history with porcupine: writes and
sync+reads must be linearizable. Plain reads are checked separately: ZooKeeper
promises them only sequential consistency, and a node cut off from its
leader answers them stale.

The schedule depends only on --seed, --duration and --faults: it is printed
first, and the same seed runs the same schedule again (--plan prints it and
stops). The report (HTML) shows the faults as spans, the clients' errors and
the check; per fault kind, the longest time without a successful write and
the share of operations that failed or have an unknown outcome. When a check
fails, the history, porcupine's visualisation and the node logs are kept
under <out>/artifacts/explore-<version>/ (the history and the schedule always).

Faults (--faults, comma-separated, or "all"; default all but delay and
disk-full):
` + strings.Join(kindLines, "\n") + `

delay needs the engine's kernel to have the netem qdisc (sch_netem);
disk-full puts every dataDir on a tmpfs, so a node that restarts comes back
empty and syncs from the leader (docs/explore.md).

Exit status: 0 every check held; 1 a check failed (not linearizable, a fault
without evidence, not healed, a node that did not serve again); 2 usage or
environment error; 3 the run could not finish; 130 interrupted.`,
		Example: `  zkchaos explore --version 3.9.3 --duration 60s --seed 7
  zkchaos explore --seed 7 --duration 60s --version 3.9.3 --json
  zkchaos explore --faults partition,pause,kill --duration 2m
  zkchaos explore --seed 7 --plan`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kinds := nemesis.DefaultKinds
			if faults != "" {
				var err error
				if kinds, err = fault.ParseKinds(faults); err != nil {
					return usageErr("--faults: %v", err)
				}
			}
			if duration < 10*time.Second || duration > 2*time.Hour {
				return usageErr("--duration %v: want 10s to 2h", duration)
			}
			if !cmd.Flags().Changed("seed") {
				seed = time.Now().UnixNano() % 1_000_000
			}
			x := scenarios.Exploration{Seed: seed, Duration: duration, Kinds: kinds}
			sched := x.Schedule()
			o := newRunOutput(cmd, quiet, asJSON)
			if planOnly {
				if o.json != nil {
					return writeJSON(o.json, sched)
				}
				_, err := o.human.Write([]byte(sched.String()))
				return err
			}
			vs, err := lookupVersions(versions)
			if err != nil {
				return err
			}
			o.schedule = &sched
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			return runAndReport(ctx, o, []scenarios.Entry{x.Entry()}, vs, out)
		},
	}
	cmd.Flags().StringSliceVar(&versions, "version", []string{harness.DefaultVersion}, "ZooKeeper version(s), comma-separated")
	cmd.Flags().DurationVar(&duration, "duration", 60*time.Second, "planned length of the schedule (recovery waits come on top)")
	cmd.Flags().Int64Var(&seed, "seed", 0, "the schedule's seed (default: from the clock, printed)")
	cmd.Flags().StringVar(&faults, "faults", "", "fault kinds to draw from, comma-separated, or all (default: all but delay and disk-full)")
	cmd.Flags().BoolVar(&planOnly, "plan", false, "print the schedule and stop")
	cmd.Flags().StringVar(&out, "out", "reports/out", "report folder (run records in runs/, HTML in html/)")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "print only a heartbeat, the verdict and the report path")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the schedule and the result as JSON on standard output (narration on standard error)")
	rootCmd.AddCommand(cmd)
}
