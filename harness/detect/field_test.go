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
// grade expected (found, suspected, none).
type fieldEntry struct{ file, label, expect, source string }

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
		out = append(out, fieldEntry{c[0], c[1], c[2], c[3]})
	}
	return out
}

// diagnoseField runs the detectors on one excerpt as `zkchaos diagnose`
// would: a .txt is netstat/ss output, anything else a log.
func diagnoseField(t *testing.T, file string) []Finding {
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
	if n.Events == 0 && !n.Layout {
		t.Errorf("%s: no ZooKeeper line recognised", file)
	}
	return Detect(Observations{Logs: []*NodeLog{n}})
}

// TestFieldCorpus scores the detectors on the field corpus: recall on the
// failure excerpts (the labelled failure among the findings) and false
// alarms on the healthy and other excerpts (any finding of F1-F5). The
// floors are the measured result when written; a change that lowers them
// fails here.
func TestFieldCorpus(t *testing.T) {
	const minRecall, maxFalseAlarms = 1.0, 0
	entries := readFieldSources(t)
	var hits, positives, alarms, negatives, gradeOK int
	perLabel := map[string][2]int{}
	for _, e := range entries {
		fs := diagnoseField(t, e.file)
		var got []string
		for _, f := range fs {
			got = append(got, fmt.Sprintf("%s/%s", f.Failure, f.GradeOrFound()))
		}
		c := perLabel[e.label]
		c[1]++
		switch e.label {
		case "healthy", "other":
			negatives++
			if len(fs) > 0 {
				alarms++
				t.Errorf("false alarm on %s (%s): %s", e.file, e.label, strings.Join(got, ", "))
			} else {
				c[0]++
			}
		default:
			positives++
			hit, graded := false, false
			for _, f := range fs {
				if strings.Contains(e.label, string(f.Failure)) {
					hit = true
					graded = graded || string(f.GradeOrFound()) == e.expect
				}
			}
			if hit {
				hits++
				c[0]++
				if graded {
					gradeOK++
				} else {
					t.Logf("%s: right failure, grade differs from %s: %s", e.file, e.expect, strings.Join(got, ", "))
				}
			} else {
				t.Errorf("missed %s (%s): %s", e.file, e.label, strings.Join(got, ", "))
			}
		}
		perLabel[e.label] = c
	}
	var labels []string
	for l, c := range perLabel {
		labels = append(labels, fmt.Sprintf("%s %d/%d", l, c[0], c[1]))
	}
	t.Logf("field corpus: recall %d/%d, false alarms %d/%d, grade as labelled %d/%d; per label (right/total): %s",
		hits, positives, alarms, negatives, gradeOK, hits, strings.Join(sortedStrings(labels), ", "))
	fmt.Printf("field corpus: recall %d/%d, false alarms %d/%d\n", hits, positives, alarms, negatives)
	if positives == 0 || float64(hits) < minRecall*float64(positives) || alarms > maxFalseAlarms {
		t.Errorf("below the floor: recall %d/%d (want >= %.0f%%), false alarms %d (want <= %d)", hits, positives, 100*minRecall, alarms, maxFalseAlarms)
	}
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}
