package reports

import (
	"encoding/json"
	"strings"
	"testing"
)

// The verdict is a function of the observations: each rule of docs/verdicts.md.
func TestJudge(t *testing.T) {
	for _, tc := range []struct {
		name    string
		observe func(r *Record)
		want    Verdict
	}{
		{"a failure without its trigger is not reproduced", func(r *Record) {
			r.Trigger(false, "host-a", "11 of 12 sessions tried")
			r.Failure(true, "zk1", "sessions 11 and 12 refused")
		}, Verdict{}},
		{"every failure observation must hold", func(r *Record) {
			r.Trigger(true, "", "applied")
			r.Failure(true, "zk1", "refused")
			r.Failure(false, "zk1", "no log line")
		}, Verdict{Triggered: true}},
		{"reproduced, detected, the documented fix works; others listed", func(r *Record) {
			r.Trigger(true, "", "applied")
			r.Failure(true, "zk1", "refused")
			r.Finding(true, "zk1", "F3 on zk1")
			r.FixOutcome("client side", FixWorks, "", "shared sessions")
			r.FixOutcome("documented", FixWorks, "", "raised")
		}, Verdict{Triggered: true, Reproduced: true, Detected: true, Fixed: true, Fix: FixWorks}},
		{"a fix tried with nothing to fix is not tried", func(r *Record) {
			r.Trigger(true, "", "applied")
			r.Failure(false, "zk1", "rejoined")
			r.FixOutcome("documented", FixWorks, "", "leader restarted")
		}, Verdict{Triggered: true, Fix: FixNotTried}},
		{"not available stands without a reproduction", func(r *Record) {
			r.Trigger(true, "", "applied")
			r.Failure(false, "zk1", "no overflow")
			r.FixOutcome("documented", FixNotAvailable, "", "Send-Q still 50")
		}, Verdict{Triggered: true, Fix: FixNotAvailable}},
		{"fixed in this version only for a regression whose trigger was seen", func(r *Record) {
			r.Regression = "ZOOKEEPER-1514"
			r.Trigger(true, "", "round gap")
			r.Failure(false, "zk2", "rejoined")
		}, Verdict{Triggered: true, FixedInVersion: true}},
		{"a regression whose trigger was not seen is not fixed in this version", func(r *Record) {
			r.Regression = "ZOOKEEPER-1514"
			r.Trigger(false, "", "no round gap")
			r.Failure(false, "zk2", "rejoined")
		}, Verdict{}},
		{"the last outcome of a fix counts", func(r *Record) {
			r.Trigger(true, "", "applied")
			r.Failure(true, "zk1", "stuck")
			r.FixOutcome("documented", FixFails, "", "first stuck case")
			r.FixOutcome("documented", FixWorks, "", "second")
		}, Verdict{Triggered: true, Reproduced: true, Fixed: true, Fix: FixWorks}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New("F9", "x", "0.0.0")
			r.DocumentedFix = "documented"
			tc.observe(r)
			got := r.Verdict
			if got.Triggered != tc.want.Triggered || got.Reproduced != tc.want.Reproduced || got.FixedInVersion != tc.want.FixedInVersion ||
				got.Detected != tc.want.Detected || got.Fixed != tc.want.Fixed || got.Fix != tc.want.Fix {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if len(got.Evidence) != len(r.Observations) {
				t.Errorf("%d evidence lines for %d observations", len(got.Evidence), len(r.Observations))
			}
		})
	}
}

func TestChecks(t *testing.T) {
	r := New("upgrade-from-3.8.0", "x", "3.9.3")
	r.Check("linearizable", true, "", "ok")
	r.Check("seeds intact", true, "", "20 of 20")
	if f := r.Verdict.FailedChecks(); len(f) != 0 {
		t.Fatalf("failed %v", f)
	}
	r.Check("seeds intact", false, "", "19 of 20") // the last outcome counts
	if f := r.Verdict.FailedChecks(); len(f) != 1 || f[0] != "seeds intact" || len(r.Verdict.Checks) != 2 {
		t.Fatalf("failed %v, checks %+v", f, r.Verdict.Checks)
	}
	if got := CellText(r); !strings.Contains(got, "check failed: seeds intact ✗") || strings.Contains(got, "served throughout") {
		t.Errorf("cell: %s", got)
	}
}

// A record keeps its observations: loaded back, it says the same.
func TestObservationsRoundTrip(t *testing.T) {
	r := New("F3", "x", "3.9.3")
	r.DocumentedFix = "raise"
	r.Trigger(true, "host-a", "12 tried")
	r.Failure(true, "zk1", "2 refused")
	r.FixOutcome("raise", FixWorks, "", "12 of 12")
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Record
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Observations) != 3 || !back.Verdict.Reproduced || back.Verdict.Fix != FixWorks || back.DocumentedFix != "raise" {
		t.Fatalf("%+v", back.Verdict)
	}
}
