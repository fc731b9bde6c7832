// Package reports holds the record of one scenario run — its timeline of faults,
// node states, client results and findings, its figures and its verdict — and
// writes it as JSON next to the Ginkgo report.
//
// The HTML report (HTML, WriteHTML, WriteAll) draws one lane per server from
// the structured fields: call SetNodes once the ensemble exists, State on
// every observed state (it records changes only), FaultSpan for faults that
// last, and set Verdict.Fix so the matrix can tell "fails" from "not
// available on this version".
package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event kinds on the run's one time axis (Jepsen: faults and operations together).
const (
	KindStep     = "step"     // what the scenario is doing now
	KindFault    = "fault"    // a fault injected (restart, kill, pause, limit…)
	KindState    = "state"    // a node's observed state
	KindClient   = "client"   // client-side results and errors
	KindEvidence = "evidence" // proof that the fault happened
	KindFinding  = "finding"  // a detector's finding
	KindFix      = "fix"      // a documented fix applied
	// KindCheck and KindCheckFailed mark a check's result on the timeline (an
	// exploration's linearizability check), held or not.
	KindCheck       = "check"
	KindCheckFailed = "check-failed"
)

// Node states, as ZooKeeper names its server states (srvr "Mode", the log's
// "LOOKING"/"FOLLOWING"…), plus DOWN when nothing answers on the client port.
const (
	StateLooking    = "LOOKING"
	StateFollowing  = "FOLLOWING"
	StateLeading    = "LEADING"
	StateObserving  = "OBSERVING"
	StateStandalone = "STANDALONE"
	StateDown       = "DOWN"
)

// Event is one entry of the timeline.
type Event struct {
	Time time.Time `json:"time"`
	Kind string    `json:"kind"`
	Node string    `json:"node,omitempty"`
	Text string    `json:"text"`
	// State is the node's state on a KindState event (one of the State
	// constants); the report draws the node's lane from these.
	State string `json:"state,omitempty"`
	// End closes a fault that lasts (a pause, a partition, a flood); zero
	// means the fault is instantaneous.
	End time.Time `json:"end,omitzero"`
}

// Verdict answers the three questions of every scenario — reproduced? detected?
// does the documented fix work? — and the checks that must hold. It is computed
// from the record's observations (judge, in verdict.go), never set by a
// scenario; Notes say where a documented claim did not hold on this version.
type Verdict struct {
	// Triggered: the trigger was applied (every trigger observation held).
	Triggered  bool `json:"triggered"`
	Reproduced bool `json:"reproduced"`
	// FixedInVersion: a regression check whose trigger was observed and whose
	// failure did not happen: the version carries the upstream fix.
	FixedInVersion bool     `json:"fixed_in_version,omitempty"`
	Detected       bool     `json:"detected"`
	Fixed          bool     `json:"fixed"`
	Evidence       []string `json:"evidence,omitempty"`
	Notes          []string `json:"notes,omitempty"`
	// Fix says what became of the documented fix on this version (FixWorks,
	// FixFails, FixNotAvailable); FixNotTried when unset. "Not available on
	// this version" is not "fails" (clientPortListenBacklog on 3.4).
	Fix string `json:"fix,omitempty"`
	// Fixes are every documented fix tried, the documented one among them.
	Fixes []FixResult `json:"fixes,omitempty"`
	// Checks must all hold for the run to pass.
	Checks []CheckResult `json:"checks,omitempty"`
}

// Verdict.Fix values.
const (
	FixWorks        = "works"
	FixFails        = "fails"
	FixNotAvailable = "not available"
	FixNotTried     = ""
)

// FixStatus is Fix, or FixWorks for records that only set Fixed.
func (v *Verdict) FixStatus() string {
	if v.Fix == FixNotTried && v.Fixed {
		return FixWorks
	}
	return v.Fix
}

// Record is one scenario run on one version.
type Record struct {
	Scenario string    `json:"scenario"`
	Title    string    `json:"title"`
	Version  string    `json:"version"`
	Nodes    []string  `json:"nodes,omitempty"` // the ensemble's servers, one lane each
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended"`
	// Regression names the upstream fix a regression scenario checks (F1:
	// ZOOKEEPER-1514); DocumentedFix names the fix the verdict's Fix reports.
	Regression    string  `json:"regression,omitempty"`
	DocumentedFix string  `json:"documented_fix,omitempty"`
	Verdict       Verdict `json:"verdict"`
	// Steps say how long each step of the runner took, and in which phase.
	Steps []StepTiming `json:"steps,omitempty"`
	// Observations are what the verdict is computed from, in order.
	Observations []Observation      `json:"observations,omitempty"`
	Figures      map[string]float64 `json:"figures,omitempty"`
	Timeline     []Event            `json:"timeline"`

	mu sync.Mutex
}

// New starts the record of a run.
func New(scenario, title, version string) *Record {
	return &Record{Scenario: scenario, Title: title, Version: version, Started: time.Now().UTC(), Figures: map[string]float64{}}
}

// Add appends an event at the current time.
func (r *Record) Add(kind, node, format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Timeline = append(r.Timeline, Event{Time: time.Now().UTC(), Kind: kind, Node: node, Text: fmt.Sprintf(format, a...)})
}

// AddEvent appends an event that carries its own time (e.g. a client error
// measured from a history after the fact).
func (r *Record) AddEvent(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Timeline = append(r.Timeline, e)
}

// MarkStarted sets the run's start to now: a record prepared ahead of its run
// (the specs plan every run when they build their tree) starts with its first step.
func (r *Record) MarkStarted() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Started = time.Now().UTC()
}

// StepTiming is one step's duration.
type StepTiming struct {
	Name    string  `json:"name"`
	Phase   string  `json:"phase"`
	Seconds float64 `json:"seconds"`
}

// StepTime records how long a step took.
func (r *Record) StepTime(name, phase string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Steps = append(r.Steps, StepTiming{Name: name, Phase: phase, Seconds: d.Seconds()})
}

// Figure records a measured number.
func (r *Record) Figure(name string, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Figures == nil {
		r.Figures = map[string]float64{}
	}
	r.Figures[name] = v
}

// SetNodes names the ensemble's servers (zk1…zkN): the report draws one lane
// per name, in this order, also for nodes that never changed state.
func (r *Record) SetNodes(names ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Nodes = append([]string(nil), names...)
}

// State records the node's observed state when it differs from the last one
// recorded for that node, so callers can report every poll. state is
// normalised (NormalizeState): "leader", "follower", "not-serving", "down"…
func (r *Record) State(node, state string) {
	state = NormalizeState(state)
	r.mu.Lock()
	defer r.mu.Unlock()
	last := ""
	for i := len(r.Timeline) - 1; i >= 0; i-- {
		if e := r.Timeline[i]; e.Kind == KindState && e.Node == node && e.State != "" {
			last = e.State
			break
		}
	}
	if last == state {
		return
	}
	text := node + " " + state
	if last != "" {
		text = node + " " + last + " → " + state
	}
	r.Timeline = append(r.Timeline, Event{Time: time.Now().UTC(), Kind: KindState, Node: node, Text: text, State: state})
}

// FaultSpan records a fault that lasted from start to end (a pause, a
// partition, a flood), on the run's one clock.
func (r *Record) FaultSpan(node string, start, end time.Time, format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Timeline = append(r.Timeline, Event{Time: start.UTC(), End: end.UTC(), Kind: KindFault, Node: node, Text: fmt.Sprintf(format, a...)})
}

// NormalizeState maps the harness's modes (leader, follower, observer,
// standalone, not-serving, down) and ZooKeeper's own state names in any case
// to the State constants. A node that answers but does not serve is in
// election or syncing: LOOKING. Anything else comes back upper-cased and
// trimmed, and the report leaves its lane blank.
func NormalizeState(s string) string {
	u := strings.ToUpper(strings.TrimSpace(s))
	switch strings.NewReplacer("-", "", "_", "", " ", "").Replace(u) {
	case "LEADER", "LEADING":
		return StateLeading
	case "FOLLOWER", "FOLLOWING":
		return StateFollowing
	case "OBSERVER", "OBSERVING":
		return StateObserving
	case "STANDALONE":
		return StateStandalone
	case "LOOKING", "NOTSERVING", "ELECTION", "ELECTING":
		return StateLooking
	case "DOWN", "STOPPED", "EXITED", "KILLED":
		return StateDown
	}
	return u
}

// Evidence records a proof in the timeline and in the verdict.
func (r *Record) Evidence(node, format string, a ...any) {
	r.Add(KindEvidence, node, format, a...)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Verdict.Evidence = append(r.Verdict.Evidence, fmt.Sprintf(format, a...))
}

// Note records where the ops notes' claim does not hold, or what was not shown.
func (r *Record) Note(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Verdict.Notes = append(r.Verdict.Notes, fmt.Sprintf(format, a...))
}

// Dir is where run records go: ZKCHAOS_REPORTS, else reports/out/runs under root.
func Dir(root string) string {
	if d := os.Getenv("ZKCHAOS_REPORTS"); d != "" {
		return d
	}
	return filepath.Join(root, "reports", "out", "runs")
}

// WriteJSON writes the record to dir/<scenario>-<version>.json and returns the path.
func (r *Record) WriteJSON(dir string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Ended = time.Now().UTC()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.json", r.Scenario, r.Version))
	return path, os.WriteFile(path, b, 0o644)
}

// Load reads a record written by WriteJSON.
func Load(path string) (*Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &Record{}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Figures == nil {
		r.Figures = map[string]float64{}
	}
	return r, nil
}

// LoadDir reads every *.json record in dir, sorted by scenario, then by
// version in numeric order (3.4.13 before 3.10.0).
func LoadDir(dir string) ([]*Record, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var records []*Record
	for _, p := range paths {
		r, err := Load(p)
		if err != nil {
			return nil, err
		}
		records = append(records, r)
	}
	SortRecords(records)
	return records, nil
}

// SortRecords sorts by scenario, then by version in numeric order.
func SortRecords(records []*Record) {
	sort.SliceStable(records, func(i, j int) bool {
		if records[i].Scenario != records[j].Scenario {
			return records[i].Scenario < records[j].Scenario
		}
		return CompareVersions(records[i].Version, records[j].Version) < 0
	})
}

// CompareVersions compares dotted versions part by part, numbers as numbers
// ("3.4.13" < "3.10.0"), other parts as strings; it returns -1, 0 or +1.
func CompareVersions(a, b string) int {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '-' || r == '_' || r == '+' })
	}
	pa, pb := split(a), split(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, ea := strconv.ParseUint(pa[i], 10, 64)
		nb, eb := strconv.ParseUint(pb[i], 10, 64)
		switch {
		case ea == nil && eb == nil:
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
		case ea == nil: // a number sorts before a word (3.9.0 < 3.9.beta)
			return -1
		case eb == nil:
			return 1
		default:
			if c := strings.Compare(pa[i], pb[i]); c != 0 {
				return c
			}
		}
	}
	switch {
	case len(pa) < len(pb):
		return -1
	case len(pa) > len(pb):
		return 1
	}
	return strings.Compare(a, b)
}
