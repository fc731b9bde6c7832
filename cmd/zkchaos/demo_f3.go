package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
	"github.com/zkchaos/zkchaos/reports"
	"github.com/zkchaos/zkchaos/scenarios"
)

// runF3Demo runs the F3 scenario (the same steps the Ginkgo suite asserts) and
// narrates it like the runbook page: symptom, trigger, evidence, detector, fix, verdict.
func runF3Demo(ctx context.Context, out io.Writer, version string) (err error) {
	v, err := harness.LookupVersion(version)
	if err != nil {
		return usageErr("%v", err)
	}
	n := 0
	step := func(title, format string, a ...any) {
		n++
		fmt.Fprintf(out, "\n==> %d. %s\n    %s\n", n, title, fmt.Sprintf(format, a...))
	}
	say := func(format string, a ...any) { fmt.Fprintf(out, "    "+format+"\n", a...) }

	s := scenarios.NewF3(v, io.Discard)
	fmt.Fprintf(out, "F3 on ZooKeeper %s — %s\n", v.Version, s.Record.Title)
	step("Symptom (seed F3)", "several copies of a process on one client host: some connect, others never do.")

	step("Start a 3-node ensemble", "maxClientCnxns=%d on every node (ZooKeeper's default is 60).", s.Limit)
	t0 := time.Now()
	ens, err := s.Start(ctx)
	defer func() {
		fmt.Fprintln(out, "\n==> Cleaning up: removing every container and the network")
		err = errors.Join(err, ens.Terminate(context.WithoutCancel(ctx)))
	}()
	if err != nil {
		return err
	}
	say("serving after %.1f s: %s", time.Since(t0).Seconds(), strings.Join(ens.ClientAddrs(), ", "))

	step("Trigger", "client host A (its own IP on the ensemble's network) starts %d processes, one session each, to %s.",
		s.Processes, ens.Node(1).Name)
	if err := s.MarkLog(ctx); err != nil {
		return err
	}
	before, _, err := s.Rejected(ctx)
	if err != nil {
		return err
	}
	a, err := s.OpenSessions(ctx, "host-a", s.Processes, 1)
	if err != nil {
		return err
	}
	say("host A %s: sessions %v accepted, %v refused", a.Host, a.Accepted, a.Refused)
	b, err := s.OpenSessions(ctx, "host-b", 1, 1)
	if err != nil {
		return err
	}
	say("host B %s: %d of 1 accepted — the limit is per client IP", b.Host, len(b.Accepted))

	step("Evidence that the fault happened", "what the server wrote and counted (%s's log, mntr).", ens.Node(1).Name)
	lines, ips, _, err := s.Refusals(ctx)
	if err != nil {
		return err
	}
	for _, l := range lines {
		say("log: %s", l)
	}
	if after, ok, err := s.Rejected(ctx); err == nil && ok {
		say("mntr zk_connection_rejected: %d → %d", before, after)
	}
	reproduced := len(a.Refused) == s.Processes-s.Limit && len(lines) > 0 && len(ips) == 1 && ips[0] == a.Host

	step("Detector", "zkchaos diagnose's F3 detector on that log.")
	findings, err := s.Detect(ctx)
	if err != nil {
		return err
	}
	detected := false
	for _, f := range findings {
		if f.Failure == detect.F3 {
			detected = true
			say("finding: %s on %s", f.Failure, f.Node)
			say("why:     %s", f.Explanation)
			say("remedy:  %s", f.Remedy)
		}
	}

	step("Fix (seed)", "raise maxClientCnxns to %d with a rolling restart, one node at a time.", 2*s.Processes)
	if err := s.Release(ctx, a); err != nil {
		return err
	}
	if err := s.RaiseLimit(ctx, 2*s.Processes); err != nil {
		return err
	}
	if err := s.MarkLog(ctx); err != nil {
		return err
	}
	again, err := s.OpenSessions(ctx, "host-a-after-fix", s.Processes, 1)
	if err != nil {
		return err
	}
	after, err := s.Detect(ctx)
	if err != nil {
		return err
	}
	fixed := len(again.Accepted) == s.Processes && len(after) == 0
	say("host A again: %d of %d accepted; findings now: %d", len(again.Accepted), s.Processes, len(after))

	s.Record.Verdict.Reproduced, s.Record.Verdict.Detected, s.Record.Verdict.Fixed = reproduced, detected, fixed
	path, werr := s.Record.WriteJSON(reports.Dir("."))
	step("Verdict", "reproduced: %v   detected: %v   fixed: %v", reproduced, detected, fixed)
	if werr == nil {
		say("run record (timeline, evidence): %s", path)
	} else {
		fmt.Fprintf(os.Stderr, "zkchaos: run record: %v\n", werr)
	}
	if !reproduced || !detected || !fixed {
		return failed(fmt.Errorf("F3 on %s: reproduced %v, detected %v, fixed %v", v.Version, reproduced, detected, fixed))
	}
	return nil
}
