package main

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/history"
	"github.com/zkchaos/zkchaos/reports"
	"github.com/zkchaos/zkchaos/scenarios"
)

// Real run records (testdata/records, written by `zkchaos run` and the suite on
// this project's machines) pass the gate as they are.
func TestGatePassesRealRecords(t *testing.T) {
	recs := realRecords(t)
	var results []runResult
	for _, r := range recs {
		res := judgeRun(r, "", nil, 0)
		if !res.Passed || res.Expected == nil {
			t.Errorf("%s on %s: passed %v, expected %v, problems %v", r.Scenario, r.Version, res.Passed, res.Expected, res.Problems)
		}
		results = append(results, res)
	}
	if err := gate(results); err != nil {
		t.Fatal(err)
	}
}

// A real record whose verdict differs from the table fails the gate with exit 1:
// F5 on 3.4.13 really says the backlog fix is not available; a table that
// expected it to work is not met.
func TestGateVerdictMismatch(t *testing.T) {
	rec := realRecord(t, "F5", "3.4.13")
	if got := rec.Verdict.Fix; got != reports.FixNotAvailable {
		t.Fatalf("the recorded F5 run on 3.4.13 says fix %q", got)
	}
	saved := scenarios.Expected["F5"]
	t.Cleanup(func() { scenarios.Expected["F5"] = saved })
	scenarios.Expected["F5"] = map[string]scenarios.Expectation{"3.4.13": {Reproduced: true, Detected: true, Fix: reports.FixWorks}}
	res := judgeRun(rec, "", nil, 0)
	if res.Passed || len(res.Problems) != 1 {
		t.Fatalf("passed %v, problems %v", res.Passed, res.Problems)
	}
	if code := exitCode(gate([]runResult{res})); code != exitFindings {
		t.Fatalf("exit %d, want %d", code, exitFindings)
	}
}

// An upgrade whose history is not linearizable, or that lost an acknowledged
// seed, fails the gate with exit 1 although its verdict matches the table. The
// history is a real one (harness/history/testdata: stale plain reads on a 3.9.3
// follower), checked as if plain reads had to be linearizable: porcupine really
// finds it Illegal.
func TestGateUpgradeChecks(t *testing.T) {
	h, err := history.Load(filepath.Join("..", "..", "harness", "history", "testdata", "zk-3.9.3-stale-follower-read.json"))
	if err != nil {
		t.Fatal(err)
	}
	strict, err := history.Check(h, history.Options{Timeout: time.Minute, CheckPlainReadsAsLinearizable: true})
	if err != nil || strict.Linearizable {
		t.Fatalf("the stale-read history checked strictly: %s, %v", strict, err)
	}
	ok, err := history.Check(h, history.Options{Timeout: time.Minute})
	if err != nil || !ok.Linearizable {
		t.Fatalf("the stale-read history checked as ZooKeeper promises: %s, %v", ok, err)
	}
	from, _ := harness.LookupVersion("3.8.0")
	to, _ := harness.LookupVersion("3.9.3")
	judge := func(check history.Result, intact int) runResult {
		u := scenarios.NewUpgrade(from, to, 3, nil)
		rec := u.Record
		res := scenarios.UpgradeResult{History: h, Stats: h.Stats(), Check: check, SeedsIntact: intact}
		rec.Trigger(true, "", "3 of 3 nodes swapped")
		rec.Failure(false, "", "every node served on 3.9.3")
		u.RecordChecks(rec, res, "")
		rec.Check("the upgrade completes", true, "", "3 of 3 nodes swapped and serving")
		return judgeRun(rec, "", nil, 0)
	}
	if res := judge(ok, 20); !res.Passed {
		t.Fatalf("a linearizable upgrade with every seed: %v", res.Problems)
	}
	for name, res := range map[string]runResult{"not linearizable": judge(strict, 20), "a lost seed": judge(ok, 19)} {
		if res.Passed || exitCode(gate([]runResult{res})) != exitFindings {
			t.Errorf("%s: passed %v, problems %v", name, res.Passed, res.Problems)
		}
	}
}

// A run that could not finish is exit 3, before any difference.
func TestGateUnfinished(t *testing.T) {
	rec := realRecord(t, "F5", "3.4.13")
	res := judgeRun(rec, "", errors.New("engine: connection refused"), 0)
	if code := exitCode(gate([]runResult{judgeRun(rec, "", nil, 0), res})); code != exitUnfinished {
		t.Fatalf("exit %d", code)
	}
}

func realRecords(t *testing.T) []*reports.Record {
	t.Helper()
	recs, err := reports.LoadDir(filepath.Join("testdata", "records"))
	if err != nil || len(recs) == 0 {
		t.Fatalf("testdata/records: %d records, %v", len(recs), err)
	}
	return recs
}

func realRecord(t *testing.T, scenario, version string) *reports.Record {
	t.Helper()
	for _, r := range realRecords(t) {
		if r.Scenario == scenario && r.Version == version {
			return r
		}
	}
	t.Fatalf("no %s-%s record in testdata/records", scenario, version)
	return nil
}
