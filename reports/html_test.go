package reports

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// page is what a test sees of a rendered page, read the way a lenient HTML
// reader would (encoding/xml in non-strict mode with HTML's rules).
type page struct {
	lanes    []string       // data-lane values, in order
	rows     []string       // data-row values
	elements map[string]int // element counts by local name
	text     string         // character data, entities decoded
	runs     [][]string     // data-lane values per <section class="run">
}

func parsePage(b []byte) (*page, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	p := &page{elements: map[string]int{}}
	var text strings.Builder
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			p.elements[strings.ToLower(t.Name.Local)]++
			for _, a := range t.Attr {
				switch {
				case a.Name.Local == "data-lane":
					p.lanes = append(p.lanes, a.Value)
					if len(p.runs) > 0 {
						p.runs[len(p.runs)-1] = append(p.runs[len(p.runs)-1], a.Value)
					}
				case a.Name.Local == "data-row":
					p.rows = append(p.rows, a.Value)
				case a.Name.Local == "class" && a.Value == "run" && t.Name.Local == "section":
					p.runs = append(p.runs, nil)
				}
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			text.Write(t)
		}
	}
	if depth != 0 {
		return nil, errors.New("unbalanced elements at the end of the page")
	}
	p.text = text.String()
	return p, nil
}

var t0 = time.Date(2026, 11, 25, 20, 32, 14, 0, time.UTC)

func sec(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// f5Record is what F5 on 3.4.13 writes: a flood lasting 20 s, nodes' states,
// client failures, a finding, and a fix not available on this version.
func f5Record() *Record {
	r := &Record{Scenario: "F5", Title: "A short-connection flood overflows the client port's listen backlog of 50", Version: "3.4.13",
		Started: t0, Ended: sec(62), Nodes: []string{"zk1", "zk2", "zk3"}, Figures: map[string]float64{
			"baseline: ListenOverflows delta": 18234, "baseline: client failures": 611, "p99_connect_ms": 1031.25}}
	add := func(s float64, kind, node, text, state string) {
		r.Timeline = append(r.Timeline, Event{Time: sec(s), Kind: kind, Node: node, Text: text, State: state})
	}
	add(0.1, KindStep, "", `variant "baseline": starting the ensemble`, "")
	for i, n := range r.Nodes {
		add(0.8+float64(i)*0.1, KindState, n, n+" LOOKING", StateLooking)
	}
	add(4.2, KindState, "zk2", "zk2 LOOKING → LEADING", StateLeading)
	add(4.4, KindState, "zk1", "zk1 LOOKING → FOLLOWING", StateFollowing)
	add(4.5, KindState, "zk3", "zk3 LOOKING → FOLLOWING", StateFollowing)
	r.Timeline = append(r.Timeline, Event{Time: sec(8), End: sec(28), Kind: KindFault, Node: "zk1",
		Text: `variant "baseline": flood at 8000/s for 20s from a client host`})
	for s := 9.0; s < 28; s += 3 {
		add(s, KindClient, "10.199.4.101", "connect: connection timed out (127 so far)", "")
	}
	add(28.5, KindEvidence, "zk1", "ss -ltn: LISTEN 0 50 0.0.0.0:2181 — Send-Q (backlog) 50", "")
	add(29, KindFinding, "zk1", "F5: TcpExt ListenOverflows +18234, ListenDrops +18234 | Send-Q 50", "")
	add(31, KindFix, "", "clientPortListenBacklog=1024", "")
	add(31.5, KindState, "zk1", "zk1 FOLLOWING → DOWN", StateDown)
	add(34, KindState, "zk1", "zk1 DOWN → LOOKING", StateLooking)
	add(35.5, KindState, "zk1", "zk1 LOOKING → FOLLOWING", StateFollowing)
	add(36, KindFault, "zk1", "flood again at 8000/s", "")
	add(56, KindEvidence, "zk1", "clientPortListenBacklog=1024 set, Send-Q still 50: fix not available in 3.4.13", "")
	add(57, KindFinding, "zk1", "F5: ListenOverflows +17002 <again>", "")
	r.Verdict = Verdict{Reproduced: true, Detected: true, Fix: FixNotAvailable,
		Evidence: []string{"backlog 50; ListenOverflows +18234, ListenDrops +18234 during a 8000/s flood", `log: "Too many connections" <b>bold</b> & more`},
		Notes: []string{"clientPortListenBacklog (ZOOKEEPER-974, 3.6.0+) is not available in 3.4.13: the key is ignored, the backlog stays 50",
			"fix table:\nvariant   backlog  overflows\nbaseline  50       18234\nkernel    50       17990"}}
	return r
}

func render(t testing.TB, r *Record) ([]byte, *page) {
	t.Helper()
	var b bytes.Buffer
	if err := r.HTML(&b); err != nil {
		t.Fatalf("HTML: %v", err)
	}
	p, err := parsePage(b.Bytes())
	if err != nil {
		t.Fatalf("the page does not parse: %v\n%s", err, b.String())
	}
	return b.Bytes(), p
}

func oneLaneEach(t *testing.T, lanes, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, l := range lanes {
		count[l]++
	}
	for _, n := range want {
		if count[n] != 1 {
			t.Errorf("lane %s: %d elements with data-lane, want 1 (lanes %q)", n, count[n], lanes)
		}
	}
	if len(lanes) != len(want) {
		t.Errorf("lanes %q, want %q", lanes, want)
	}
}

func TestHTMLRecord(t *testing.T) {
	b, p := render(t, f5Record())
	oneLaneEach(t, p.lanes, []string{"zk1", "zk2", "zk3"})
	if p.elements["script"] != 0 {
		t.Errorf("%d script elements", p.elements["script"])
	}
	if !bytes.Contains(b, []byte("&lt;b&gt;bold&lt;/b&gt; &amp; more")) {
		t.Errorf("evidence not escaped")
	}
	if !strings.Contains(p.text, `"Too many connections" <b>bold</b> & more`) {
		t.Errorf("the evidence line does not read as it was recorded")
	}
	for _, want := range []string{"not available on this version", "✓ yes", "LEADING", "FOLLOWING", "fault lasting",
		"flood at 8000/s for 20s", "connection timed out", "18234", "1031.25", "baseline  50       18234"} {
		if !strings.Contains(p.text, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if !bytes.Contains(b, []byte(`class="span"`)) {
		t.Errorf("the flood is not drawn as a span")
	}
	if !bytes.Contains(b, []byte(`data-row="clients"`)) {
		t.Errorf("no client row")
	}
	// Five marks: two faults (one lasting), the fix, two findings.
	if got := bytes.Count(b, []byte(`<g class="badge `)); got != 5 {
		t.Errorf("%d badges, want 5 (2 faults, 1 fix, 2 findings)", got)
	}
}

func TestHTMLCapturedRecords(t *testing.T) {
	for _, tc := range []struct {
		file  string
		lanes []string
		want  []string
	}{
		{"F3-3.8.0.json", []string{"zk1", "zk2", "zk3"}, []string{"Too many connections from /10.199.4.101 - max is 10", "✓ works", "zk_connection_rejected_delta"}},
		// Written before Nodes and State existed: lanes come from the events.
		{"F1-3.9.3.json", []string{"zk1", "zk2", "zk3"}, []string{"n.round:0x9", "ZOOKEEPER-1514 is fixed in 3.9.3", "fixed in this version", "– not tried"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, err := Load(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			_, p := render(t, r)
			oneLaneEach(t, p.lanes, tc.lanes)
			for _, w := range tc.want {
				if !strings.Contains(p.text, w) {
					t.Errorf("page lacks %q", w)
				}
			}
		})
	}
}

func TestHTMLScriptInEvidence(t *testing.T) {
	r := f5Record()
	r.Nodes = append(r.Nodes, `zk4"><script>alert(1)</script>`)
	r.Scenario = "<script>alert('s')</script>"
	r.Verdict.Evidence = append(r.Verdict.Evidence, "<script>alert(document.cookie)</script>")
	r.Timeline = append(r.Timeline,
		Event{Time: sec(40), Kind: KindEvidence, Node: "zk1", Text: "<script>alert(2)</script>"},
		Event{Time: sec(41), Kind: KindFinding, Node: "zk2", Text: "</title><script>alert(3)</script>"},
		Event{Time: sec(42), Kind: KindState, Node: "zk3", Text: "x", State: "<script>"})
	r.Figures["<script>f</script>"] = 1
	b, p := render(t, r)
	if n := p.elements["script"]; n != 0 {
		t.Fatalf("%d script elements:\n%s", n, b)
	}
	if !strings.Contains(p.text, "<script>alert(document.cookie)</script>") {
		t.Errorf("the evidence line is not shown as text")
	}
	oneLaneEach(t, p.lanes, []string{"zk1", "zk2", "zk3", `zk4"><script>alert(1)</script>`})
}

func TestIndexPage(t *testing.T) {
	var records []*Record
	for _, f := range []string{"F1-3.9.3.json", "F3-3.8.0.json"} {
		r, err := Load(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, r)
	}
	records = append(records, f5Record())
	var b bytes.Buffer
	if err := WriteHTML(records, &b); err != nil {
		t.Fatal(err)
	}
	p, err := parsePage(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.runs) != 3 {
		t.Fatalf("%d run sections, want 3", len(p.runs))
	}
	for i, lanes := range p.runs {
		oneLaneEach(t, lanes, []string{"zk1", "zk2", "zk3"}[:len(lanes)])
		if len(lanes) != 3 {
			t.Errorf("run %d: lanes %q", i, lanes)
		}
	}
	for _, want := range []string{`href="#run-F3-3.8.0"`, `id="run-F3-3.8.0"`, `class="matrix"`} {
		if !bytes.Contains(b.Bytes(), []byte(want)) {
			t.Errorf("index lacks %s", want)
		}
	}
	if !strings.Contains(p.text, "not reproduced (fixed in this version)") || !strings.Contains(p.text, "fix not available") {
		t.Errorf("matrix cells missing")
	}
}

func TestWriteAll(t *testing.T) {
	dir := t.TempDir()
	r, err := Load(filepath.Join("testdata", "F3-3.8.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	index, err := WriteAll(dir, []*Record{r, f5Record()})
	if err != nil {
		t.Fatal(err)
	}
	if index != filepath.Join(dir, "index.html") {
		t.Errorf("index %s", index)
	}
	for _, f := range []string{"index.html", "F3-3.8.0.html", "F5-3.4.13.html", "matrix.md"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".html") {
			if _, err := parsePage(b); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "matrix.md"))
	if !bytes.Contains(md, []byte("(F3-3.8.0.html#run-F3-3.8.0)")) {
		t.Errorf("matrix.md does not link the run's page:\n%s", md)
	}
}

func TestLayoutSpreadsCloseMarks(t *testing.T) {
	r := &Record{Scenario: "F1", Version: "3.8.0", Started: t0, Ended: sec(100), Nodes: []string{"zk1"}}
	for i := 0; i < 5; i++ {
		r.Timeline = append(r.Timeline, Event{Time: sec(50 + float64(i)*0.1), Kind: KindFault, Node: "zk1", Text: "kill"})
	}
	v := view(r, "x")
	bs := v.SVG.Rows[0].Badges
	if len(bs) != 5 {
		t.Fatalf("%d badges", len(bs))
	}
	for i := 1; i < len(bs); i++ {
		if bs[i].X-bs[i-1].X < badgeStep-0.01 {
			t.Errorf("badges %d and %d overlap: %.1f, %.1f", i-1, i, bs[i-1].X, bs[i].X)
		}
	}

	// More marks than fit (F4's restart cells over 20 minutes): smaller
	// badges, all inside the plot, none on top of another.
	r.Timeline = nil
	for i := 0; i < 150; i++ {
		r.Timeline = append(r.Timeline, Event{Time: sec(60 + float64(i)*0.2), Kind: KindFault, Node: "zk1", Text: "kill"})
	}
	bs = view(r, "x").SVG.Rows[0].Badges
	for i, b := range bs {
		if b.X < plotLeft || b.X > plotRight {
			t.Errorf("badge %d at %.1f, outside the plot", i, b.X)
		}
		if i > 0 && b.X-bs[i-1].X < 2*b.R-0.01 {
			t.Errorf("badges %d and %d overlap: %.1f, %.1f (r %.1f)", i-1, i, bs[i-1].X, b.X, b.R)
		}
	}
}

func FuzzHTML(f *testing.F) {
	f.Add("zk1", "zk2", "leader", "follower", "restarted", "<script>x</script>", "F3", "3.8.0", int64(1500), int64(9000))
	f.Add("", "zk1", "not-serving", "down", "a\x00b\x01", "\xff\xfe", "", "", int64(0), int64(-5))
	f.Add("zk1", "zk1", "LOOKING", "", "</title>", "]]>&amp;", "F2-disk-full", "3.10.0", int64(-1), int64(1<<40))
	f.Fuzz(func(t *testing.T, n1, n2, s1, s2, text, evidence, scenario, version string, d1, d2 int64) {
		r := New(scenario, text, version)
		r.Started = t0
		r.SetNodes(n1, n2)
		r.Timeline = append(r.Timeline,
			Event{Time: t0.Add(time.Duration(d1) * time.Millisecond), Kind: KindState, Node: n1, Text: text, State: NormalizeState(s1)},
			Event{Time: t0.Add(time.Duration(d2) * time.Millisecond), Kind: KindState, Node: n2, Text: text, State: s2},
			Event{Time: t0.Add(time.Duration(d2) * time.Millisecond), End: t0.Add(time.Duration(d1) * time.Millisecond), Kind: KindFault, Node: n2, Text: text},
			Event{Time: t0.Add(time.Duration(d1) * time.Millisecond), Kind: KindFinding, Node: n1, Text: evidence},
			Event{Time: t0.Add(time.Duration(d1+d2) * time.Millisecond), Kind: KindClient, Node: n2, Text: evidence},
			Event{Time: t0, Kind: text, Node: evidence, Text: s1},
		)
		r.State(n1, s2)
		r.Evidence(n1, "%s", evidence)
		r.Note("%s", text)
		r.Figure(evidence, float64(d1))
		r.Verdict.Fix = s1
		r.Ended = t0.Add(time.Duration(d2) * time.Millisecond)

		var b bytes.Buffer
		if err := r.HTML(&b); err != nil {
			t.Fatalf("HTML: %v", err)
		}
		p, err := parsePage(b.Bytes())
		if err != nil {
			t.Fatalf("the page does not parse: %v\n%s", err, b.String())
		}
		if p.elements["script"] != 0 {
			t.Fatalf("script element from %q", []string{n1, n2, text, evidence})
		}
		want := lanes([]string{n1, n2}, nil)
		if len(p.lanes) != len(want) {
			t.Fatalf("lanes %q, want %q", p.lanes, want)
		}
		b.Reset()
		if err := WriteHTML([]*Record{r, r}, &b); err != nil {
			t.Fatal(err)
		}
		if _, err := parsePage(b.Bytes()); err != nil {
			t.Fatalf("the index does not parse: %v", err)
		}
		if err := Matrix([]*Record{r}, io.Discard, func(*Record) string { return evidence }); err != nil {
			t.Fatal(err)
		}
	})
}

// TestWriteSample writes the index of the sample records for a look in a
// browser: ZKCHAOS_REPORT_SAMPLE=/tmp/report-sample.html go test ./reports -run Sample
func TestWriteSample(t *testing.T) {
	path := os.Getenv("ZKCHAOS_REPORT_SAMPLE")
	if path == "" {
		t.Skip("ZKCHAOS_REPORT_SAMPLE not set")
	}
	records, err := LoadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	records = append(records, f5Record())
	SortRecords(records)
	var b bytes.Buffer
	if err := WriteHTML(records, &b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWriteSampleDir writes every sample page with WriteAll:
// ZKCHAOS_REPORT_SAMPLE_DIR=/tmp/report-sample go test ./reports -run Sample
func TestWriteSampleDir(t *testing.T) {
	dir := os.Getenv("ZKCHAOS_REPORT_SAMPLE_DIR")
	if dir == "" {
		t.Skip("ZKCHAOS_REPORT_SAMPLE_DIR not set")
	}
	records, err := LoadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	records = append(records, f5Record())
	SortRecords(records)
	if _, err := WriteAll(dir, records); err != nil {
		t.Fatal(err)
	}
}
