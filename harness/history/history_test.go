package history

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

const k1 = Root + "/k1"

// ms builds an op on k1 from call to ret milliseconds.
func ms(client int, kind Kind, in Input, out Output, call, ret int) Op {
	return Op{ClientID: client, Kind: kind, Path: k1, Input: in, Output: out,
		Call: time.Duration(call) * time.Millisecond, Return: time.Duration(ret) * time.Millisecond}
}

func ok(v string, version int32) Output { return Output{Class: OK, Value: v, Version: version} }

func check(t *testing.T, h History, opt Options) Result {
	t.Helper()
	r, err := Check(h, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	return r
}

// keepVisualization writes the porcupine view to testdata/out when
// ZKCHAOS_HISTORY_VIZ is set, to look at a test's history by eye.
func keepVisualization(t *testing.T, r Result) {
	if os.Getenv("ZKCHAOS_HISTORY_VIZ") == "" {
		return
	}
	dir := filepath.Join("testdata", "out")
	_ = os.MkdirAll(dir, 0o755)
	if err := r.WriteVisualization(filepath.Join(dir, t.Name()+".html")); err != nil {
		t.Fatal(err)
	}
}

// (a)
func TestSequentialHistoryIsLinearizable(t *testing.T) {
	h := History{Ops: []Op{
		ms(0, SyncGet, Input{}, Output{Class: NoNode}, 0, 1),
		ms(0, Create, Input{Value: "a"}, ok("", 0), 2, 3),
		ms(1, Create, Input{Value: "x"}, Output{Class: NodeExists}, 4, 5),
		ms(1, Set, Input{Value: "b", Version: 0}, ok("", 1), 6, 7),
		ms(0, Set, Input{Value: "c", Version: 0}, Output{Class: BadVersion}, 8, 9),
		ms(0, SyncGet, Input{}, ok("b", 1), 10, 11),
		ms(1, Get, Input{}, ok("b", 1), 12, 13),
		{ClientID: 1, Kind: Set, Path: Root + "/k2", Input: Input{Value: "z"}, Output: Output{Class: NoNode}, Call: 14, Return: 15},
	}}
	for _, plain := range []bool{false, true} {
		r := check(t, h, Options{CheckPlainReadsAsLinearizable: plain})
		if !r.Linearizable || r.Outcome != porcupine.Ok {
			t.Fatalf("plain=%v: %s", plain, r)
		}
		skipped := 1
		if plain {
			skipped = 0
		}
		if r.Ops != 8 || r.Checked != 8-skipped || r.PlainReadsSkipped != skipped {
			t.Errorf("plain=%v: counts %+v", plain, r)
		}
	}
}

// (b) The checker can fail: a sync+get called after a set returned sees the
// value the set overwrote.
func TestStaleSyncGetIsIllegal(t *testing.T) {
	h := History{Ops: []Op{
		ms(0, Create, Input{Value: "a"}, ok("", 0), 0, 10),
		ms(0, Set, Input{Value: "b", Version: 0}, ok("", 1), 20, 30),
		ms(1, SyncGet, Input{}, ok("a", 0), 40, 50),
	}}
	r := check(t, h, Options{})
	keepVisualization(t, r)
	if r.Linearizable || r.Outcome != porcupine.Illegal {
		t.Fatalf("stale sync+get accepted: %s", r)
	}
	if !reflect.DeepEqual(r.IllegalPaths, []string{k1}) {
		t.Errorf("illegal paths %v", r.IllegalPaths)
	}
	// The same read, concurrent with the set, may see either value.
	h.Ops[2].Call = 25 * time.Millisecond
	if r := check(t, h, Options{}); !r.Linearizable {
		t.Fatalf("concurrent read rejected: %s", r)
	}
}

// (c) A stale plain read (a lagging follower) is legal in ZooKeeper; checked as
// if linearizable it is caught.
func TestStalePlainGet(t *testing.T) {
	h := History{Ops: []Op{
		ms(0, Create, Input{Value: "a"}, ok("", 0), 0, 10),
		ms(0, Set, Input{Value: "b", Version: 0}, ok("", 1), 20, 30),
		ms(1, Get, Input{}, ok("a", 0), 40, 50),
	}}
	r := check(t, h, Options{})
	if !r.Linearizable || r.PlainReadsSkipped != 1 || r.Checked != 2 {
		t.Fatalf("default: %s", r)
	}
	r = check(t, h, Options{CheckPlainReadsAsLinearizable: true})
	if r.Outcome != porcupine.Illegal || r.PlainReadsSkipped != 0 || r.Checked != 3 {
		t.Fatalf("plain reads as linearizable: %s", r)
	}
}

// (d) A write whose outcome the client never learnt may or may not have happened.
func TestUnknownWrite(t *testing.T) {
	lost := Output{Class: Unknown, Err: "zk: connection closed"}
	base := []Op{
		ms(0, Create, Input{Value: "a"}, ok("", 0), 0, 10),
		ms(0, Set, Input{Value: "b", Version: 0}, lost, 20, 30),
	}
	for _, tc := range []struct {
		name  string
		reads []Op
		want  porcupine.CheckResult
	}{
		{"seen", []Op{ms(1, SyncGet, Input{}, ok("b", 1), 40, 50)}, porcupine.Ok},
		{"not seen", []Op{ms(1, SyncGet, Input{}, ok("a", 0), 40, 50)}, porcupine.Ok},
		// Applied long after the client gave up: still legal.
		{"seen late", []Op{ms(1, SyncGet, Input{}, ok("a", 0), 40, 50), ms(1, SyncGet, Input{}, ok("b", 1), 60, 70)}, porcupine.Ok},
		// Once seen it cannot be unseen.
		{"seen then not", []Op{ms(1, SyncGet, Input{}, ok("b", 1), 40, 50), ms(1, SyncGet, Input{}, ok("a", 0), 60, 70)}, porcupine.Illegal},
		// It cannot take effect before it was called.
		{"seen before the call", []Op{ms(1, SyncGet, Input{}, ok("b", 1), 12, 18)}, porcupine.Illegal},
		// A CAS on the same version acknowledged means it never happened
		// (resolved: only one write can move version 0 to 1)...
		{"overtaken", []Op{ms(1, Set, Input{Value: "c", Version: 0}, ok("", 1), 40, 50), ms(1, SyncGet, Input{}, ok("c", 1), 60, 70)}, porcupine.Ok},
		// ... so seeing its value is a violation, resolved or not.
		{"overtaken but seen", []Op{ms(1, Set, Input{Value: "c", Version: 0}, ok("", 1), 40, 50), ms(1, SyncGet, Input{}, ok("b", 1), 60, 70)}, porcupine.Illegal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := History{Ops: append(append([]Op{}, base...), tc.reads...)}
			r := check(t, h, Options{})
			resolved := strings.HasPrefix(tc.name, "overtaken")
			if r.Outcome != tc.want || r.Unknown+r.Resolved != 1 || (r.Resolved == 1) != resolved {
				t.Fatalf("got %s, want %s with 1 unknown write (resolved: %v)", r, tc.want, resolved)
			}
		})
	}
}

// A read without an answer observed nothing and is left out.
func TestFailedReadIsDropped(t *testing.T) {
	h := History{Ops: []Op{
		ms(0, Create, Input{Value: "a"}, ok("", 0), 0, 10),
		ms(1, SyncGet, Input{}, Output{Class: Unknown, Err: "zk: session has been expired by the server"}, 20, 30),
	}}
	r := check(t, h, Options{})
	if !r.Linearizable || r.FailedReads != 1 || r.Checked != 1 {
		t.Fatalf("%s", r)
	}
}

// (e) Two concurrent compare-and-sets on the same version cannot both win.
func TestConcurrentCASBothOKIsIllegal(t *testing.T) {
	h := History{Ops: []Op{
		ms(0, Create, Input{Value: "a"}, ok("", 0), 0, 10),
		ms(0, Set, Input{Value: "x", Version: 0}, ok("", 1), 20, 40),
		ms(1, Set, Input{Value: "y", Version: 0}, ok("", 1), 25, 45),
	}}
	r := check(t, h, Options{})
	keepVisualization(t, r)
	if r.Outcome != porcupine.Illegal {
		t.Fatalf("both CAS won: %s", r)
	}
	// One wins, the other gets bad-version: fine.
	h.Ops[2].Output = Output{Class: BadVersion}
	if r := check(t, h, Options{}); !r.Linearizable {
		t.Fatalf("%s", r)
	}
}

func TestMalformedHistory(t *testing.T) {
	for _, op := range []Op{
		{Kind: "delete", Path: k1, Output: Output{Class: OK}},
		{Kind: Get, Path: k1, Output: Output{Class: "maybe"}},
		{Kind: Get, Output: Output{Class: OK}},
		{Kind: Get, Path: k1, Output: Output{Class: OK}, Call: 10, Return: 5},
	} {
		if _, err := Check(History{Ops: []Op{op}}, Options{}); err == nil {
			t.Errorf("%+v accepted", op)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	h := generate(rand.New(rand.NewPCG(1, 2)), genConfig{ops: 200, clients: 4, keys: 3, unknown: 10, staleVersion: 20})
	h.Start = time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	path := filepath.Join(t.TempDir(), "h.json")
	if err := h.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Start.Equal(h.Start) || !reflect.DeepEqual(got.Ops, h.Ops) {
		t.Fatal("history changed through JSON")
	}
	if _, err := ReadJSON(strings.NewReader("{")); err == nil {
		t.Fatal("truncated JSON accepted")
	}
}

// A history captured from a real 3.9.3 ensemble (testdata/README.md): legal as
// ZooKeeper promises, and caught serving a stale plain read from a follower when
// plain reads are checked as if linearizable.
func TestCapturedStaleFollowerRead(t *testing.T) {
	h, err := Load(filepath.Join("testdata", "zk-3.9.3-stale-follower-read.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(h.Stats())
	r := check(t, h, Options{Timeout: time.Minute})
	if !r.Linearizable || r.Checked == 0 || r.PlainReadsSkipped == 0 {
		t.Fatalf("as ZooKeeper promises: %s", r)
	}
	r = check(t, h, Options{Timeout: time.Minute, CheckPlainReadsAsLinearizable: true})
	if r.Outcome != porcupine.Illegal || !reflect.DeepEqual(r.IllegalPaths, []string{Key(3)}) {
		t.Fatalf("plain reads as linearizable: %s", r)
	}
}

func TestGeneratedHistoriesAreLinearizable(t *testing.T) {
	for seed := range uint64(20) {
		h := generate(rand.New(rand.NewPCG(seed, 7)), genConfig{ops: 300, clients: 5, keys: 3, unknown: 5, staleVersion: 20})
		for _, plain := range []bool{false, true} {
			r, err := Check(h, Options{Timeout: 10 * time.Second, CheckPlainReadsAsLinearizable: plain})
			if err != nil || !r.Linearizable {
				t.Fatalf("seed %d plain=%v: %s %v", seed, plain, r, err)
			}
		}
	}
}

func TestStats(t *testing.T) {
	lost := Output{Class: Unknown, Err: "zk: connection closed"}
	h := History{Ops: []Op{
		ms(0, Create, Input{Value: "a"}, ok("", 0), 0, 10),
		ms(1, Set, Input{Value: "b"}, lost, 5, 900),
		ms(0, SyncGet, Input{}, lost, 11, 800),
		ms(0, SyncGet, Input{}, ok("a", 0), 801, 1000),
		ms(0, Get, Input{}, ok("a", 0), 1001, 1002),
	}}
	s := h.Stats()
	if s.Ops != 5 || s.ByClass[Unknown] != 2 || s.Errors["zk: connection closed"] != 2 || s.ByKind[SyncGet] != 2 {
		t.Errorf("counts: %s", s)
	}
	if s.LongestGap != 990*time.Millisecond || s.GapFrom != 10*time.Millisecond || s.GapTo != time.Second {
		t.Errorf("gap: %s", s)
	}
}

func TestGapInAWindow(t *testing.T) {
	lost := Output{Class: Unknown, Err: "zk: connection closed"}
	h := History{Ops: []Op{
		ms(0, Create, Input{Value: "a"}, ok("", 0), 0, 50), // before the window
		ms(1, Set, Input{Value: "b"}, ok("", 1), 60, 150),  // in it
		ms(2, Set, Input{Value: "c"}, lost, 160, 700),      // unknown: not an answer
		ms(0, SyncGet, Input{}, ok("b", 1), 300, 400),      // in it
		ms(1, Get, Input{}, ok("b", 1), 900, 1200),         // after it
	}}
	d := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	gap, from, to := h.Gap(d(100), d(1000), Answered)
	if gap != d(600) || from != d(400) || to != d(1000) {
		t.Errorf("answers: gap %v from %v to %v, want 600ms from 400ms to 1s (the window's end)", gap, from, to)
	}
	gap, from, to = h.Gap(d(100), d(1000), func(op Op) bool { return op.Kind.Write() && op.Output.Class == OK })
	if gap != d(850) || from != d(150) || to != d(1000) {
		t.Errorf("writes: gap %v from %v to %v, want 850ms from 150ms to 1s", gap, from, to)
	}
	if gap, _, _ := h.Gap(d(2000), d(2500), Answered); gap != d(500) {
		t.Errorf("a window with no answer: gap %v, want all of it (500ms)", gap)
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		c    call
		out  Output
		want string
	}{
		{call{Set, k1, Input{"v3", 2}}, Output{Class: OK, Version: 3}, `set /zkchaos-h/k1 "v3" if v=2 → ok v=3`},
		{call{SyncGet, k1, Input{}}, ok("v3", 3), `sync+get /zkchaos-h/k1 → "v3" v=3`},
		{call{Create, k1, Input{Value: "a"}}, Output{Class: Unknown, Err: "zk: connection closed"}, `create /zkchaos-h/k1 "a" → unknown (zk: connection closed)`},
		{call{Get, k1, Input{}}, Output{Class: NoNode}, `get /zkchaos-h/k1 → no-node`},
	} {
		if got := describe(tc.c, tc.out); got != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
}

func TestWriteVisualization(t *testing.T) {
	h := History{Ops: []Op{
		ms(0, Create, Input{Value: "a"}, ok("", 0), 0, 10),
		ms(0, Set, Input{Value: "b", Version: 0}, Output{Class: Unknown, Err: "zk: connection closed"}, 20, 30),
		ms(1, SyncGet, Input{}, ok("b", 1), 40, 50),
	}}
	r := check(t, h, Options{})
	path := filepath.Join(t.TempDir(), "viz.html")
	if err := r.WriteVisualization(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`set /zkchaos-h/k1 \"b\" if v=0 → unknown (zk: connection closed)`)) {
		t.Errorf("visualization lacks the described set")
	}
}

func TestGoReturnsTheErrorThatKeptTheWorkloadFromStarting(t *testing.T) {
	r, err := Go(context.Background(), Workload{})
	if err == nil || r != nil || !strings.Contains(err.Error(), "did not start") || !strings.Contains(err.Error(), "without servers") {
		t.Fatalf("Go without servers: %v, %v; want the start error", r, err)
	}
}

// A history from an exploration on 3.9.3 (testdata/README.md): the leader zk3 was
// paused for 9 s; zk1 and zk2 elected zk2 and took writes; thawed, zk3 still led
// for ~100 ms and answered a sync+read from its state of 9 s before. The writes
// are linearizable; with sync+reads the history is not (ZOOKEEPER-1675), and
// StaleReads names the read.
func TestCapturedSyncReadFromADeposedLeader(t *testing.T) {
	h, err := Load(filepath.Join("testdata", "zk-3.9.3-explore-deposed-leader-sync.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := check(t, h, Options{Timeout: time.Minute, WritesOnly: true})
	if !r.Linearizable || r.SyncReadsSkipped == 0 || r.Checked < 500 {
		t.Fatalf("writes only: %s", r)
	}
	r = check(t, h, Options{Timeout: time.Minute})
	if r.Outcome != porcupine.Illegal || !reflect.DeepEqual(r.IllegalPaths, []string{Key(3)}) {
		t.Fatalf("writes and sync+reads: %s", r)
	}
	stale := h.StaleReads(SyncGet)
	if len(stale) != 1 {
		t.Fatalf("stale sync+reads: %v, want the one", stale)
	}
	s := stale[0]
	if s.Read.ClientID != 3 || s.Read.Output.Version != 234 || s.Write.Output.Version != 248 {
		t.Fatalf("stale sync+read: %s; want client 3 answered version 234 after version 248 was acknowledged", s)
	}
	t.Log(s)
}
