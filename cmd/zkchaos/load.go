package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkchaos/zkchaos/harness/load"
)

// load runs zkchaos's traffic generators. In scenarios it runs inside client
// containers on an ensemble's network; every generator is bounded and stops by itself.
func init() {
	loadCmd := &cobra.Command{
		Use:   "load",
		Short: "Traffic generators (bounded; they stop by themselves)",
	}
	var target string
	var count int
	var hold, sessionTimeout time.Duration
	sessions := &cobra.Command{
		Use:   "sessions",
		Short: "Open N sessions to one server, one after another, and hold them",
		Long: `Open --count sessions to --target one after another (each waits for its
answer, like client processes starting in turn), keep the accepted ones alive for
--hold or until SIGTERM/SIGINT, then close them. Prints one line per session and a
JSON summary line starting with "opened:".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := net.SplitHostPort(target); err != nil {
				return usageErr("--target must be ip:port: %v", err)
			}
			if count < 1 || count > 10000 {
				return usageErr("--count must be 1..10000")
			}
			if hold <= 0 || hold > time.Hour {
				return usageErr("--hold must be within (0, 1h]")
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, hold)
			defer cancel()
			out := cmd.OutOrStdout()
			load.HoldSessions(ctx, target, count, sessionTimeout, out, func(r load.HoldResult) {
				b, _ := json.Marshal(r)
				fmt.Fprintf(out, "opened: %s\n", b)
			})
			fmt.Fprintln(out, "closed")
			return nil
		},
	}
	sessions.Flags().StringVar(&target, "target", "", "server client address ip:port (required)")
	sessions.Flags().IntVar(&count, "count", 1, "sessions to open")
	sessions.Flags().DurationVar(&hold, "hold", 2*time.Minute, "how long to hold them at most")
	sessions.Flags().DurationVar(&sessionTimeout, "session-timeout", 10*time.Second, "requested session timeout")
	_ = sessions.MarkFlagRequired("target")
	loadCmd.AddCommand(sessions)
	rootCmd.AddCommand(loadCmd)
}
