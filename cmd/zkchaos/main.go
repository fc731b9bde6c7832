// Command zkchaos reproduces documented ZooKeeper failures on real ensembles,
// detects them in logs and live servers, and cleans up after itself.
//
// Exit codes (every subcommand): 0 ok, 1 the check failed, findings were
// reported, or a verdict differs from docs/verdicts.md, 2 usage or environment
// error, 3 a run could not finish, 130 interrupted.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Exit codes shared by every subcommand.
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
	// exitInterrupted follows the shell's 128+SIGINT.
	exitInterrupted = 130
)

// exitError carries an exit code out of a cobra RunE.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks an error as a usage or environment error (exit 2).
func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// failed marks an error as "the check failed / findings" (exit 1).
func failed(err error) error { return &exitError{code: exitFindings, err: err} }

var rootCmd = &cobra.Command{
	Use:           "zkchaos",
	Short:         "Reproduce, detect and fix documented ZooKeeper failures on real ensembles",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	// This program (not the harness library) decides for its own process:
	// testcontainers' reaper image cannot be pulled where no registry is reachable,
	// and zkchaos removes what it made itself (Terminate, clean); testcontainers'
	// own log lines would interleave with the narration.
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	tclog.SetDefault(tclog.NewNoopLogger())
	rootCmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err}
	})
	err := rootCmd.Execute()
	if err == nil {
		os.Exit(exitOK)
	}
	if errors.Is(err, context.Canceled) {
		// Ctrl-C: the command already cleaned up what it made.
		fmt.Fprintln(os.Stderr, "zkchaos: interrupted")
		os.Exit(exitInterrupted)
	}
	fmt.Fprintln(os.Stderr, "zkchaos:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	// Cobra's own errors (unknown command, bad args) are usage errors.
	os.Exit(exitUsage)
}
