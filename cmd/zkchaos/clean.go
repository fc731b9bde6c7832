package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/zkchaos/zkchaos/harness"
)

func init() {
	var all, stale bool
	var run string
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Remove what killed zkchaos runs left behind (containers and networks)",
		Long: `Remove containers and networks labelled zkchaos=1.

By default, only those whose creating process is gone (a killed run's leftovers, on
this host): safe while other runs are live.
  --run ID   only those of one run (the zkchaos.run label; ZKCHAOS_RUN_ID sets it),
             whichever host or container its process ran in
  --all      every one, live runs included

Exit codes: 0 done, 2 the engine did not answer or a removal failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all && run != "" {
				return usageErr("clean: --all and --run exclude each other")
			}
			var res harness.SweepResult
			var err error
			switch {
			case run != "":
				res, err = harness.SweepRunID(cmd.Context(), run)
			case all:
				res, err = harness.Sweep(cmd.Context(), harness.SweepAll)
			default:
				res, err = harness.Sweep(cmd.Context(), harness.SweepStale)
			}
			for _, c := range res.Containers {
				fmt.Fprintf(cmd.OutOrStdout(), "removed container %s\n", c)
			}
			for _, n := range res.Networks {
				fmt.Fprintf(cmd.OutOrStdout(), "removed network %s\n", n)
			}
			if err != nil {
				return usageErr("%v", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "clean: %d container(s), %d network(s) removed\n", len(res.Containers), len(res.Networks))
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "remove every zkchaos container and network, live runs included")
	cmd.Flags().StringVar(&run, "run", "", "only remove what the run with this id created")
	cmd.Flags().BoolVar(&stale, "stale", false, "the default (kept for scripts that pass it)")
	_ = cmd.Flags().MarkHidden("stale")
	rootCmd.AddCommand(cmd)
}
