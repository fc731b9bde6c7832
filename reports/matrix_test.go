package reports

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/matrix.golden.md")

func matrixRecords() []*Record {
	rec := func(s, title, v string, verdict Verdict) *Record {
		return &Record{Scenario: s, Title: title, Version: v, Verdict: verdict}
	}
	f1 := "A restarted node and the running quorum's election round (ZOOKEEPER-1514)"
	return []*Record{
		rec("smoke", "Ensemble starts and serves", "3.9.3", Verdict{Reproduced: true, Detected: true, Fixed: true}),
		rec("F3", "Some processes on one client host cannot connect (maxClientCnxns)", "3.10.0", Verdict{Reproduced: true, Detected: true, Fix: FixWorks}),
		rec("F1", f1, "3.9.3", Verdict{Triggered: true, FixedInVersion: true, Notes: []string{"ZOOKEEPER-1514 is fixed in 3.9.3: a node restarted into a quorum 8 rounds ahead rejoined"}}),
		rec("F1", f1, "3.4.13", Verdict{Triggered: true, FixedInVersion: true}),
		rec("F5", "A short-connection flood overflows the client port's listen backlog of 50", "3.4.13", Verdict{Reproduced: true, Detected: true, Fix: FixNotAvailable,
			Notes: []string{"clientPortListenBacklog (ZOOKEEPER-974, 3.6.0+) is not available in 3.4.13", "fix table (same 8000/s flood):\nvariant | backlog | overflows\nbaseline | 50 | 18234\n```kernel``` | 50 | 17990"}}),
		rec("F5", "A short-connection flood overflows the client port's listen backlog of 50", "3.9.3", Verdict{Reproduced: true, Detected: true, Fix: FixWorks}),
		rec("F2-disk-full", "dataDir on a small disk: nodes die until the quorum is lost", "3.8.0", Verdict{Reproduced: true, Detected: true, Fix: FixFails,
			Notes: []string{"autopurge does not save a disk filled by a burst: *purgeInterval* is a whole number of hours"}}),
		rec("F2", "Transaction logs and snapshots fill dataDir/version-2", "3.8.0", Verdict{Reproduced: true, Detected: true, Fixed: true}),
		rec("F4-restart-order", "Restart orders × triggers | does the smallest myid rejoin?", "3.9.3", Verdict{Reproduced: true}),
		rec("F2-prealloc", "Disk footprint with preAllocSize 64 MiB and 4 MiB", "3.9.3", Verdict{}),
		rec("F10", "a later failure", "3.8.0", Verdict{Detected: true}),
	}
}

func TestMatrixGolden(t *testing.T) {
	var b bytes.Buffer
	link := func(r *Record) string { return fileName(r) + ".html#run-" + fileName(r) }
	if err := Matrix(matrixRecords(), &b, link); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "matrix.golden.md")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -run TestMatrixGolden -update)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("matrix differs from %s (rerun with -update if intended):\n%s", golden, b.String())
	}
}

func TestScenarioOrder(t *testing.T) {
	m := buildMatrix(matrixRecords(), nil)
	var got []string
	for _, r := range m.Rows {
		got = append(got, r.Scenario)
	}
	want := []string{"F1", "F2", "F2-disk-full", "F2-prealloc", "F3", "F4-restart-order", "F5", "F10", "smoke"}
	if len(got) != len(want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("rows %q, want %q", got, want)
		}
	}
	if v := m.Versions; len(v) != 4 || v[0] != "3.4.13" || v[3] != "3.10.0" {
		t.Errorf("versions %q", v)
	}
}

func TestExplorationCellReportsStaleSyncReads(t *testing.T) {
	r := &Record{Scenario: "explore", Version: "3.9.3", Verdict: Verdict{Checks: []CheckResult{{Name: "linearizable (writes)", Held: true}}},
		Figures: map[string]float64{"faults": 5, "fault_kinds": 5, "sync_reads_linearizable": 0, "stale_sync_reads": 1}}
	got := CellText(r)
	want := "5 faults of 5 kinds · writes linearizable ✓ · every check held ✓ · sync+reads not linearizable (1 stale, ZOOKEEPER-1675)"
	if got != want {
		t.Errorf("cell %q, want %q", got, want)
	}
	r.Figures["sync_reads_linearizable"] = 1
	if got := CellText(r); strings.Contains(got, "sync+reads") {
		t.Errorf("cell %q speaks of sync+reads that were linearizable", got)
	}
}
