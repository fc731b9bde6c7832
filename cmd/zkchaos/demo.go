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
)

func init() {
	var version string
	var nodes int
	var hold time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start an ensemble, kill its leader, show the failover, clean up",
		Long: `Start a real ZooKeeper ensemble in containers, print every node's state,
kill the leader with SIGKILL, show which node takes over and that the data
survived, then remove every container and network it made (also on Ctrl-C).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			return runDemo(ctx, cmd.OutOrStdout(), version, nodes, hold)
		},
	}
	cmd.Flags().StringVar(&version, "version", harness.DefaultVersion, "ZooKeeper version")
	cmd.Flags().IntVar(&nodes, "nodes", 3, "number of nodes")
	cmd.Flags().DurationVar(&hold, "hold", 0, "keep the ensemble this long before the failover (for poking at it)")
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
