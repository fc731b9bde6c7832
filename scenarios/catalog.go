package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
	"github.com/zkchaos/zkchaos/reports"
)

// Catalog lists the scenarios, in order: the failures of docs/F1.md–F5.md and
// their companions. `zkchaos run`, `qualify` and `workshop` run them, and the
// Ginkgo suite runs every entry on every version, step by step, through the same
// runner (Entry.Begin, Run.Do).
var Catalog = []Entry{
	{Name: "F1", Title: "A restarted node and the running quorum's election round (ZOOKEEPER-1514)", Minutes: 1,
		Regression: "ZOOKEEPER-1514", DocumentedFix: "restart the leader", Plan: planF1},
	{Name: "F1-replay", Title: "The election votes quoted in docs/F1.md replayed to a real server (ZOOKEEPER-1514)", Minutes: 1,
		Labels: []string{"replay"}, Plan: planF1Replay},
	{Name: "F2", Title: "Transaction logs and snapshots fill dataDir/version-2", Minutes: 2,
		DocumentedFix: fixAutopurge, Plan: planF2},
	{Name: "F2-disk", Title: "dataDir/version-2 on a 150m disk: nodes die until the quorum is lost", Minutes: 1,
		Labels: []string{"disk"}, DocumentedFix: fixAutopurge, Plan: planF2Disk},
	{Name: "F2-prealloc", Title: "Disk footprint of the same load with preAllocSize 64 MiB (default) and 4 MiB", Minutes: 1.5,
		Skip: func(v harness.Version) bool { return v.Version != harness.Versions[len(harness.Versions)-1].Version }, Plan: planF2Prealloc},
	{Name: "F3", Title: "Some processes on one client host cannot connect (maxClientCnxns)", Minutes: 2,
		DocumentedFix: fixRaiseLimit, Plan: planF3},
	{Name: "F4", Title: "Have smaller server identifier: the smallest myid restarted last, its peers unable to dial back", Minutes: 2.5,
		DocumentedFix: fixF4Documented, Plan: planF4},
	{Name: "F4-restart-order", Title: "Restart orders × triggers: does the smallest myid rejoin?", Minutes: 20,
		Labels: []string{"slow"}, Plan: planF4Order},
	{Name: "F5", Title: "A short-connection flood overflows the client port's listen backlog of 50", Minutes: 2,
		DocumentedFix: fixBacklog, Plan: planF5},
}

// Select finds the entries a name means, case-insensitively: "all" is every
// entry that is not slow; a failure (F1) is its entries that are not slow (F1 and
// F1-replay); an entry's full name is that entry.
func Select(name string) ([]Entry, error) {
	var names []string
	var group []Entry
	for _, e := range Catalog {
		names = append(names, e.Name)
		if (strings.EqualFold(name, "all") || strings.EqualFold(e.Group(), name)) && !e.Slow() {
			group = append(group, e)
		}
	}
	if len(group) > 0 {
		return group, nil
	}
	for _, e := range Catalog {
		if strings.EqualFold(e.Name, name) {
			return []Entry{e}, nil
		}
	}
	return nil, fmt.Errorf("unknown scenario %q (known: %s, all)", name, strings.Join(names, ", "))
}

// Lookup finds one catalog entry by its full name (case-insensitive).
func Lookup(name string) (Entry, error) {
	for _, e := range Catalog {
		if strings.EqualFold(e.Name, name) {
			return e, nil
		}
	}
	_, err := Select(name)
	if err == nil {
		err = fmt.Errorf("%q names several scenarios; name one", name)
	}
	return Entry{}, err
}

// sayFindings narrates the findings of one failure and returns the first.
func (r *Run) sayFindings(fs []detect.Finding, only detect.Failure) *detect.Finding {
	var first *detect.Finding
	for i, f := range fs {
		if f.Failure != only {
			continue
		}
		if first == nil {
			first = &fs[i]
		}
		r.say("finding: %s (%s) on %s", f.Failure, f.GradeOrFound(), f.Node)
		r.say("why:     %s", f.Explanation)
		r.say("remedy:  %s", f.Remedy)
	}
	return first
}

func findingOn(fs []detect.Finding, failure detect.Failure, node string) *detect.Finding {
	for i := range fs {
		if fs[i].Failure == failure && (node == "" || fs[i].Node == node) {
			return &fs[i]
		}
	}
	return nil
}

// foundOn is the finding of failure on node with the grade Found: what
// "detected" means (docs/verdicts.md). A suspected finding does not count.
func foundOn(fs []detect.Finding, failure detect.Failure, node string) *detect.Finding {
	for i := range fs {
		if fs[i].Failure == failure && fs[i].Node == node && fs[i].GradeOrFound() == detect.Found {
			return &fs[i]
		}
	}
	return nil
}

// gradeOn says in words what the detector reported of failure on node.
func gradeOn(fs []detect.Finding, failure detect.Failure, node string) string {
	var got []string
	for _, f := range fs {
		if f.Failure == failure {
			got = append(got, fmt.Sprintf("%s %s on %s", f.Failure, f.GradeOrFound(), f.Node))
		}
	}
	if len(got) == 0 {
		return fmt.Sprintf("no %s finding", failure)
	}
	return strings.Join(got, ", ")
}

func nodeNames(ens *harness.Ensemble) []string {
	var names []string
	for _, n := range ens.Nodes() {
		names = append(names, n.Name)
	}
	return names
}

// track gives rec a lane per node of ens and records each node's state changes
// (srvr probes every second) until the ensemble is terminated.
func track(ens *harness.Ensemble, rec *reports.Record) {
	if ens == nil || rec == nil {
		return
	}
	// One record may span several ensembles (F4's experiment, F1's replays): keep
	// every lane seen.
	names := append([]string(nil), rec.Nodes...)
	for _, n := range nodeNames(ens) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	rec.SetNodes(names...)
	ens.Watch(time.Second, func(n *harness.Node, m harness.Mode) { rec.State(n.Name, string(m)) })
}

func status(works bool) string {
	if works {
		return reports.FixWorks
	}
	return reports.FixFails
}
