package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/scenarios"
)

func init() {
	var version, scenario string
	var nodes int
	var hold time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a documented failure end to end on a real ensemble (default F3), then clean up",
		Long: `Run one documented failure end to end on real ZooKeeper servers in containers,
narrated step by step: the symptom, the trigger, the evidence that the fault
happened, the detector's finding, the documented fix, and the verdict.

  --scenario F3        (default) some processes on one client host cannot connect:
                       maxClientCnxns, "Too many connections from /ip - max is N"
  --scenario failover  kill the leader with SIGKILL and watch another take over
                       (--nodes, --hold apply here)

F3 writes its run record and the HTML report (reports/out/html) and prints the
report's path; it is "zkchaos run F3" with the default version.
Every container and network it made is removed at the end, also on Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			switch scenario {
			case "F3", "f3":
				v, err := harness.LookupVersion(version)
				if err != nil {
					return usageErr("%v", err)
				}
				e, _ := scenarios.Lookup("F3")
				return runAndReport(ctx, newRunOutput(cmd, false, false), []scenarios.Entry{e}, []harness.Version{v}, "reports/out")
			case "failover":
				return runDemo(ctx, cmd.OutOrStdout(), version, nodes, hold)
			}
			return usageErr("unknown --scenario %q (F3, failover)", scenario)
		},
	}
	cmd.Flags().StringVar(&scenario, "scenario", "F3", "F3 or failover")
	cmd.Flags().StringVar(&version, "version", harness.DefaultVersion, "ZooKeeper version")
	cmd.Flags().IntVar(&nodes, "nodes", 3, "number of nodes (failover)")
	cmd.Flags().DurationVar(&hold, "hold", 0, "keep the ensemble this long before the failover (failover)")
	rootCmd.AddCommand(cmd)
}

// signalContext is cancelled by SIGINT/SIGTERM, so that clean-up runs on Ctrl-C.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	if parent == nil {
		parent = context.Background()
	}
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}

func runDemo(ctx context.Context, out io.Writer, version string, nodes int, hold time.Duration) (err error) {
	if _, err := harness.LookupVersion(version); err != nil {
		return usageErr("%v", err)
	}
	step := func(format string, a ...any) {
		fmt.Fprintf(out, "\n==> "+format+"\n", a...)
	}
	step("starting a %d-node ZooKeeper %s ensemble (real servers in containers)", nodes, version)
	ens, err := harness.Run(ctx, harness.WithVersion(version), harness.WithNodes(nodes), harness.WithProgress(out))
	defer func() {
		fmt.Fprintln(out, "\n==> cleaning up: removing every container and the network")
		if terr := ens.Terminate(ctx); terr != nil {
			err = fmt.Errorf("%w; clean-up: %v", err, terr)
		}
	}()
	if err != nil {
		return err
	}
	printStates(ctx, out, ens)

	conn, err := ens.Connect(ctx)
	if err != nil {
		return err
	}
	path := "/zkchaos-demo"
	if _, err := conn.Create(path, []byte("written before the failover"), 0, worldACL); err != nil {
		conn.Close()
		return fmt.Errorf("create %s: %w", path, err)
	}
	conn.Close()
	fmt.Fprintf(out, "wrote %s\n", path)

	if hold > 0 {
		step("holding for %s (Ctrl-C cleans up)", hold)
		select {
		case <-time.After(hold):
		case <-ctx.Done():
			return ctx.Err()
		}
	}

	leader, err := ens.Leader(ctx)
	if err != nil {
		return err
	}
	step("killing the leader, %s (SIGKILL)", leader.Name)
	killed := time.Now()
	if err := leader.Kill(ctx); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := ens.WaitServing(wctx, ens.Others(leader)...); err != nil {
		return err
	}
	newLeader, err := ens.Leader(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s took over %.2f s after the kill\n", newLeader.Name, time.Since(killed).Seconds())
	printStates(ctx, out, ens)

	conn, err = newLeader.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	data, _, err := conn.Get(path)
	if err != nil {
		return fmt.Errorf("read %s after the failover: %w", path, err)
	}
	fmt.Fprintf(out, "read %s on the new leader: %q\n", path, data)
	return nil
}

func printStates(ctx context.Context, out io.Writer, ens *harness.Ensemble) {
	states := ens.States(ctx)
	for _, n := range ens.Nodes() {
		fmt.Fprintf(out, "  %-4s myid=%d  %-15s %s\n", n.Name, n.MyID, n.IP(), states[n.MyID].Mode)
	}
}
