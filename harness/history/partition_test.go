package history_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/zkchaos/zkchaos/harness/history"
)

// isolation is one "isolate zkN" fault of a record, on the history's clock.
type isolation struct {
	node     int
	from, to time.Duration
}

// isolations reads the isolate faults from a run record (reports.Record's JSON).
func isolations(t *testing.T, path string, start time.Time) []isolation {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Timeline []struct {
			Time time.Time `json:"time"`
			End  time.Time `json:"end"`
			Kind string    `json:"kind"`
			Text string    `json:"text"`
		} `json:"timeline"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^isolate zk(\d+): iptables counters: .*dropped [1-9]`)
	var out []isolation
	for _, e := range rec.Timeline {
		if m := re.FindStringSubmatch(e.Text); e.Kind == "fault" && m != nil && !e.End.IsZero() {
			n, _ := strconv.Atoi(m[1])
			out = append(out, isolation{node: n, from: e.Time.Sub(start), to: e.End.Sub(start)})
		}
	}
	return out
}

// staleness is how long before a plain read's call the value it returned had
// been overwritten by a write that had already returned ok (0: not stale).
func staleness(h history.History, read history.Op) time.Duration {
	version := int32(-1) // no-node: before the create
	if read.Output.Class == history.OK {
		version = read.Output.Version
	}
	var first time.Duration = -1
	for _, w := range h.Ops {
		if w.Path != read.Path || !w.Kind.Write() || w.Output.Class != history.OK || w.Return >= read.Call {
			continue
		}
		if w.Output.Version > version && (first < 0 || w.Return < first) {
			first = w.Return
		}
	}
	if first < 0 {
		return 0
	}
	return read.Call - first
}

// TestCheckerCatchesStaleReadsOfAnIsolatedNode: on a real history from an
// exploratory run with two isolations, porcupine finds the writes and the
// sync+reads linearizable (no leader was replaced there) and catches the anomaly the
// isolations produced: a node cut off from its leader goes on answering plain
// reads with values overwritten seconds earlier through the majority.
func TestCheckerCatchesStaleReadsOfAnIsolatedNode(t *testing.T) {
	h, err := history.Load("testdata/zk-3.9.3-explore-isolate.json")
	if err != nil {
		t.Fatal(err)
	}
	promised, err := history.Check(h, history.Options{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !promised.Linearizable {
		t.Fatalf("writes and sync+reads: %s", promised)
	}
	plain, err := history.Check(h, history.Options{Timeout: time.Minute, CheckPlainReadsAsLinearizable: true})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Linearizable {
		t.Fatalf("plain reads counted: %s; want Illegal", plain)
	}
	t.Logf("promised: %s\nplain reads counted: %s", promised, plain)

	isos := isolations(t, "testdata/zk-3.9.3-explore-isolate.record.json", h.Start)
	if len(isos) != 2 {
		t.Fatalf("want the record's two isolations with dropped packets, got %v", isos)
	}
	// Clients 6, 7, 8 are the plain readers pinned to zk1, zk2, zk3.
	reader := func(node int) int { return 5 + node }
	during := func(op history.Op) (isolation, bool) {
		for _, iso := range isos {
			if op.Call >= iso.from && op.Call < iso.to {
				return iso, true
			}
		}
		return isolation{}, false
	}
	var worstIn, worstOut time.Duration
	for _, op := range h.Ops {
		if op.Kind != history.Get || op.Output.Class == history.Unknown {
			continue
		}
		s := staleness(h, op)
		if iso, ok := during(op); ok && op.ClientID == reader(iso.node) {
			worstIn = max(worstIn, s)
		} else if !ok {
			worstOut = max(worstOut, s)
		}
	}
	t.Logf("stalest plain read of an isolated node's reader: %v; outside the isolations: %v", worstIn, worstOut)
	if worstIn < time.Second {
		t.Errorf("the isolated nodes' readers were at most %v behind; want seconds", worstIn)
	}
	if worstOut > 200*time.Millisecond {
		t.Errorf("outside the isolations a plain read was %v behind; want replication lag (ms)", worstOut)
	}
}
