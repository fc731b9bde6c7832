package reports

import "fmt"

// What a run observed, from which its verdict is computed (Judge). A scenario's
// steps record observations — each with its evidence — and never set the verdict
// itself: the rules below are the only place a verdict is decided, for the specs,
// the CLI and the reports alike (docs/verdicts.md).
const (
	// ObsTrigger: the trigger was applied (the firewall rule is in place, the
	// sessions were opened, the flood was sent). Without it nothing is reproduced.
	ObsTrigger = "trigger"
	// ObsFailure: whether the failure resulted (a node stuck, sessions refused,
	// overflows counted). Held=false is a result too: the failure did not happen.
	ObsFailure = "failure"
	// ObsFinding: the detector's expected finding on the expected node.
	ObsFinding = "finding"
	// ObsFix: what a documented fix did; Status is FixWorks, FixFails or
	// FixNotAvailable.
	ObsFix = "fix"
	// ObsCheck: a property that must hold for the run to pass (linearizable,
	// every acknowledged write intact, the ensemble recovers).
	ObsCheck = "check"
)

// Observation is one thing a run saw, with its evidence.
type Observation struct {
	Kind string `json:"kind"`
	// Name names a fix or a check.
	Name     string `json:"name,omitempty"`
	Node     string `json:"node,omitempty"`
	Held     bool   `json:"held"`
	Status   string `json:"status,omitempty"`
	Evidence string `json:"evidence"`
}

// FixResult is one documented fix's outcome on this version.
type FixResult struct {
	Name     string `json:"name"`
	Status   string `json:"status"`
	Evidence string `json:"evidence"`
}

// CheckResult is one check's outcome.
type CheckResult struct {
	Name     string `json:"name"`
	Held     bool   `json:"held"`
	Evidence string `json:"evidence"`
}

// Trigger records whether the trigger was applied.
func (r *Record) Trigger(held bool, node, format string, a ...any) {
	r.observe(Observation{Kind: ObsTrigger, Node: node, Held: held}, format, a...)
}

// Failure records whether the failure resulted from the trigger.
func (r *Record) Failure(held bool, node, format string, a ...any) {
	r.observe(Observation{Kind: ObsFailure, Node: node, Held: held}, format, a...)
}

// Finding records whether the detector gave the expected finding on the
// expected node.
func (r *Record) Finding(held bool, node, format string, a ...any) {
	r.observe(Observation{Kind: ObsFinding, Node: node, Held: held}, format, a...)
}

// FixOutcome records what the documented fix `name` did: FixWorks, FixFails or
// FixNotAvailable.
func (r *Record) FixOutcome(name, status, node, format string, a ...any) {
	r.observe(Observation{Kind: ObsFix, Name: name, Node: node, Held: status == FixWorks, Status: status}, format, a...)
}

// Check records whether a property that must hold held.
func (r *Record) Check(name string, held bool, node, format string, a ...any) {
	r.observe(Observation{Kind: ObsCheck, Name: name, Node: node, Held: held}, format, a...)
}

func (r *Record) observe(o Observation, format string, a ...any) {
	o.Evidence = fmt.Sprintf(format, a...)
	r.Evidence(o.Node, "%s", o.Evidence)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Observations = append(r.Observations, o)
	r.judge()
}

// judge computes the verdict from the observations (r.mu held). The rules:
//   - triggered: at least one trigger observation, and every one held;
//   - reproduced: triggered, and every failure observation held (each is a
//     piece of the failure's evidence: F3's refused sessions and its log line);
//   - fixed in this version: a regression check (Regression set) whose trigger
//     was observed and whose failure was looked for and did not happen;
//   - detected: some finding observation held;
//   - each fix: its last outcome; "works" and "fails" only where the failure was
//     reproduced — with nothing to fix, a fix is "not tried". "Not available"
//     stands on any run. The verdict's Fix is the documented fix (DocumentedFix,
//     else the first one observed);
//   - checks: the last outcome of each; any that did not hold fails the run.
func (r *Record) judge() {
	v := &r.Verdict
	var triggers, failures, triggered, failed, detected int
	v.Fixes, v.Checks = nil, nil
	fixAt, checkAt := map[string]int{}, map[string]int{}
	for _, o := range r.Observations {
		switch o.Kind {
		case ObsTrigger:
			triggers++
			if o.Held {
				triggered++
			}
		case ObsFailure:
			failures++
			if o.Held {
				failed++
			}
		case ObsFinding:
			if o.Held {
				detected++
			}
		case ObsFix:
			v.Fixes = lastByName(v.Fixes, fixAt, o.Name, FixResult{Name: o.Name, Status: o.Status, Evidence: o.Evidence})
		case ObsCheck:
			v.Checks = lastByName(v.Checks, checkAt, o.Name, CheckResult{Name: o.Name, Held: o.Held, Evidence: o.Evidence})
		}
	}
	v.Triggered = triggers > 0 && triggered == triggers
	v.Reproduced = v.Triggered && failures > 0 && failed == failures
	v.FixedInVersion = r.Regression != "" && v.Triggered && failures > 0 && failed == 0
	v.Detected = detected > 0
	for i := range v.Fixes {
		if s := v.Fixes[i].Status; (s == FixWorks || s == FixFails) && !v.Reproduced {
			v.Fixes[i].Status = FixNotTried
			v.Fixes[i].Evidence = "nothing to fix (the failure was not reproduced): " + v.Fixes[i].Evidence
		}
	}
	v.Fix = FixNotTried
	for _, f := range v.Fixes {
		if f.Name == r.DocumentedFix || r.DocumentedFix == "" {
			v.Fix = f.Status
			break
		}
	}
	v.Fixed = v.Fix == FixWorks
}

// lastByName keeps one entry per name, in the order names first appeared, each
// the last outcome seen (at maps a name to its index in list).
func lastByName[T any](list []T, at map[string]int, name string, x T) []T {
	if i, ok := at[name]; ok {
		list[i] = x
		return list
	}
	at[name] = len(list)
	return append(list, x)
}

// FailedChecks names the checks that did not hold.
func (v *Verdict) FailedChecks() []string {
	var out []string
	for _, c := range v.Checks {
		if !c.Held {
			out = append(out, c.Name)
		}
	}
	return out
}
