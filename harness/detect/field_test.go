package detect

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fieldEntry is one row of fixtures/field/SOURCES.tsv: a real excerpt a
// ZooKeeper user published, its label (F1..F5, "F1|F4" for a stuck election
// either could explain, healthy, or other: a failure none of F1-F5) and the
// grade expected (found, suspected, none), and its set: "tune" (the
// detectors' rules were written or changed while looking at it) or
// "holdout" (added before the detectors were run on it, never tuned on).
type fieldEntry struct{ file, label, expect, source, set string }

func readFieldSources(t *testing.T) []fieldEntry {
	t.Helper()
	f, err := os.Open(fixtures + "field/SOURCES.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fieldEntry
	sc := bufio.NewScanner(f)
	for first := true; sc.Scan(); first = false {
		c := strings.Split(sc.Text(), "\t")
		if first || len(c) < 4 {
			continue
		}
		set := "tune"
		if len(c) > 6 && c[6] != "" {
			set = c[6]
		}
		out = append(out, fieldEntry{c[0], c[1], c[2], c[3], set})
	}
	return out
}

// diagnoseField runs the detectors on one excerpt as `zkchaos diagnose`
// would: a .txt is netstat/ss output, anything else a log. A tune failure
// excerpt must be recognised as ZooKeeper's; a held-out one that is not counts
// as a miss against the floor; a negative may hold none of its lines (a Kafka
// broker's own log), which diagnose reports as such.
func diagnoseField(t *testing.T, file, label, set string) []Finding {
	t.Helper()
	p := fixtures + "field/" + file
	r, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	if strings.HasSuffix(file, ".txt") {
		obs, err := ParseNet(name, r)
		if err != nil {
			t.Fatal(err)
		}
		return Detect(Observations{Net: []NetObservation{obs}})
	}
	n, err := ScanLog(name, r)
	if err != nil {
		t.Fatal(err)
	}
	if n.Events == 0 && !n.Layout && label != "healthy" && label != "other" {
		if set == "tune" {
			t.Errorf("%s: no ZooKeeper line recognised", file)
		} else {
			t.Logf("%s: %s: no ZooKeeper line recognised", set, file)
		}
	}
	return Detect(Observations{Logs: []*NodeLog{n}})
}

// fieldScore is the result on one set of the corpus.
type fieldScore struct {
	hits, positives, alarms, negatives, gradeOK int
	perLabel                                    map[string][2]int
}

func (sc fieldScore) String() string {
	var labels []string
	for l, c := range sc.perLabel {
		labels = append(labels, fmt.Sprintf("%s %d/%d", l, c[0], c[1]))
	}
	return fmt.Sprintf("recall %d/%d, false alarms %d/%d, grade as labelled %d/%d; per label (right/total): %s",
		sc.hits, sc.positives, sc.alarms, sc.negatives, sc.gradeOK, sc.hits, strings.Join(sortedStrings(labels), ", "))
}

// TestFieldCorpus scores the detectors on the field corpus, per set: recall
// on the failure excerpts (the labelled failure among the findings) and
// false alarms on the healthy and other excerpts (any finding of F1-F5).
// The tune set must score perfectly (its rules were written against it);
// the holdout set's floor is its measured result when its excerpts were
// added, before any rule looked at them: a change that lowers it fails.
func TestFieldCorpus(t *testing.T) {
	floors := map[string]struct {
		minHits, maxAlarms int
		all                bool
	}{
		"tune":    {all: true},
		"holdout": {minHits: holdoutMinHits, maxAlarms: holdoutMaxAlarms},
	}
	scores := map[string]*fieldScore{}
	for _, e := range readFieldSources(t) {
		sc := scores[e.set]
		if sc == nil {
			sc = &fieldScore{perLabel: map[string][2]int{}}
			scores[e.set] = sc
		}
		fs := diagnoseField(t, e.file, e.label, e.set)
		var got []string
		for _, f := range fs {
			got = append(got, fmt.Sprintf("%s/%s", f.Failure, f.GradeOrFound()))
		}
		c := sc.perLabel[e.label]
		c[1]++
		switch e.label {
		case "healthy", "other":
			sc.negatives++
			if len(fs) > 0 {
				sc.alarms++
				t.Logf("%s: false alarm on %s (%s): %s", e.set, e.file, e.label, strings.Join(got, ", "))
			} else {
				c[0]++
			}
		default:
			sc.positives++
			hit, graded := false, false
			for _, f := range fs {
				if strings.Contains(e.label, string(f.Failure)) {
					hit = true
					graded = graded || string(f.GradeOrFound()) == e.expect
				}
			}
			if hit {
				sc.hits++
				c[0]++
				if graded {
					sc.gradeOK++
				} else {
					t.Logf("%s: %s: right failure, grade differs from %s: %s", e.set, e.file, e.expect, strings.Join(got, ", "))
				}
			} else {
				t.Logf("%s: missed %s (%s): %s", e.set, e.file, e.label, strings.Join(got, ", "))
			}
		}
		sc.perLabel[e.label] = c
	}
	for _, set := range sortedStrings(mapKeys(scores)) {
		sc := scores[set]
		t.Logf("field corpus, %s set: %s", set, sc)
		fmt.Printf("field corpus, %s set: recall %d/%d, false alarms %d/%d\n", set, sc.hits, sc.positives, sc.alarms, sc.negatives)
		fl, ok := floors[set]
		if !ok {
			t.Errorf("SOURCES.tsv: unknown set %q (tune or holdout)", set)
			continue
		}
		minHits, maxAlarms := fl.minHits, fl.maxAlarms
		if fl.all {
			minHits, maxAlarms = sc.positives, 0
		}
		if sc.positives == 0 || sc.hits < minHits || sc.alarms > maxAlarms {
			t.Errorf("%s set below its floor: recall %d/%d (want >= %d), false alarms %d (want <= %d)", set, sc.hits, sc.positives, minHits, sc.alarms, maxAlarms)
		}
	}
}

// The holdout set's floor: its score when measured (see fixtures/field/README.md).
// The later held-out excerpts added two false alarms no rule was changed for
// (other/smart-cluster-blog-hosts-loopback.log,
// other/slow-leader-shutdown-fastforward.log), so they stay counted, and one
// miss (F1F4/bitnami-zookeeper-29-leader-sees-round-0xb.log, the leader's side
// of an ensemble that never forms). The fourth batch, measured before any rule
// looked at it, added two misses (F3 reports in prose) and three false alarms
// (a lone node's long time out, a firewall on every node); one of each led to
// a rule change and moved to tune, so what is held out scores recall 17 of 19,
// false alarms 4 of 26. The fifth batch, measured before any rule looked at it,
// found 4 of 4 failures with 0 false alarms on 4 negatives: the holdout set now
// scores recall 21 of 23, false alarms 4 of 30. One of the fifth batch's
// (F2/druid-runbook-currentepoch-enospc.log, graded suspected where found was
// labelled) led to a rule change and moved to tune: what is held out scores
// recall 20 of 22, false alarms 4 of 30. The sixth batch, measured before any
// rule looked at it, found 0 of 2 failures (a Too many connections line with
// en dashes for its separators, a du listing of a ZooKeeper data directory
// filling a disk) with 0 false alarms on 2 negatives: recall 20 of 24, false
// alarms 4 of 32. The dashes led to a rule change and that excerpt moved to
// tune: what is held out scores recall 20 of 23, false alarms 4 of 32.
// Then the four false alarms led to rule changes (a stuck election needs two
// time outs; the peer side needs its failure repeated, growing time outs or a
// dial-back by the listener) and moved to tune with the F4 excerpt the
// dial-back rule was checked on; one held-out F1|F4 excerpt, a single 60000 ms
// time out, is missed since: what is held out scores recall 18 of 22, false
// alarms 0 of 28. The seventh batch (5 failures, 16 negatives), measured
// before any rule looked at it (and the same under the rules before the
// change above): recall 3 of 5, false alarms 4 of 16 (three client lines
// "…sessionid 0x0, likely server has closed socket" read as F3, a Python
// tool's "No space left on device" under a path holding "zookeeper" read as
// F2). Those four led to rule changes and moved to tune: what is held out
// scores recall 21 of 27, false alarms 0 of 40. The eighth batch (10
// negatives) raised nothing: false alarms 0 of 50; the ninth (6 negatives)
// too: 0 of 56. A held-out miss (a server exiting at start over a
// transaction log cut short, after a full disk) led to the rule for a data
// file cut short and moved to tune: what is held out scores recall 21 of 26.
// The tenth batch (1 failure, 7 negatives), measured before any rule looked
// at it: recall 1 of 1, false alarms 0 of 7; held out now: recall 22 of 27,
// false alarms 0 of 63.
const holdoutMinHits, holdoutMaxAlarms = 22, 0

func mapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}
