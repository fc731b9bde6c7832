package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/load"
	"github.com/zkchaos/zkchaos/scenarios"
)

// capture-fixtures records real server logs for the parser and detector tests, so
// that fixtures/ never holds a line a version does not write.
func init() {
	var versions []string
	var only string
	cmd := &cobra.Command{
		Use:    "capture-fixtures",
		Short:  "Record real server logs of every version into fixtures/captured/",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			vs, err := lookupVersions(versions)
			if err != nil {
				return err
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			for _, v := range vs {
				for _, c := range captureCases {
					if only != "" && c.name != only {
						continue
					}
					out := filepath.Join(captureDir, v.Version)
					fmt.Fprintf(cmd.OutOrStdout(), "capture %s %s → %s\n", v.Version, c.name, out)
					if err := captureCase(ctx, v, c, out, cmd.OutOrStdout()); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&versions, "versions", nil, "versions (default: all)")
	cmd.Flags().StringVar(&only, "case", "", "only this case (default: all)")
	cmd.Flags().StringVar(&captureDir, "dir", "fixtures/captured", "output folder")
	rootCmd.AddCommand(cmd)
}

var captureDir string

type captureCaseDef struct {
	name string
	opts []harness.Option
	run  func(ctx context.Context, ens *harness.Ensemble, log io.Writer) error
	// nodeLogs: keep every node's log as <case>-zkN.log (false: the case writes its own files).
	noLogs bool
	// own, when set, runs the case on an ensemble of its own instead of run.
	own func(ctx context.Context, v harness.Version, dir string, log io.Writer) error
}

var captureCases = []captureCaseDef{
	{
		// srvr answers of a leader, a follower and a node without quorum, for the
		// readiness probe's parser: fixtures/captured/srvr/<version>-<mode>-<node>.txt.
		name:   "srvr",
		noLogs: true,
		run: func(ctx context.Context, ens *harness.Ensemble, log io.Writer) error {
			dir := filepath.Join(captureDir, "srvr")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			write := func(n *harness.Node, mode string) error {
				out, err := n.FourLetter(ctx, "srvr")
				if err != nil {
					return err
				}
				name := fmt.Sprintf("%s-%s-%s.txt", ens.Version.Version, mode, n.Name)
				return os.WriteFile(filepath.Join(dir, name), []byte(out), 0o644)
			}
			for _, n := range ens.Nodes() {
				if err := write(n, string(n.State(ctx).Mode)); err != nil {
					return err
				}
			}
			// Two nodes stopped: the last one has no quorum and does not serve.
			if err := ens.Node(2).Stop(ctx); err != nil {
				return err
			}
			if err := ens.Node(3).Stop(ctx); err != nil {
				return err
			}
			for ens.Node(1).State(ctx).Mode != harness.ModeNotServing {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				time.Sleep(50 * time.Millisecond)
			}
			return write(ens.Node(1), "notserving")
		},
	},
	{
		// A normal life: start, writes, a session that expires, the leader killed and
		// restarted. Healthy: detectors must find nothing here.
		name: "healthy",
		run: func(ctx context.Context, ens *harness.Ensemble, log io.Writer) error {
			conn, err := ens.Connect(ctx)
			if err != nil {
				return err
			}
			for i := range 20 {
				if _, err := conn.Create(fmt.Sprintf("/capture-%02d", i), []byte("x"), 0, worldACL); err != nil {
					conn.Close()
					return err
				}
			}
			conn.Close()
			s, err := dialSession(ctx, ens.Node(1), time.Second)
			if err != nil {
				return err
			}
			_ = s.Abandon() // the server expires it after ~1 s
			leader, err := ens.Leader(ctx)
			if err != nil {
				return err
			}
			// Let the abandoned session expire (the leader logs it) before the failover.
			if err := leader.WaitLog(ctx, 0, fmt.Sprintf("Expiring session 0x%x", s.ID)); err != nil {
				return err
			}
			if err := leader.Kill(ctx); err != nil {
				return err
			}
			if err := ens.WaitServing(ctx, ens.Others(leader)...); err != nil {
				return err
			}
			if err := leader.Start(ctx); err != nil {
				return err
			}
			return ens.WaitServing(ctx)
		},
	},
	{
		// F3: one client host opens more sessions than maxClientCnxns allows.
		name: "f3-too-many-connections",
		opts: []harness.Option{harness.WithConfig("maxClientCnxns", "5")},
		run: func(ctx context.Context, ens *harness.Ensemble, log io.Writer) error {
			var open []*load.Session
			refused := 0
			for range 8 {
				dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				s, err := dialSession(dctx, ens.Node(1), 10*time.Second)
				cancel()
				switch {
				case errors.Is(err, load.ErrRefused):
					refused++
				case err != nil:
					return err
				default:
					open = append(open, s)
				}
			}
			for _, s := range open {
				_ = s.Close()
			}
			fmt.Fprintf(log, "  %d sessions opened, %d refused\n", len(open), refused)
			if refused == 0 {
				return errors.New("no connection was refused: maxClientCnxns not reached")
			}
			return nil
		},
	},
	{
		// F1's replay: fake election peers send a real server the votes quoted in
		// docs/F1.md in the 3.3 wire format (scenarios.ReplaySeed28); the server
		// stays LOOKING. Keeps its log (f1-replay-stuck-zk1.log) and the frames it
		// sent, as the peers decoded them (../fle/<version>-received.jsonl).
		name: "f1-replay-stuck",
		own: func(ctx context.Context, v harness.Version, dir string, log io.Writer) error {
			s := scenarios.NewF1(v, log)
			r, err := s.Replay(ctx, scenarios.ReplaySeed28, 15*time.Second)
			if s.Ens != nil {
				defer s.Ens.Terminate(context.WithoutCancel(ctx))
			}
			if err != nil {
				return err
			}
			if r.Decided != "" || len(r.Received) == 0 {
				return fmt.Errorf("the server decided %q after %d votes: not the stuck case", r.Decided, len(r.Received))
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, "f1-replay-stuck-zk1.log"), []byte(strings.ReplaceAll(r.Log, "\r", "")), 0o644); err != nil {
				return err
			}
			fdir := filepath.Join(captureDir, "fle")
			if err := os.MkdirAll(fdir, 0o755); err != nil {
				return err
			}
			var b strings.Builder
			for _, e := range r.Events {
				if e.Kind == "received" {
					js, _ := json.Marshal(e)
					b.Write(js)
					b.WriteByte('\n')
				}
			}
			return os.WriteFile(filepath.Join(fdir, v.Version+"-received.jsonl"), []byte(b.String()), 0o644)
		},
	},
}

func captureCase(ctx context.Context, v harness.Version, c captureCaseDef, dir string, log io.Writer) (err error) {
	if c.own != nil {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		return c.own(cctx, v, dir, log)
	}
	ens, err := harness.Run(ctx, append([]harness.Option{harness.WithVersion(v.Version)}, c.opts...)...)
	defer func() { err = errors.Join(err, ens.Terminate(ctx)) }()
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := c.run(cctx, ens, log); err != nil {
		return fmt.Errorf("%s %s: %w", v.Version, c.name, err)
	}
	if c.noLogs {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, n := range ens.Nodes() {
		logs, err := n.Logs(ctx)
		if err != nil {
			return err
		}
		// Container IPs and ensemble ids differ per run; the lines are kept verbatim.
		name := filepath.Join(dir, fmt.Sprintf("%s-%s.log", c.name, n.Name))
		if err := os.WriteFile(name, []byte(strings.ReplaceAll(logs, "\r", "")), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// dialSession opens a raw session to n through its ensemble's reach.
func dialSession(ctx context.Context, n *harness.Node, timeout time.Duration) (*load.Session, error) {
	c, err := n.Dial(ctx, harness.ClientPort)
	if err != nil {
		if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
			// Accepted and closed before connect() returned: a refusal at maxClientCnxns.
			return nil, fmt.Errorf("%w: %w", load.ErrRefused, err)
		}
		return nil, err
	}
	return load.Open(ctx, c, timeout)
}
