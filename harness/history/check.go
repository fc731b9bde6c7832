package history

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
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
	// WritesOnly checks the writes alone (creates and conditional sets, with
	// the outcomes they observed) and leaves sync+reads out too: what ZooKeeper
	// promises under every fault. A sync+read is answered by the server's leader
	// without a quorum round, so a deposed leader that does not yet know it
	// answers it from its stale state (ZOOKEEPER-1675, "Make sync a quorum
	// operation", open; docs/explore.md shows one).
	WritesOnly bool

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
	// SyncReadsSkipped counts sync+reads left out (WritesOnly).
	SyncReadsSkipped int
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
	if r.SyncReadsSkipped > 0 {
		s += fmt.Sprintf(" (writes only: %d sync+reads not checked)", r.SyncReadsSkipped)
	}
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
		case op.Kind == Get && (!opt.CheckPlainReadsAsLinearizable || opt.WritesOnly):
			r.PlainReadsSkipped++
			continue
		case op.Kind == SyncGet && opt.WritesOnly:
			r.SyncReadsSkipped++
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

// StaleRead is a read that answered an older version of its znode than a write
// acknowledged before the read was called: a violation a reader can point at.
type StaleRead struct {
	Read Op
	// Write is the acknowledged write whose version the read missed.
	Write Op
}

func (s StaleRead) String() string {
	return fmt.Sprintf("client %d (session 0x%x) %s %s at %.3f–%.3f s answered version %d (%q); client %d's %s had made version %d, acknowledged at %.3f s",
		s.Read.ClientID, s.Read.Session, s.Read.Kind, s.Read.Path, s.Read.Call.Seconds(), s.Read.Return.Seconds(), s.Read.Output.Version, s.Read.Output.Value,
		s.Write.ClientID, s.Write.Kind, s.Write.Output.Version, s.Write.Return.Seconds())
}

// StaleReads finds the answered reads of the given kind that missed a write
// acknowledged before they were called (versions only grow: the workload never
// deletes), in the order they were called.
func (h History) StaleReads(kind Kind) []StaleRead {
	// Per path, the acknowledged writes in return order (h.Ops is), and for each
	// prefix the index of its highest version.
	type acked struct {
		writes []Op
		newest []int
	}
	byPath := map[string]*acked{}
	for _, op := range h.Ops {
		if !op.Kind.Write() || op.Output.Class != OK {
			continue
		}
		a := byPath[op.Path]
		if a == nil {
			a = &acked{}
			byPath[op.Path] = a
		}
		best := len(a.writes)
		if best > 0 && a.writes[a.newest[best-1]].Output.Version >= op.Output.Version {
			best = a.newest[best-1]
		}
		a.writes, a.newest = append(a.writes, op), append(a.newest, best)
	}
	var out []StaleRead
	for _, op := range h.Ops {
		a := byPath[op.Path]
		if op.Kind != kind || op.Output.Class != OK || a == nil {
			continue
		}
		before := sort.Search(len(a.writes), func(i int) bool { return a.writes[i].Return >= op.Call })
		if before == 0 {
			continue
		}
		if w := a.writes[a.newest[before-1]]; w.Output.Version > op.Output.Version {
			out = append(out, StaleRead{Read: op, Write: w})
		}
	}
	slices.SortFunc(out, func(a, b StaleRead) int { return cmp.Compare(a.Read.Call, b.Read.Call) })
	return out
}
