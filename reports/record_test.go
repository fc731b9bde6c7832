package reports

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNormalizeState(t *testing.T) {
	for in, want := range map[string]string{
		"leader": StateLeading, "LEADING": StateLeading, "follower": StateFollowing, " Following ": StateFollowing,
		"observer": StateObserving, "standalone": StateStandalone, "not-serving": StateLooking, "looking": StateLooking,
		"down": StateDown, "DOWN": StateDown, "syncing": "SYNCING", "": "",
	} {
		if got := NormalizeState(in); got != want {
			t.Errorf("NormalizeState(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStateRecordsChangesOnly(t *testing.T) {
	r := New("F1", "t", "3.8.0")
	for _, s := range []string{"not-serving", "not-serving", "follower", "FOLLOWING", "down", "down", "follower"} {
		r.State("zk2", s)
	}
	r.State("zk1", "leader")
	var got []string
	for _, e := range r.Timeline {
		got = append(got, e.Text)
	}
	want := []string{"zk2 LOOKING", "zk2 LOOKING → FOLLOWING", "zk2 FOLLOWING → DOWN", "zk2 DOWN → FOLLOWING", "zk1 LEADING"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("timeline %q, want %q", got, want)
	}
	if r.Timeline[1].State != StateFollowing || r.Timeline[1].Kind != KindState {
		t.Errorf("event %+v", r.Timeline[1])
	}
}

func TestConcurrentUse(t *testing.T) {
	r := New("F5", "t", "3.9.3")
	r.SetNodes("zk1", "zk2", "zk3")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				r.State("zk1", []string{"leader", "follower"}[j%2])
				r.FaultSpan("zk2", time.Now(), time.Now().Add(time.Second), "pause %d", j)
				r.Figure("x", float64(j))
				_ = r.HTML(discard{})
			}
		}()
	}
	wg.Wait()
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestRoundTripAndLoadDir(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"3.10.0", "3.4.13", "3.9.3"} {
		for _, s := range []string{"F3", "F1"} {
			r := New(s, "t", v)
			r.SetNodes("zk1", "zk2")
			start := time.Now().UTC()
			r.FaultSpan("zk1", start, start.Add(2*time.Second), "paused")
			r.Add(KindFault, "zk2", "killed")
			r.Verdict.Fix = FixNotAvailable
			if _, err := r.WriteJSON(dir); err != nil {
				t.Fatal(err)
			}
		}
	}
	records, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range records {
		got = append(got, r.Scenario+"-"+r.Version)
	}
	want := "F1-3.4.13 F1-3.9.3 F1-3.10.0 F3-3.4.13 F3-3.9.3 F3-3.10.0"
	if strings.Join(got, " ") != want {
		t.Errorf("LoadDir order %q, want %q", got, want)
	}
	r := records[0]
	if len(r.Nodes) != 2 || r.Verdict.Fix != FixNotAvailable || r.Timeline[0].End.Sub(r.Timeline[0].Time) != 2*time.Second {
		t.Errorf("round trip lost fields: %+v", r)
	}
	if !r.Timeline[1].End.IsZero() {
		t.Errorf("an instantaneous fault came back with an end")
	}
	b, _ := os.ReadFile(filepath.Join(dir, "F1-3.4.13.json"))
	if strings.Count(string(b), `"end"`) != 1 {
		t.Errorf("zero End written to JSON:\n%s", b)
	}
	r.Figure("after_load", 1) // Figures exists after Load
}

func TestOldRecordsStillLoad(t *testing.T) {
	old := `{"scenario":"F2","title":"t","version":"3.8.0","started":"2026-01-01T00:00:00Z","ended":"2026-01-01T00:01:00Z",
"verdict":{"reproduced":true,"detected":true,"fixed":true},"timeline":[{"time":"2026-01-01T00:00:01Z","kind":"state","node":"zk1","text":"at the end: follower"}]}`
	var r Record
	if err := json.Unmarshal([]byte(old), &r); err != nil {
		t.Fatal(err)
	}
	if r.Verdict.FixStatus() != FixWorks {
		t.Errorf("Fixed without Fix: status %q, want %q", r.Verdict.FixStatus(), FixWorks)
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"3.4.13", "3.8.0", -1}, {"3.10.0", "3.9.3", 1}, {"3.9.3", "3.9.3", 0}, {"3.9", "3.9.0", -1},
		{"3.9.0", "3.9.0-beta", -1}, {"3.5.0-alpha", "3.5.0-beta", -1}, {"", "3.4.0", -1},
	} {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
