// Package reports holds the record of one scenario run — its timeline of faults,
// node states, client results and findings, its figures and its verdict — and
// writes it as JSON next to the Ginkgo report.
package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
)

// Event is one entry of the timeline.
type Event struct {
	Time time.Time `json:"time"`
	Kind string    `json:"kind"`
	Node string    `json:"node,omitempty"`
	Text string    `json:"text"`
}

// Verdict answers the three questions of every scenario; Notes say where a
// documented claim did not hold on this version.
type Verdict struct {
	Reproduced bool     `json:"reproduced"`
	Detected   bool     `json:"detected"`
	Fixed      bool     `json:"fixed"`
	Evidence   []string `json:"evidence,omitempty"`
	Notes      []string `json:"notes,omitempty"`
}

// Record is one scenario run on one version.
type Record struct {
	Scenario string             `json:"scenario"`
	Title    string             `json:"title"`
	Version  string             `json:"version"`
	Started  time.Time          `json:"started"`
	Ended    time.Time          `json:"ended"`
	Verdict  Verdict            `json:"verdict"`
	Figures  map[string]float64 `json:"figures,omitempty"`
	Timeline []Event            `json:"timeline"`

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

// Figure records a measured number.
func (r *Record) Figure(name string, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Figures[name] = v
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
