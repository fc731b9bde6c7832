package history

import (
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/anishathalye/porcupine"
)

// State is one znode as a versioned register: ZooKeeper's data version starts at
// 0 on create and grows by one on every successful setData. The workload never
// deletes, so a version identifies a value.
type State struct {
	Exists  bool
	Value   string
	Version int32
}

func (s State) String() string {
	if !s.Exists {
		return "absent"
	}
	return fmt.Sprintf("%q v=%d", s.Value, s.Version)
}

// call is porcupine's input: the operation without its outcome.
type call struct {
	Kind  Kind
	Path  string
	Input Input
}

// step is ZooKeeper's sequential specification of one znode: whether an operation
// with this outcome can happen in state s, and the state after it.
//
// A write of Unknown outcome is always accepted: applied if its precondition
// holds, a no-op otherwise. Check gives it an infinite return time, so the
// checker may also linearize it after every other operation, where it changes
// nothing anyone saw — the write that never happened. Together that is "it
// happened or it did not", without a nondeterministic model.
func step(s State, c call, out Output) (bool, State) {
	switch c.Kind {
	case Create:
		switch out.Class {
		case OK:
			return !s.Exists && out.Version == 0, State{Exists: true, Value: c.Input.Value}
		case NodeExists:
			return s.Exists, s
		case Unknown:
			if !s.Exists {
				return true, State{Exists: true, Value: c.Input.Value}
			}
			return true, s
		}
	case Set:
		matches := s.Exists && s.Version == c.Input.Version
		switch out.Class {
		case OK:
			return matches && out.Version == c.Input.Version+1, State{Exists: true, Value: c.Input.Value, Version: c.Input.Version + 1}
		case BadVersion:
			return s.Exists && !matches, s
		case NoNode:
			return !s.Exists, s
		case Unknown:
			if matches {
				return true, State{Exists: true, Value: c.Input.Value, Version: c.Input.Version + 1}
			}
			return true, s
		}
	case Get, SyncGet:
		switch out.Class {
		case OK:
			return s.Exists && s.Value == out.Value && s.Version == out.Version, s
		case NoNode:
			return !s.Exists, s
		}
	}
	// Outcomes ZooKeeper cannot give for this operation (create → no-node: the
	// parent always exists; any bad-version but set's) and unanswered reads,
	// which Check drops before they get here.
	return false, s
}

// exec is the reference implementation: the outcome a single correct server
// gives. Tests build histories with it.
func exec(s State, c call) (Output, State) {
	switch c.Kind {
	case Create:
		if s.Exists {
			return Output{Class: NodeExists}, s
		}
		return Output{Class: OK}, State{Exists: true, Value: c.Input.Value}
	case Set:
		switch {
		case !s.Exists:
			return Output{Class: NoNode}, s
		case s.Version != c.Input.Version:
			return Output{Class: BadVersion}, s
		}
		n := State{Exists: true, Value: c.Input.Value, Version: s.Version + 1}
		return Output{Class: OK, Version: n.Version}, n
	default:
		if !s.Exists {
			return Output{Class: NoNode}, s
		}
		return Output{Class: OK, Value: s.Value, Version: s.Version}, s
	}
}

// model is the porcupine model: one versioned register per path, partitioned by
// path (a history is linearizable iff every znode's sub-history is — a
// linearizability property, locality), in sorted path order.
func model() porcupine.Model {
	return porcupine.Model{
		Partition: partitionByPath,
		Init:      func() any { return State{} },
		Step: func(state, input, output any) (bool, any) {
			return step(state.(State), input.(call), output.(Output))
		},
		Equal: func(a, b any) bool { return a.(State) == b.(State) },
		Hash: func(state any) uint64 {
			s := state.(State)
			if !s.Exists {
				return 0
			}
			h := fnv.New64a()
			_, _ = h.Write([]byte(s.Value))
			return h.Sum64() ^ uint64(s.Version+1)<<40
		},
		DescribeOperation: func(input, output any) string { return describe(input.(call), output.(Output)) },
		DescribeState:     func(state any) string { return state.(State).String() },
		DescribeOperationMetadata: func(m any) string {
			if m == nil {
				return ""
			}
			return m.(string)
		},
	}
}

func partitionByPath(ops []porcupine.Operation) [][]porcupine.Operation {
	byPath := map[string][]porcupine.Operation{}
	for _, op := range ops {
		p := op.Input.(call).Path
		byPath[p] = append(byPath[p], op)
	}
	paths := sortedKeys(byPath)
	out := make([][]porcupine.Operation, len(paths))
	for i, p := range paths {
		out[i] = byPath[p]
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// describe renders an operation for the visualization:
// `set /zkchaos-h/k1 "v3" if v=2 → ok v=3`.
func describe(c call, out Output) string {
	var s string
	switch c.Kind {
	case Create:
		s = fmt.Sprintf("create %s %q", c.Path, c.Input.Value)
	case Set:
		s = fmt.Sprintf("set %s %q if v=%d", c.Path, c.Input.Value, c.Input.Version)
	case Get:
		s = "get " + c.Path
	case SyncGet:
		s = "sync+get " + c.Path
	default:
		s = fmt.Sprintf("%s %s", c.Kind, c.Path)
	}
	switch {
	case out.Class == OK && (c.Kind == Get || c.Kind == SyncGet):
		return fmt.Sprintf("%s → %q v=%d", s, out.Value, out.Version)
	case out.Class == OK:
		return fmt.Sprintf("%s → ok v=%d", s, out.Version)
	case out.Class == Unknown && out.Err != "":
		return fmt.Sprintf("%s → unknown (%s)", s, out.Err)
	}
	return fmt.Sprintf("%s → %s", s, out.Class)
}
