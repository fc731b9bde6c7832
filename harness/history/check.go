package history

import (
	"fmt"
	"math"
	"time"

	"github.com/anishathalye/porcupine"
)

// Options tune Check.
type Options struct {
	// Timeout bounds porcupine's search (linearizability checking is NP-hard);
	// when it runs out the result is porcupine.Unknown. 0 means no limit.
	Timeout time.Duration
	// CheckPlainReadsAsLinearizable checks plain Gets as if ZooKeeper promised
	// them linearizable. It does not: a follower answers reads from its own,
	// possibly lagging, state ("ZooKeeper … Sequential Consistency", the
	// Programmer's Guide's Consistency Guarantees), so a stale plain read is
	// legal. Only for showing that the checker catches stale follower reads.
	CheckPlainReadsAsLinearizable bool

	keepResolved bool // check resolved writes as unknown too (the fuzz test's reference)
}

// Result is the checker's verdict on a history.
type Result struct {
	// Outcome is porcupine's: Ok, Illegal, or Unknown (the search timed out).
	Outcome      porcupine.CheckResult
	Linearizable bool // Outcome == Ok
	Ops          int  // operations in the history
	Checked      int  // operations given to porcupine
	// PlainReadsSkipped counts plain Gets left out (only sequentially consistent).
	PlainReadsSkipped int
	// Unknown counts writes of unknown outcome, checked as "maybe applied".
	Unknown int
	// Resolved counts writes of unknown outcome whose precondition an
	// acknowledged write consumed (the same expected version, or a create): the
	// workload never deletes, so only one write can move a znode from version v,
	// and only one create can make it; these cannot have applied, and are
	// checked as not applied (left out: in the model they are no-ops).
	Resolved int
	// FailedReads counts reads without an answer, left out: they observed nothing.
	FailedReads int
	// IllegalPaths names the znodes whose sub-history is not linearizable.
	IllegalPaths []string
	Duration     time.Duration

	model porcupine.Model
	info  porcupine.LinearizationInfo
}

func (r Result) String() string {
	s := fmt.Sprintf("%s: %d of %d ops checked (%d unknown-outcome writes, %d more resolved as not applied; %d plain reads and %d failed reads not checked) in %v",
		r.Outcome, r.Checked, r.Ops, r.Unknown, r.Resolved, r.PlainReadsSkipped, r.FailedReads, r.Duration.Round(time.Microsecond))
	if len(r.IllegalPaths) > 0 {
		s += fmt.Sprintf("; not linearizable: %v", r.IllegalPaths)
	}
	return s
}

// Check checks the history for linearizability against ZooKeeper's model (see
// step): creates, conditional sets and sync+gets, each znode separately. Plain
// Gets are left out unless opt.CheckPlainReadsAsLinearizable; reads without an
// answer are left out; writes of unknown outcome never return (porcupine's way
// of saying "may have taken effect at any time after the call, or never"),
// except those whose precondition an acknowledged write consumed (Resolved):
// they cannot have applied. The error is for a malformed history.
func Check(h History, opt Options) (Result, error) {
	r := Result{Ops: len(h.Ops), model: model()}
	ops := make([]porcupine.Operation, 0, len(h.Ops))
	type precondition struct {
		path    string
		create  bool
		version int32
	}
	pre := func(op Op) precondition {
		if op.Kind == Create {
			return precondition{path: op.Path, create: true}
		}
		return precondition{path: op.Path, version: op.Input.Version}
	}
	consumed := map[precondition]bool{}
	for i, op := range h.Ops {
		if err := validate(op); err != nil {
			return r, fmt.Errorf("history: op %d: %w", i, err)
		}
		if op.Kind.Write() && op.Output.Class == OK {
			consumed[pre(op)] = true
		}
	}
	for _, op := range h.Ops {
		ret := int64(op.Return)
		switch {
		case !op.Kind.Write() && op.Output.Class == Unknown:
			r.FailedReads++
			continue
		case op.Kind == Get && !opt.CheckPlainReadsAsLinearizable:
			r.PlainReadsSkipped++
			continue
		case op.Output.Class == Unknown && consumed[pre(op)] && !opt.keepResolved:
			r.Resolved++
			continue
		case op.Output.Class == Unknown:
			r.Unknown++
			ret = math.MaxInt64
		}
		ops = append(ops, porcupine.Operation{
			ClientId: op.ClientID,
			Input:    call{Kind: op.Kind, Path: op.Path, Input: op.Input},
			Call:     int64(op.Call),
			Output:   op.Output,
			Return:   ret,
			Metadata: fmt.Sprintf("client %d, session 0x%x", op.ClientID, op.Session),
		})
	}
	r.Checked = len(ops)
	t0 := time.Now()
	r.Outcome, r.info = porcupine.CheckOperationsVerbose(r.model, ops, opt.Timeout)
	r.Duration = time.Since(t0)
	r.Linearizable = r.Outcome == porcupine.Ok
	if r.Outcome == porcupine.Illegal {
		r.IllegalPaths = illegalPaths(ops, r.info)
	}
	return r, nil
}

func validate(op Op) error {
	switch {
	case !op.Kind.valid():
		return fmt.Errorf("unknown kind %q", op.Kind)
	case !op.Output.Class.valid():
		return fmt.Errorf("unknown outcome %q", op.Output.Class)
	case op.Path == "":
		return fmt.Errorf("%s without a path", op.Kind)
	case op.Call < 0 || op.Return < op.Call:
		return fmt.Errorf("%s %s: returns at %v before its call at %v", op.Kind, op.Path, op.Return, op.Call)
	case op.ClientID < 0:
		return fmt.Errorf("%s %s: negative client id %d", op.Kind, op.Path, op.ClientID)
	}
	return nil
}

// illegalPaths lists the partitions (znodes, in partitionByPath's order) whose
// longest linearizable prefix does not cover every operation.
func illegalPaths(ops []porcupine.Operation, info porcupine.LinearizationInfo) []string {
	parts := partitionByPath(ops)
	partials := info.PartialLinearizations()
	var out []string
	for i, part := range parts {
		longest := 0
		if i < len(partials) {
			for _, p := range partials[i] {
				longest = max(longest, len(p))
			}
		}
		if longest < len(part) {
			out = append(out, part[0].Input.(call).Path)
		}
	}
	return out
}

// WriteVisualization writes porcupine's HTML view of the checked history: one
// lane per client, per znode, with the longest linearization found and the
// register's state after each step.
func (r Result) WriteVisualization(path string) error {
	if err := porcupine.VisualizePath(r.model, r.info, path); err != nil {
		return fmt.Errorf("history: visualization %s: %w", path, err)
	}
	return nil
}
