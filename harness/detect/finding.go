package detect

import (
	"bytes"
	"encoding/json"
	"time"
)

// Failure names one of the five failures (runbooks docs/F1.md … docs/F5.md).
type Failure string

// The failures, in the order of docs/README.md.
const (
	F1 Failure = "F1" // restarted node never rejoins (ZOOKEEPER-1514)
	F2 Failure = "F2" // dataDir growth, full disk
	F3 Failure = "F3" // maxClientCnxns per client IP
	F4 Failure = "F4" // "Have smaller server identifier" and a node stuck LOOKING
	F5 Failure = "F5" // client-port listen backlog overflows
)

// Grade says how sure a finding is.
type Grade string

const (
	// Found: the failure's signature with its preconditions (docs/F1.md … F5.md §5).
	Found Grade = "found"
	// Suspected: partial evidence. The explanation says what would confirm it
	// (the peers' logs, the leader's log, a second netstat snapshot, srvr).
	Suspected Grade = "suspected"
)

// Finding is what a detector reports: which failure, how sure, on which node,
// when it was first seen, the original lines or values that show it, why they
// mean this failure, and what the runbook (and upstream) say fixes it.
type Finding struct {
	Failure Failure
	// Grade is Found or Suspected; "" (from older callers) reads as Found.
	Grade       Grade
	Node        string
	Time        time.Time // zero when the evidence carries no timestamp
	Evidence    []string
	Explanation string
	Remedy      string
}

// NoZone is the location of timestamps that carry no zone. log4j's ISO8601
// layout, which every ZooKeeper version uses by default, prints none, so a time
// read from such a line is wall-clock time of an unknown zone: it is kept in
// this location and printed without an offset rather than passed off as UTC.
var NoZone = time.FixedZone("unzoned", 0)

// FormatTime prints t the way findings carry it: RFC 3339 with milliseconds,
// without an offset when the source had none, "" when unknown.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if t.Location() == NoZone {
		return t.Format("2006-01-02T15:04:05.000")
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}

type findingJSON struct {
	Failure     Failure  `json:"failure"`
	Grade       Grade    `json:"grade"`
	Node        string   `json:"node"`
	Time        string   `json:"time"`
	Evidence    []string `json:"evidence"`
	Explanation string   `json:"explanation"`
	Remedy      string   `json:"remedy"`
}

// MarshalJSON gives the shape `zkchaos diagnose --json` promises (issue 4).
func (f Finding) MarshalJSON() ([]byte, error) {
	ev := f.Evidence
	if ev == nil {
		ev = []string{}
	}
	// not HTML-escaped: evidence quotes "<unresolved>" and "->" as logged
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(findingJSON{f.Failure, f.GradeOrFound(), f.Node, FormatTime(f.Time), ev, f.Explanation, f.Remedy}); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// UnmarshalJSON reads what MarshalJSON writes (golden files, reports).
func (f *Finding) UnmarshalJSON(b []byte) error {
	var j findingJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*f = Finding{Failure: j.Failure, Grade: j.Grade, Node: j.Node, Evidence: j.Evidence, Explanation: j.Explanation, Remedy: j.Remedy}
	if j.Time != "" {
		t, ok := parseTimestamp([]byte(j.Time))
		if ok {
			f.Time = t
		}
	}
	return nil
}

// GradeOrFound is the finding's grade, Found when unset.
func (f Finding) GradeOrFound() Grade {
	if f.Grade == "" {
		return Found
	}
	return f.Grade
}
