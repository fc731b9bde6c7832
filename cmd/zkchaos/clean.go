package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/zkchaos/zkchaos/harness"
)

func init() {
	var stale bool
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Remove every zkchaos container and network (leftovers of killed runs)",
		Long: `Remove every container and network labelled zkchaos=1.
With --stale, only those whose creating process is gone (safe while other runs are live).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mode := harness.SweepAll
			if stale {
				mode = harness.SweepStale
			}
			res, err := harness.Sweep(cmd.Context(), mode)
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
	rootCmd.AddCommand(cmd)
}
