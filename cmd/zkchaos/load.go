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
	loadCmd.AddCommand(sessions)
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
