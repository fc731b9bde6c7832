package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/reports"
)

// Expectation is the verdict a scenario gives on a version when ZooKeeper
// behaves as measured and documented (docs/verdicts.md). A run that differs, or
// whose checks fail, fails the spec and makes `zkchaos run` and `qualify` exit 1.
type Expectation struct {
	Reproduced bool `json:"reproduced"`
	// FixedInVersion: a regression check whose trigger happened without the failure.
	FixedInVersion bool `json:"fixed_in_version,omitempty"`
	Detected       bool `json:"detected"`
	// Fix is the documented fix's outcome (reports.FixWorks, FixFails,
	// FixNotAvailable, FixNotTried).
	Fix string `json:"fix"`
	// Measured: an experiment without a trigger of its own (F4's restart
	// orders): its checks and its notes are the result.
	Measured bool `json:"measured,omitempty"`
	// Why says in a few words why this is the expected verdict.
	Why string `json:"why"`
}

// anyVersion keys an expectation that holds on every version.
const anyVersion = "*"

// Expected is the table of expected verdicts: scenario → version (or anyVersion)
// → expectation. docs/verdicts.md is rendered from it (ExpectedMarkdown) and a
// test keeps the two equal.
var Expected = map[string]map[string]Expectation{
	"F1": {anyVersion: {FixedInVersion: true, Fix: reports.FixNotTried,
		Why: "ZOOKEEPER-1514 is fixed since 3.4.4: a follower restarted into a quorum rounds ahead rejoins; with nothing to fix, the remedy is not tried"}},
	"F1-replay": {anyVersion: {Reproduced: true, Detected: true, Fix: reports.FixNotTried,
		Why: "the quoted votes in the 3.3 format disagree on the epoch and never form a quorum: the server stays LOOKING, and the F1 detector names it"}},
	"F2": {anyVersion: {Reproduced: true, Detected: true, Fix: reports.FixWorks,
		Why: "autopurge is off by default; the start-up purge of a rolling restart keeps 3 snapshots"}},
	"F2-disk": {anyVersion: {Reproduced: true, Detected: true, Fix: reports.FixFails,
		Why: "a burst fills the disk in seconds; autopurge runs every hour"}},
	"F2-prealloc": {anyVersion: {Measured: true, Fix: reports.FixNotTried,
		Why: "a measurement: preallocated logs are sparse; a smaller preAllocSize shrinks what ls shows"}},
	"F3": {anyVersion: {Reproduced: true, Detected: true, Fix: reports.FixWorks,
		Why: "maxClientCnxns limits sessions per client IP on every version"}},
	"F4": {anyVersion: {Reproduced: true, Detected: true, Fix: reports.FixFails,
		Why: "a LOOKING peer dials zk1 itself, and a one-way drop stops that dial too: the documented restart order does not help; removing the drop does"}},
	"F4-restart-order": {anyVersion: {Measured: true, Fix: reports.FixNotTried,
		Why: "an experiment: its checks and its table are the result"}},
	"F5": {
		"3.4.13":   {Reproduced: true, Detected: true, Fix: reports.FixNotAvailable, Why: "clientPortListenBacklog shipped in 3.6.0: 3.4.13 ignores the key, Send-Q stays 50"},
		anyVersion: {Reproduced: true, Detected: true, Fix: reports.FixWorks, Why: "clientPortListenBacklog=1024 raises the accept queue and the overflows fall"},
	},
	"explore": {anyVersion: {Fix: reports.FixNotTried,
		Why: "an exploration: its checks are the result — every fault took effect and healed, every node served again, the writes are linearizable (sync+reads and plain reads are reported, not checked: docs/explore.md)"}},
	"upgrade-from-3.8.0": {"3.9.3": {Fix: reports.FixNotTried,
		Why: "every node starts on 3.9.3 from a 3.8.0 dataDir; served throughout, linearizable, nothing lost"}},
	"upgrade-from-3.8.0-leader-first": {"3.9.3": {Fix: reports.FixNotTried, Why: "as followers first"}},
	"upgrade-from-3.8.0-5-nodes":      {"3.9.3": {Fix: reports.FixNotTried, Why: "as 3 nodes"}},
	"upgrade-from-3.9.3":              {"3.8.0": {Fix: reports.FixNotTried, Why: "the downgrade starts on the same dataDirs"}},
	"upgrade-from-3.4.13": {"3.8.0": {Reproduced: true, Fix: reports.FixWorks,
		Why: "ZOOKEEPER-3056: a 3.4 dataDir with logs but no snapshot stops 3.5+; snapshot.trust.empty=true gets through"}},
}

// ExpectedFor is the expected verdict of a scenario on a version, if the table
// has one.
func ExpectedFor(scenario, version string) (Expectation, bool) {
	byVersion, ok := Expected[scenario]
	if !ok {
		return Expectation{}, false
	}
	if e, ok := byVersion[version]; ok {
		return e, true
	}
	e, ok := byVersion[anyVersion]
	return e, ok
}

// Compare says how a run's record differs from the expected table, and which of
// its checks failed; empty means the run passes. known is false when the table
// has no expectation for the scenario on that version: then only the checks
// count.
func Compare(rec *reports.Record) (problems []string, known bool) {
	v := rec.Verdict
	for _, c := range v.FailedChecks() {
		problems = append(problems, "check failed: "+c)
	}
	e, known := ExpectedFor(rec.Scenario, rec.Version)
	if !known {
		return problems, false
	}
	differ := func(what string, got, want any) {
		if got != want {
			problems = append(problems, fmt.Sprintf("%s: got %v, expected %v (%s)", what, got, want, e.Why))
		}
	}
	differ("reproduced", v.Reproduced, e.Reproduced)
	differ("fixed in this version", v.FixedInVersion, e.FixedInVersion)
	if e.Reproduced || e.FixedInVersion {
		differ("trigger applied", v.Triggered, true)
	}
	differ("detected", v.Detected, e.Detected)
	differ("fix", fixWord(v.FixStatus()), fixWord(e.Fix))
	return problems, true
}

func fixWord(s string) string {
	if s == reports.FixNotTried {
		return "not tried"
	}
	return s
}

// ExpectedMarkdown renders the table for docs/verdicts.md: one row per scenario,
// one column per version.
func ExpectedMarkdown() string {
	var b strings.Builder
	b.WriteString("| scenario |")
	for _, v := range harness.Versions {
		b.WriteString(" " + v.Version + " |")
	}
	b.WriteString(" why |\n|---|" + strings.Repeat("---|", len(harness.Versions)) + "---|\n")
	var names []string
	for _, e := range Catalog {
		names = append(names, e.Name)
	}
	for _, p := range UpgradePaths() {
		names = append(names, p.Name())
	}
	names = append(names, ExploreName)
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		b.WriteString("| " + name + " |")
		var whys []string
		for _, v := range harness.Versions {
			e, ok := ExpectedFor(name, v.Version)
			if !ok {
				b.WriteString(" — |")
				continue
			}
			b.WriteString(" " + expectationText(name, e) + " |")
			if !slices.Contains(whys, e.Why) {
				whys = append(whys, e.Why)
			}
		}
		b.WriteString(" " + strings.Join(whys, "; ") + " |\n")
	}
	return b.String()
}

func expectationText(name string, e Expectation) string {
	var parts []string
	switch {
	case e.Measured:
		return "measured · every check holds"
	case strings.HasPrefix(name, "upgrade-") && e.Reproduced:
		return "a node does not start · workaround " + fixWord(e.Fix) + " · checks hold"
	case strings.HasPrefix(name, "upgrade-"):
		return "every node starts · checks hold"
	case name == ExploreName:
		return "checks hold"
	case e.Reproduced:
		parts = append(parts, "reproduced")
		if e.Detected {
			parts = append(parts, "detected")
		} else {
			parts = append(parts, "not detected")
		}
	case e.FixedInVersion:
		parts = append(parts, "fixed in this version")
	default:
		parts = append(parts, "not reproduced")
	}
	return strings.Join(append(parts, "fix "+fixWord(e.Fix)), " · ")
}

// UpgradePaths are the rolling upgrades the suite qualifies: 3.8.0 → 3.9.3
// followers first in `make test`, the rest in `make slow`.
func UpgradePaths() []UpgradePath {
	v := func(s string) harness.Version {
		x, err := harness.LookupVersion(s)
		if err != nil {
			panic(err) // the versions table names these
		}
		return x
	}
	return []UpgradePath{
		{From: v("3.8.0"), To: v("3.9.3"), Nodes: 3},
		{From: v("3.8.0"), To: v("3.9.3"), Nodes: 3, LeaderFirst: true, Slow: true},
		{From: v("3.8.0"), To: v("3.9.3"), Nodes: 5, Slow: true},
		{From: v("3.9.3"), To: v("3.8.0"), Nodes: 3, Slow: true},
		{From: v("3.4.13"), To: v("3.8.0"), Nodes: 3, Slow: true},
	}
}
