package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
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
	var count, procs int
	var hold, sessionTimeout time.Duration
	sessions := &cobra.Command{
		Use:   "sessions",
		Short: "Open N sessions to one server, one after another, and hold them",
		Long: `Open --count sessions to --target one after another (each waits for its
answer, like client processes starting in turn), keep the accepted ones alive for
--hold or until SIGTERM/SIGINT, then close them. Prints one line per session and a
JSON summary line starting with "opened:".

With --procs P, P real client processes (this binary again) start one after
another, each opening --count sessions; sessions are numbered across processes
in start order, and the summary covers them all.`,
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
			if procs < 1 || procs > 1000 {
				return usageErr("--procs must be 1..1000")
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, hold)
			defer cancel()
			out := cmd.OutOrStdout()
			if procs > 1 {
				return holdInProcesses(ctx, out, procs, []string{"load", "sessions", "--target", target,
					"--count", fmt.Sprint(count), "--hold", hold.String(), "--session-timeout", sessionTimeout.String()})
			}
			load.HoldSessions(ctx, target, count, sessionTimeout, out, func(r load.HoldResult) {
				b, _ := json.Marshal(r)
				fmt.Fprintf(out, "opened: %s\n", b)
			})
			fmt.Fprintln(out, "closed")
			return nil
		},
	}
	sessions.Flags().StringVar(&target, "target", "", "server client address ip:port (required)")
	sessions.Flags().IntVar(&count, "count", 1, "sessions to open (per process)")
	sessions.Flags().IntVar(&procs, "procs", 1, "client processes, started one after another, each opening --count sessions")
	sessions.Flags().DurationVar(&hold, "hold", 2*time.Minute, "how long to hold them at most")
	sessions.Flags().DurationVar(&sessionTimeout, "session-timeout", 10*time.Second, "requested session timeout")
	_ = sessions.MarkFlagRequired("target")
	loadCmd.AddCommand(sessions, floodCmd(), reuseCmd())
	rootCmd.AddCommand(loadCmd)
}

// holdInProcesses runs procs child processes of this binary, one after another (each
// starts once the previous one has tried all its sessions), prefixes their output,
// merges their summaries, and ends them with SIGTERM when ctx ends.
func holdInProcesses(ctx context.Context, out io.Writer, procs int, args []string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var (
		mu       sync.Mutex
		total    load.HoldResult
		children []*exec.Cmd
		wg       sync.WaitGroup
	)
	defer func() {
		for _, c := range children {
			_ = c.Process.Signal(syscall.SIGTERM)
		}
		wg.Wait()
		for _, c := range children {
			_ = c.Wait()
		}
	}()
	for p := 1; p <= procs; p++ {
		c := exec.Command(self, args...)
		stdout, err := c.StdoutPipe()
		if err != nil {
			return err
		}
		c.Stderr = os.Stderr
		if err := c.Start(); err != nil {
			return fmt.Errorf("process %d: %w", p, err)
		}
		children = append(children, c)
		opened := make(chan load.HoldResult, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(opened)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				line := sc.Text()
				if js, ok := strings.CutPrefix(line, "opened: "); ok {
					var r load.HoldResult
					_ = json.Unmarshal([]byte(js), &r)
					opened <- r
				}
				mu.Lock()
				fmt.Fprintf(out, "process %d (pid %d): %s\n", p, c.Process.Pid, line)
				mu.Unlock()
			}
		}()
		select {
		case r, ok := <-opened:
			if !ok {
				return fmt.Errorf("process %d ended before it tried its sessions", p)
			}
			offset := len(total.Accepted) + len(total.Refused) + len(total.Failed)
			shift := func(dst *[]int, src []int) {
				for _, i := range src {
					*dst = append(*dst, offset+i)
				}
			}
			shift(&total.Accepted, r.Accepted)
			shift(&total.Refused, r.Refused)
			shift(&total.Failed, r.Failed)
			total.Errors = append(total.Errors, r.Errors...)
		case <-ctx.Done():
			return nil
		}
	}
	b, _ := json.Marshal(total)
	mu.Lock()
	fmt.Fprintf(out, "opened: %s\n", b)
	mu.Unlock()
	<-ctx.Done()
	for _, c := range children {
		_ = c.Process.Signal(syscall.SIGTERM)
	}
	wg.Wait()
	for _, c := range children {
		_ = c.Wait()
	}
	children = nil
	fmt.Fprintln(out, "closed")
	return nil
}

func floodCmd() *cobra.Command {
	var cfg load.FloodConfig
	cmd := &cobra.Command{
		Use:   "flood",
		Short: "Short-connection flood: connect, handshake, close, at a fixed rate (open loop)",
		Long: `Open short connections to --target at --rate per second for --duration: TCP
connect, ZooKeeper ConnectRequest, wait for the answer, closeSession, close — what an
SDK used from every web request does (F5). Open loop: a slow server does not
slow the attacker. Prints one JSON line starting with "flood:". Bounded: at most
--duration (≤ 5m) plus --timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := net.SplitHostPort(cfg.Target); err != nil {
				return usageErr("--target must be ip:port: %v", err)
			}
			if cfg.Rate < 1 || cfg.Rate > 100000 || cfg.Duration <= 0 || cfg.Duration > 5*time.Minute {
				return usageErr("--rate must be 1..100000 and --duration within (0, 5m]")
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			r := load.Flood(ctx, cfg)
			b, _ := json.Marshal(r)
			fmt.Fprintf(cmd.OutOrStdout(), "flood: %s\n", b)
			return nil
		},
	}
	cmd.Flags().StringVar(&cfg.Target, "target", "", "server client address ip:port (required)")
	cmd.Flags().IntVar(&cfg.Rate, "rate", 8000, "connection attempts per second")
	cmd.Flags().DurationVar(&cfg.Duration, "duration", 5*time.Second, "how long to flood")
	cmd.Flags().DurationVar(&cfg.Timeout, "timeout", 5*time.Second, "per attempt (connect + handshake)")
	cmd.Flags().BoolVar(&cfg.CloseSession, "close-session", true, "send closeSession before closing")
	_ = cmd.MarkFlagRequired("target")
	return cmd
}

func reuseCmd() *cobra.Command {
	var cfg load.ReuseConfig
	cmd := &cobra.Command{
		Use:   "reuse",
		Short: "The same request rate over a pool of long-lived sessions (the client-side fix)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := net.SplitHostPort(cfg.Target); err != nil {
				return usageErr("--target must be ip:port: %v", err)
			}
			if cfg.Rate < 1 || cfg.Rate > 100000 || cfg.Duration <= 0 || cfg.Duration > 5*time.Minute || cfg.Sessions < 1 || cfg.Sessions > 1000 {
				return usageErr("--rate 1..100000, --duration (0, 5m], --sessions 1..1000")
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			r := load.Reuse(ctx, cfg)
			b, _ := json.Marshal(r)
			fmt.Fprintf(cmd.OutOrStdout(), "reuse: %s\n", b)
			return nil
		},
	}
	cmd.Flags().StringVar(&cfg.Target, "target", "", "server client address ip:port (required)")
	cmd.Flags().IntVar(&cfg.Rate, "rate", 8000, "requests per second")
	cmd.Flags().DurationVar(&cfg.Duration, "duration", 5*time.Second, "how long")
	cmd.Flags().IntVar(&cfg.Sessions, "sessions", 32, "long-lived sessions in the pool")
	_ = cmd.MarkFlagRequired("target")
	return cmd
}
