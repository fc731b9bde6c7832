package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkchaos/zkchaos/harness/tunnel"
)

// relay is the far end of the harness's tunnel (harness.ReachTunnel). In a gateway
// container on an ensemble's network, `zkchaos relay --idle` is the container's
// process, and each `docker exec … zkchaos relay` carries the harness's connections
// over its standard input and output. It dials only the networks of the container
// it runs in, and stops by itself: the exec when its input ends, the idle process
// after --max.
func init() {
	var idle bool
	var maxLife time.Duration
	cmd := &cobra.Command{
		Use:    "relay",
		Short:  "The far end of the harness's tunnel through the engine (runs in a gateway container)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if maxLife <= 0 || maxLife > 24*time.Hour {
				return usageErr("--max must be within (0, 24h]")
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			if idle {
				ctx, cancel := context.WithTimeout(ctx, maxLife)
				defer cancel()
				<-ctx.Done()
				return nil
			}
			prefixes, err := tunnel.LocalPrefixes()
			if err != nil || len(prefixes) == 0 {
				return usageErr("relay: no network to serve (%v)", err)
			}
			done := make(chan error, 1)
			go func() { done <- tunnel.Serve(os.Stdin, os.Stdout, tunnel.AllowPrefixes(prefixes...)) }()
			select {
			case err := <-done:
				if err != nil {
					return fmt.Errorf("relay: %w", err)
				}
				return nil
			case <-ctx.Done():
				return nil
			}
		},
	}
	cmd.Flags().BoolVar(&idle, "idle", false, "only wait (the gateway container's own process) until --max or a signal")
	cmd.Flags().DurationVar(&maxLife, "max", 12*time.Hour, "how long --idle waits at most")
	rootCmd.AddCommand(cmd)
}
