// Package history records what clients did to a ZooKeeper ensemble — every
// operation with its call and return time on one clock — and checks the history
// for linearizability with porcupine, modelling exactly what ZooKeeper promises:
// writes (create, conditional set) are linearizable; a read is linearizable only
// after sync(path); a plain read is only sequentially consistent (a follower may
// answer from behind the leader), so it is not checked unless asked.
//
// Jepsen's words: Run is the generator and client, Check the checker.
package history

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// Kind is what a client asked for.
type Kind string

const (
	// Create creates the znode with a value (its version is then 0).
	Create Kind = "create"
	// Set is setData conditional on the expected version: compare-and-set.
	Set Kind = "set"
	// Get is a plain getData, answered by whichever server the session is on.
	Get Kind = "get"
	// SyncGet is sync(path) followed by getData on the same session.
	SyncGet Kind = "sync-get"
)

// Write reports whether the operation changes state when it succeeds.
func (k Kind) Write() bool { return k == Create || k == Set }

func (k Kind) valid() bool { return k == Create || k == Set || k == Get || k == SyncGet }

// Class is the outcome of an operation as the client saw it.
type Class string

const (
	OK         Class = "ok"
	BadVersion Class = "bad-version" // ZBADVERSION: the set's expected version did not match
	NodeExists Class = "node-exists" // ZNODEEXISTS: create of an existing znode
	NoNode     Class = "no-node"     // ZNONODE: set or read of an absent znode
	// Unknown is a timeout, connection loss, session expiry or close: for a write
	// the server may or may not have applied it; a read gave no answer.
	Unknown Class = "unknown"
)

func (c Class) valid() bool {
	return c == OK || c == BadVersion || c == NodeExists || c == NoNode || c == Unknown
}

// Input is what the client sent: the value to write and, for Set, the expected
// version.
type Input struct {
	Value   string `json:"value,omitempty"`
	Version int32  `json:"version,omitempty"`
}

// Output is what the client got back. Value and Version are those read (Get,
// SyncGet) or the znode's new version (Set; 0 for Create). Err is the client
// error's text when Class is not OK.
type Output struct {
	Class   Class  `json:"class"`
	Value   string `json:"value,omitempty"`
	Version int32  `json:"version,omitempty"`
	Err     string `json:"err,omitempty"`
}

// Op is one client operation. Call and Return are offsets from History.Start on
// one monotonic clock. An Unknown write keeps the time the client gave up as its
// Return; Check treats it as never returning.
type Op struct {
	ClientID int           `json:"client"`
	Session  int64         `json:"session,omitempty"`
	Kind     Kind          `json:"kind"`
	Path     string        `json:"path"`
	Input    Input         `json:"input"`
	Output   Output        `json:"output"`
	Call     time.Duration `json:"call"`
	Return   time.Duration `json:"return"`
}

// History is every operation of a workload, in the order they returned.
type History struct {
	Start time.Time `json:"start"`
	Ops   []Op      `json:"ops"`
}

// WriteJSON writes the history as JSON, one operation per line.
func (h History) WriteJSON(w io.Writer) error {
	start, err := json.Marshal(h.Start)
	if err != nil {
		return err
	}
	b := fmt.Appendf(nil, "{\"start\": %s, \"ops\": [", start)
	for i, op := range h.Ops {
		line, err := json.Marshal(op)
		if err != nil {
			return err
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(b, "\n "...), line...)
	}
	b = append(b, "\n]}\n"...)
	_, err = w.Write(b)
	return err
}

// ReadJSON reads a history written by WriteJSON.
func ReadJSON(r io.Reader) (History, error) {
	var h History
	if err := json.NewDecoder(r).Decode(&h); err != nil {
		return History{}, fmt.Errorf("history: read: %w", err)
	}
	return h, nil
}

// Save writes the history to a JSON file.
func (h History) Save(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("history: save: %w", err)
	}
	if err := h.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("history: save %s: %w", path, err)
	}
	return f.Close()
}

// Load reads a history saved by Save.
func Load(path string) (History, error) {
	f, err := os.Open(path)
	if err != nil {
		return History{}, fmt.Errorf("history: load: %w", err)
	}
	defer f.Close()
	h, err := ReadJSON(f)
	if err != nil {
		return History{}, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// Stats summarises a history from the clients' side.
type Stats struct {
	Ops    int
	ByKind map[Kind]int
	// ByClass counts outcomes: ok and the definite failures (bad-version,
	// node-exists, no-node) are answers from the ensemble, unknown is not.
	ByClass map[Class]int
	// Errors counts unknown outcomes by the client's error text
	// ("zk: connection closed", "zk: session has been expired by the server", …).
	Errors map[string]int
	// LongestGap is the longest time during which no client got any answer
	// (an op of class other than unknown returned), from the first call to the
	// last return: the longest unavailability window. GapFrom/GapTo bound it.
	LongestGap     time.Duration
	GapFrom, GapTo time.Duration
}

// Stats counts the history's operations by kind, outcome and client error, and
// finds its longest unavailability window.
func (h History) Stats() Stats {
	s := Stats{Ops: len(h.Ops), ByKind: map[Kind]int{}, ByClass: map[Class]int{}, Errors: map[string]int{}}
	if len(h.Ops) == 0 {
		return s
	}
	first, last := h.Ops[0].Call, h.Ops[0].Return
	for _, op := range h.Ops {
		s.ByKind[op.Kind]++
		s.ByClass[op.Output.Class]++
		if op.Output.Class == Unknown {
			s.Errors[op.Output.Err]++
		}
		first, last = min(first, op.Call), max(last, op.Return)
	}
	s.LongestGap, s.GapFrom, s.GapTo = h.Gap(first, last, Answered)
	return s
}

// Answered keeps the operations that got an answer (any outcome but Unknown).
func Answered(op Op) bool { return op.Output.Class != Unknown }

// Gap is the longest stretch of [from, to] (offsets from Start) in which no
// operation that keep accepts returned, and where that stretch began and ended.
func (h History) Gap(from, to time.Duration, keep func(Op) bool) (gap, gapFrom, gapTo time.Duration) {
	var returns []time.Duration
	for _, op := range h.Ops {
		if op.Return >= from && op.Return <= to && keep(op) {
			returns = append(returns, op.Return)
		}
	}
	slices.Sort(returns)
	prev := from
	gapFrom, gapTo = from, from
	for _, t := range append(returns, to) {
		if t-prev > gap {
			gap, gapFrom, gapTo = t-prev, prev, t
		}
		prev = t
	}
	return gap, gapFrom, gapTo
}

func (s Stats) String() string {
	return fmt.Sprintf("%d ops (create %d, set %d, sync-get %d, get %d): ok %d, bad-version %d, node-exists %d, no-node %d, unknown %d %v; longest gap without an answer %v (%v–%v)",
		s.Ops, s.ByKind[Create], s.ByKind[Set], s.ByKind[SyncGet], s.ByKind[Get],
		s.ByClass[OK], s.ByClass[BadVersion], s.ByClass[NodeExists], s.ByClass[NoNode], s.ByClass[Unknown], s.Errors,
		s.LongestGap.Round(time.Millisecond), s.GapFrom.Round(time.Millisecond), s.GapTo.Round(time.Millisecond))
}
