package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/zkchaos/zkchaos/harness"
)

func init() {
	var stale bool
	var run string
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Remove every zkchaos container and network (leftovers of killed runs)",
		Long: `Remove every container and network labelled zkchaos=1.
With --stale, only those whose creating process is gone (safe while other runs are live).
With --run ID, only those of that run (the zkchaos.run label; ZKCHAOS_RUN_ID sets it).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mode := harness.SweepAll
			if stale {
				mode = harness.SweepStale
			}
			var res harness.SweepResult
			var err error
			if run != "" {
				res, err = harness.SweepRunID(cmd.Context(), run)
			} else {
				res, err = harness.Sweep(cmd.Context(), mode)
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
	cmd.Flags().BoolVar(&stale, "stale", false, "only remove what processes that are gone left behind")
	cmd.Flags().StringVar(&run, "run", "", "only remove what the run with this id created")
	rootCmd.AddCommand(cmd)
}
