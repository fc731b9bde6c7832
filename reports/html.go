package reports

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// HTML writes the record as one self-contained page: a timeline with one lane
// per node (state colours, faults, client results, findings), the verdict,
// evidence, notes, figures and the whole timeline as a table. No script, no
// external asset: the page is an artifact that can be mailed or attached.
func (r *Record) HTML(w io.Writer) error {
	v := view(r, "run-"+fileName(r))
	return pageTemplate.Execute(w, pageView{Title: v.Scenario + " on " + v.Version + " — " + v.Title, Runs: []runView{v}})
}

// WriteHTML writes an index page: the qualification matrix, then every run.
func WriteHTML(records []*Record, w io.Writer) error {
	p := pageView{Title: "zkchaos runs", Index: true}
	ids := runIDs(records)
	m := buildMatrix(records, func(r *Record) string { return "#" + ids[r] })
	p.Matrix = &m
	for _, r := range records {
		p.Runs = append(p.Runs, view(r, ids[r]))
	}
	return pageTemplate.Execute(w, p)
}

// runIDs gives every record an anchor, unique on the page.
func runIDs(records []*Record) map[*Record]string {
	ids := map[*Record]string{}
	seen := map[string]int{}
	for _, r := range records {
		id := "run-" + fileName(r)
		if seen[id]++; seen[id] > 1 {
			id += "-" + strconv.Itoa(seen[id])
		}
		ids[r] = id
	}
	return ids
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileName is <scenario>-<version>, safe as a file name and as an anchor.
func fileName(r *Record) string {
	return strings.Trim(unsafeName.ReplaceAllString(r.Scenario+"-"+r.Version, "_"), ".")
}

type pageView struct {
	Title  string
	Index  bool
	Matrix *matrix
	Runs   []runView
}

type runView struct {
	ID, Scenario, Title, Version string
	Started, Ended, Duration     string
	Verdict                      []verdictItem
	SVG                          svgView
	Marks                        []markView
	Evidence                     []string
	Notes                        []noteView
	NoStates                     bool // lanes but no state events: say why they are blank
	Figures                      []figureView
	Events                       []eventView
}

type noteView struct{ First, Rest string }

type verdictItem struct{ Label, Word, Class string }

type figureView struct{ Name, Value string }

type eventView struct {
	Offset, Clock, Kind, Node, State, Text, Until string
}

type markView struct {
	N                        int
	Kind, Offset, Node, Text string
	Class                    string
}

type svgView struct {
	W, H, PlotLeft, PlotRight float64
	Rows                      []rowView
	Ticks                     []tickView
}

type tickView struct {
	X, Y1, Y2, LabelY float64
	Label             string
}

type rowView struct {
	Lane, Row, Label, FullName, Class string
	Y, H, LabelY, BgW                 float64
	Rects                             []rectView
	Lines                             []lineView
	Texts                             []textView
	Badges                            []badgeView
}

type rectView struct {
	X, Y, W, H   float64
	Class, Title string
}

type lineView struct {
	X1, Y1, X2, Y2 float64
	Class, Title   string
}

type textView struct {
	X, Y        float64
	Class, Text string
}

type badgeView struct {
	X, Y, LineX, LineY1, LineY2 float64
	TextX, R                    float64
	ShowN                       bool
	N                           int
	Shape, Class, Title         string
	Leader                      bool
	Points                      string
}

// Geometry of the timeline, in SVG user units (the SVG scales to the page).
const (
	svgWidth   = 1200.0
	plotLeft   = 130.0
	plotRight  = svgWidth - 30
	runRowH    = 30.0
	laneH      = 30.0
	laneGap    = 6.0
	clientRowH = 24.0
	axisH      = 26.0
	badgeStep  = 19.0 // badges closer than this are pushed right, with a leader line
	charW      = 6.4  // approximate width of one 11px character
)

var serverName = regexp.MustCompile(`^zk[0-9]+$`)

// lanes are Record.Nodes, else every name seen on a state or fault event or
// named like a server (zk1…), in natural order. Names are cleaned (see clean),
// as events are matched to lanes.
func lanes(nodes []string, events []Event) []string {
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if n = clean(n); n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if len(nodes) > 0 {
		for _, n := range nodes {
			add(n)
		}
		return out
	}
	for _, e := range events {
		if e.Kind != KindClient && (e.Kind == KindState || e.Kind == KindFault || serverName.MatchString(e.Node)) {
			add(e.Node)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return naturalLess(out[i], out[j]) })
	return out
}

var digits = regexp.MustCompile(`[0-9]+|[^0-9]+`)

// naturalLess orders zk2 before zk10.
func naturalLess(a, b string) bool {
	pa, pb := digits.FindAllString(a, -1), digits.FindAllString(b, -1)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if pa[i] == pb[i] {
			continue
		}
		na, ea := strconv.ParseUint(pa[i], 10, 64)
		nb, eb := strconv.ParseUint(pb[i], 10, 64)
		if ea == nil && eb == nil && na != nb {
			return na < nb
		}
		return pa[i] < pb[i]
	}
	return len(pa) < len(pb)
}

// clean makes text safe for any XML reader: invalid UTF-8 and characters XML
// forbids (control characters from a captured log line) become U+FFFD.
func clean(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, badXMLRune) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if badXMLRune(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

func badXMLRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20, r == 0x7f, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
		return true
	}
	return false
}

func offset(d time.Duration) string {
	s := d.Seconds()
	if s < 0 {
		return fmt.Sprintf("−%.1f s", -s)
	}
	return fmt.Sprintf("+%.1f s", s)
}

func duration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	m := int(d / time.Minute)
	return fmt.Sprintf("%d min %02.0f s", m, (d - time.Duration(m)*time.Minute).Seconds())
}

func fmtFigure(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	s := strconv.FormatFloat(v, 'f', 3, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// verdictItems says each answer in words and with a mark, never colour alone.
func verdictItems(v *Verdict) []verdictItem {
	yes := func(label string, b bool, noClass string) verdictItem {
		if b {
			return verdictItem{label, "✓ yes", "good"}
		}
		return verdictItem{label, "✗ no", noClass}
	}
	detectedNo := "neutral"
	if v.Reproduced {
		detectedNo = "bad" // reproduced and missed by the detector
	}
	reproduced := yes("reproduced", v.Reproduced, "neutral")
	switch {
	case v.FixedInVersion:
		reproduced = verdictItem{"reproduced", "✗ no — fixed in this version", "good"}
	case !v.Reproduced && !v.Triggered && len(v.Checks)+len(v.Fixes) > 0:
		reproduced = verdictItem{"reproduced", "✗ no — trigger not applied", "bad"}
	}
	items := []verdictItem{reproduced, yes("detected", v.Detected, detectedNo), fixItem(v.FixStatus())}
	for _, c := range v.Checks {
		items = append(items, yes("check: "+c.Name, c.Held, "bad"))
	}
	return items
}

func fixItem(s string) verdictItem {
	switch s {
	case FixWorks:
		return verdictItem{"fix", "✓ works", "good"}
	case FixFails:
		return verdictItem{"fix", "✗ fails", "bad"}
	case FixNotAvailable:
		return verdictItem{"fix", "⊘ not available on this version", "warn"}
	case FixNotTried:
		return verdictItem{"fix", "– not tried", "neutral"}
	}
	return verdictItem{"fix", clean(s), "neutral"}
}

var stateClass = map[string]string{
	StateLooking:    "st-looking",
	StateFollowing:  "st-following",
	StateLeading:    "st-leading",
	StateObserving:  "st-observing",
	StateStandalone: "st-standalone",
	StateDown:       "st-down",
}

var kindWord = map[string]string{
	KindFault:       "fault",
	KindFix:         "fix",
	KindFinding:     "finding",
	KindCheck:       "check",
	KindCheckFailed: "check failed",
}

// view copies the record under its lock and lays out the page.
func view(r *Record, id string) runView {
	r.mu.Lock()
	events := append([]Event(nil), r.Timeline...)
	nodes := append([]string(nil), r.Nodes...)
	verdict := r.Verdict
	verdict.Evidence = append([]string(nil), r.Verdict.Evidence...)
	verdict.Notes = append([]string(nil), r.Verdict.Notes...)
	figures := make(map[string]float64, len(r.Figures))
	for k, v := range r.Figures {
		figures[k] = v
	}
	v := runView{ID: id, Scenario: clean(r.Scenario), Title: clean(r.Title), Version: clean(r.Version)}
	started, ended := r.Started, r.Ended
	r.mu.Unlock()

	sort.SliceStable(events, func(i, j int) bool { return events[i].Time.Before(events[j].Time) })
	t0, t1 := started, ended
	for _, e := range events {
		for _, t := range []time.Time{e.Time, e.End} {
			if t.IsZero() {
				continue
			}
			if t0.IsZero() || t.Before(t0) {
				t0 = t
			}
			if t1.IsZero() || t.After(t1) {
				t1 = t
			}
		}
	}
	if t1.Before(t0) {
		t1 = t0
	}
	if !started.IsZero() {
		v.Started = started.UTC().Format("2006-01-02 15:04:05 MST")
	}
	if !ended.IsZero() {
		v.Ended = ended.UTC().Format("15:04:05 MST")
	}
	v.Duration = duration(t1.Sub(t0))
	v.Verdict = verdictItems(&verdict)
	for _, e := range verdict.Evidence {
		v.Evidence = append(v.Evidence, clean(e))
	}
	for _, n := range verdict.Notes {
		first, rest, _ := strings.Cut(strings.TrimRight(clean(n), "\n"), "\n")
		v.Notes = append(v.Notes, noteView{first, rest})
	}
	names := make([]string, 0, len(figures))
	for k := range figures {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v.Figures = append(v.Figures, figureView{clean(k), fmtFigure(figures[k])})
	}
	for _, e := range events {
		ev := eventView{Offset: offset(at(t0, e.Time)), Kind: clean(e.Kind), Node: clean(e.Node), State: clean(NormalizeState(e.State)), Text: clean(e.Text)}
		if !e.Time.IsZero() {
			ev.Clock = e.Time.UTC().Format("15:04:05.000")
		}
		if !e.End.IsZero() {
			ev.Until = offset(at(t0, e.End))
		}
		v.Events = append(v.Events, ev)
	}
	laneNames := lanes(nodes, events)
	v.SVG, v.Marks = layout(events, laneNames, t0, t1)
	v.NoStates = len(laneNames) > 0
	for _, e := range events {
		if e.Kind == KindState && e.State != "" {
			v.NoStates = false
		}
	}
	return v
}

// layout draws the timeline: a run row (steps, and marks on no lane), one lane
// per node, a client row, and the time axis.
func layout(events []Event, laneNames []string, t0, t1 time.Time) (svgView, []markView) {
	span := t1.Sub(t0)
	if span <= 0 {
		span = time.Second
	}
	x := func(t time.Time) float64 {
		if t.IsZero() || t.Before(t0) {
			return plotLeft
		}
		f := float64(t.Sub(t0)) / float64(span)
		return plotLeft + math.Min(f, 1)*(plotRight-plotLeft)
	}
	s := svgView{W: svgWidth, PlotLeft: plotLeft, PlotRight: plotRight}

	laneOf := map[string]int{}
	for i, n := range laneNames {
		laneOf[n] = i
	}
	hasRun, hasClient := false, false
	for _, e := range events {
		switch {
		case e.Kind == KindClient:
			hasClient = true
		case e.Kind == KindStep, kindWord[e.Kind] != "":
			if _, ok := laneOf[clean(e.Node)]; !ok {
				hasRun = true
			}
		}
	}

	y := 6.0
	var run, client *rowView
	rows := make([]rowView, 0, len(laneNames)+2)
	if hasRun {
		rows = append(rows, rowView{Row: "run", Label: "ensemble", Class: "row-run", Y: y, H: runRowH})
		y += runRowH + laneGap
	}
	first := len(rows)
	for i, n := range laneNames {
		name := clean(n)
		label := name
		if utf8.RuneCountInString(label) > 14 {
			label = string([]rune(label)[:13]) + "…"
		}
		class := "lane"
		if i%2 == 1 {
			class = "lane alt"
		}
		rows = append(rows, rowView{Lane: name, Label: label, FullName: name, Class: class, Y: y, H: laneH})
		y += laneH + laneGap
	}
	if hasClient {
		rows = append(rows, rowView{Row: "clients", Label: "clients", Class: "row-client", Y: y, H: clientRowH})
		y += clientRowH + laneGap
	}
	if hasRun {
		run = &rows[0]
	}
	if hasClient {
		client = &rows[len(rows)-1]
	}
	for i := range rows {
		rows[i].LabelY = rows[i].Y + rows[i].H/2 + 4
		rows[i].BgW = plotRight + 6 - 4
	}
	plotBottom := y - laneGap
	s.H = plotBottom + axisH

	// State segments: from each state event to the node's next one, or the end.
	type stateAt struct {
		t     time.Time
		state string
		text  string
	}
	states := make([][]stateAt, len(laneNames))
	for _, e := range events {
		i, ok := laneOf[clean(e.Node)]
		if !ok || e.Kind != KindState {
			continue
		}
		lane := &rows[first+i]
		if e.State == "" { // an observation without a state: a dot on the lane
			lane.Rects = append(lane.Rects, rectView{X: x(e.Time) - 3, Y: lane.Y + lane.H/2 - 3, W: 6, H: 6, Class: "obs", Title: clean(offset(at(t0, e.Time)) + " " + e.Node + ": " + e.Text)})
			continue
		}
		states[i] = append(states[i], stateAt{e.Time, NormalizeState(e.State), e.Text})
	}
	for i, ss := range states {
		lane := &rows[first+i]
		var segs []rectView
		var texts []textView
		for j, st := range ss {
			end := t1
			if j+1 < len(ss) {
				end = ss[j+1].t
			}
			x1, x2 := x(st.t), x(end)
			class, ok := stateClass[st.state]
			if !ok {
				class = "st-other"
			}
			title := fmt.Sprintf("%s %s from %s to %s", laneNames[i], st.state, offset(at(t0, st.t)), offset(at(t0, end)))
			segs = append(segs, rectView{X: x1, Y: lane.Y + 2, W: math.Max(x2-x1, 0), H: lane.H - 4, Class: "seg " + class, Title: clean(title)})
			label := clean(st.state)
			if w := float64(utf8.RuneCountInString(label)) * charW; x2-x1 >= w+40 {
				texts = append(texts, textView{X: (x1 + x2) / 2, Y: lane.Y + lane.H/2 + 4, Class: "seglabel t-" + class, Text: label})
			}
		}
		lane.Rects = append(segs, lane.Rects...)
		lane.Texts = append(lane.Texts, texts...)
	}

	// Numbered marks: faults, fixes and findings, in time order.
	var marks []markView
	for _, e := range events {
		switch {
		case e.Kind == KindStep:
			if run != nil {
				if _, ok := laneOf[clean(e.Node)]; !ok {
					run.Lines = append(run.Lines, lineView{X1: x(e.Time), Y1: run.Y + run.H - 9, X2: x(e.Time), Y2: run.Y + run.H, Class: "step", Title: clean(offset(at(t0, e.Time)) + " step: " + e.Text)})
				}
			}
		case e.Kind == KindClient:
			title := offset(at(t0, e.Time)) + " client"
			if e.Node != "" {
				title += " " + e.Node
			}
			client.Lines = append(client.Lines, lineView{X1: x(e.Time), Y1: client.Y + 3, X2: x(e.Time), Y2: client.Y + client.H - 3, Class: "client", Title: clean(title + ": " + e.Text)})
		case kindWord[e.Kind] != "":
			row := run
			if i, ok := laneOf[clean(e.Node)]; ok {
				row = &rows[first+i]
			}
			n := len(marks) + 1
			m := markView{N: n, Kind: kindWord[e.Kind], Offset: offset(at(t0, e.Time)), Node: clean(e.Node), Text: clean(e.Text), Class: "m-" + e.Kind}
			if !e.End.IsZero() {
				m.Offset += " – " + offset(at(t0, e.End))
			}
			marks = append(marks, m)
			title := fmt.Sprintf("%d. %s %s", n, m.Kind, m.Offset)
			if e.Node != "" {
				title += " " + e.Node
			}
			title = clean(title + ": " + e.Text)
			x1 := x(e.Time)
			if e.Kind == KindFault && !e.End.IsZero() && e.End.After(e.Time) {
				row.Rects = append(row.Rects, rectView{X: x1, Y: row.Y + 1, W: math.Max(x(e.End)-x1, 1), H: row.H - 2, Class: "span", Title: title})
			} else {
				row.Lines = append(row.Lines, lineView{X1: x1, Y1: row.Y, X2: x1, Y2: row.Y + row.H, Class: "mark " + m.Class, Title: title})
			}
			row.Badges = append(row.Badges, badgeView{X: x1, N: n, Class: m.Class, Title: title})
		}
	}
	for i := range rows {
		spread(&rows[i])
	}

	// Axis: a round step giving at most a dozen ticks.
	secs := span.Seconds()
	step := 1.0
	for _, c := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400} {
		step = c
		if secs/c <= 12 {
			break
		}
	}
	if secs/step > 12 {
		step = math.Ceil(secs/12/step) * step
	}
	for k := 0.0; k <= secs+1e-9; k += step {
		tx := plotLeft + k/secs*(plotRight-plotLeft)
		if secs == 0 {
			tx = plotLeft
		}
		label := fmt.Sprintf("%.0f s", k)
		switch {
		case step >= 86400:
			label = fmt.Sprintf("%.0f d", k/86400)
		case step >= 3600:
			label = fmt.Sprintf("%.0f h", k/3600)
		case step >= 60:
			label = fmt.Sprintf("%.0f min", k/60)
		}
		s.Ticks = append(s.Ticks, tickView{X: tx, Y1: 2, Y2: plotBottom + 4, LabelY: plotBottom + 18, Label: label})
		if secs == 0 {
			break
		}
	}
	s.Rows = rows
	return s, marks
}

func at(t0, t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return t.Sub(t0)
}

// spread places a row's badges left to right, at least badgeStep apart and
// inside the plot; a badge moved away from its time gets a leader line back
// to it. When a row has more marks than fit, badges shrink and lose their
// numbers (the tooltip and the table still carry them).
func spread(row *rowView) {
	bs := row.Badges
	if len(bs) == 0 {
		return
	}
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].X < bs[j].X })
	step, size := badgeStep, 1.0
	lo, hi := plotLeft, plotRight
	if avail := hi - lo; float64(len(bs)-1)*step > avail {
		step = avail / float64(len(bs)-1)
		size = math.Max(math.Min(step/badgeStep, 1), 0.35)
	}
	last := math.Inf(-1)
	for i := range bs {
		bs[i].LineX = bs[i].X
		bs[i].X = math.Max(math.Max(bs[i].X, last+step), lo)
		last = bs[i].X
	}
	next := math.Inf(1)
	for i := len(bs) - 1; i >= 0; i-- {
		bs[i].X = math.Max(math.Min(bs[i].X, math.Min(next-step, hi)), lo)
		next = bs[i].X
	}
	cy := row.Y + row.H/2
	for i := range bs {
		b := &bs[i]
		b.LineY1, b.LineY2 = cy, cy
		b.Leader = math.Abs(b.X-b.LineX) > 0.5
		b.Y, b.TextX = cy, b.X
		b.R = 9 * size
		b.ShowN = size >= 0.8
		d := 10 * size
		switch b.Class {
		case "m-fix":
			b.Shape = "diamond"
			b.Points = fmt.Sprintf("%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f", b.X, cy-d, b.X+d, cy, b.X, cy+d, b.X-d, cy)
		case "m-finding":
			b.Shape = "flag"
			b.Points = fmt.Sprintf("%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f", b.X-0.8*d, cy-0.9*d, b.X+1.3*d, cy-0.9*d, b.X+0.8*d, cy, b.X+1.3*d, cy+0.9*d, b.X-0.8*d, cy+0.9*d)
			b.TextX = b.X + 1.5
		case "m-check", "m-check-failed":
			b.Shape = "square"
			b.Points = fmt.Sprintf("%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f", b.X-0.8*d, cy-0.8*d, b.X+0.8*d, cy-0.8*d, b.X+0.8*d, cy+0.8*d, b.X-0.8*d, cy+0.8*d)
		default:
			b.Shape = "circle"
		}
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{"n": num}).Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; margin: 24px auto; max-width: 1300px; padding: 0 16px; }
h1 { font-size: 24px; margin: 0 0 12px; }
h2 { font-size: 20px; margin: 0 0 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
section.run { border-top: 3px solid #d0d7de; margin-top: 32px; padding-top: 16px; }
.meta { color: #57606a; margin-bottom: 10px; }
.tag { display: inline-block; font-weight: 600; background: #24292f; color: #fff; border-radius: 4px; padding: 0 6px; margin-right: 6px; }
.verdict { display: flex; gap: 10px; flex-wrap: wrap; margin: 10px 0; }
.verdict .v { border: 2px solid; border-radius: 6px; padding: 4px 10px; font-weight: 600; }
.verdict .v span { font-weight: 400; color: #57606a; margin-right: 6px; }
.good { color: #116329; background: #dafbe1; border-color: #2da44e; }
.bad { color: #a40e26; background: #ffebe9; border-color: #cf222e; }
.warn { color: #7d4e00; background: #fff8c5; border-color: #bf8700; }
.neutral { color: #424a53; background: #f6f8fa; border-color: #8c959f; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.clock { white-space: nowrap; }
.mono, .evidence li, td.text { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; white-space: pre-wrap; word-break: break-word; }
ul.evidence, ul.notes { margin: 4px 0; padding-left: 22px; }
ul.notes li { white-space: pre-wrap; }
ul.notes pre { font-size: 12.5px; background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 4px; padding: 6px 8px; margin: 4px 0; overflow-x: auto; white-space: pre; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; align-items: center; margin: 8px 0 4px; font-size: 13px; }
.legend .sw { display: inline-block; width: 22px; height: 12px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; border: 1px solid #0002; }
.sw.st-looking { background: #f2b233; } .sw.st-following { background: #3b78d8; } .sw.st-leading { background: #2e9e4f; }
.sw.st-observing { background: #8e63ce; } .sw.st-standalone { background: #1b5e20; }
.sw.st-down { background: repeating-linear-gradient(45deg, #b0b0b0 0 3px, #e4e4e4 3px 6px); }
.sw.fault { background: #d32f2f; border-radius: 50%; width: 12px; } .sw.finding { background: #7b1fa2; } .sw.fix { background: #00838f; transform: rotate(45deg); width: 10px; height: 10px; }
.sw.obs { background: #fff; border: 1.5px solid #24292f; width: 7px; height: 7px; border-radius: 0; }
.sw.client { background: #e65100; width: 3px; } .sw.step { background: #8c959f; width: 2px; }
.sw.span { background: repeating-linear-gradient(-45deg, #d32f2f55 0 3px, #d32f2f22 3px 6px); border: 1px dashed #d32f2f; }
svg.timeline { width: 100%; height: auto; display: block; border: 1px solid #d0d7de; border-radius: 6px; background: #fff; }
svg.timeline text { font: 11px system-ui, sans-serif; }
svg.timeline .lanebg { fill: #f6f8fa; }
svg.timeline .alt .lanebg { fill: #eef1f4; }
svg.timeline .row-run .lanebg, svg.timeline .row-client .lanebg { fill: #fbfbfc; stroke: #e1e4e8; stroke-dasharray: 3 3; }
svg.timeline .lanename { font-weight: 700; font-size: 13px; fill: #1f2328; }
svg.timeline .row-run .lanename, svg.timeline .row-client .lanename { font-weight: 400; font-style: italic; fill: #57606a; font-size: 12px; }
svg.timeline .grid { stroke: #d0d7de; stroke-dasharray: 2 4; }
svg.timeline .ticklabel { fill: #57606a; text-anchor: middle; }
svg.timeline .axis { stroke: #8c959f; }
.seg { stroke: #fff; stroke-width: 1; }
.seg.st-looking { fill: #f2b233; } .seg.st-following { fill: #3b78d8; } .seg.st-leading { fill: #2e9e4f; }
.seg.st-observing { fill: #8e63ce; } .seg.st-standalone { fill: #1b5e20; }
.seg.st-down { fill: url(#zk-hatch-down); stroke: #9e9e9e; }
.seg.st-other { fill: #fff; stroke: #8c959f; stroke-dasharray: 3 2; }
.seglabel { text-anchor: middle; font-weight: 600; pointer-events: none; fill: #fff; }
.t-st-looking, .t-st-down, .t-st-other { fill: #2d2000; }
.obs { fill: #fff; stroke: #24292f; stroke-width: 1.5; }
.span { fill: url(#zk-hatch-fault); stroke: #d32f2f; stroke-width: 1.5; stroke-dasharray: 4 2; }
.mark { stroke-width: 2; }
.mark.m-fault { stroke: #d32f2f; } .mark.m-fix { stroke: #00838f; stroke-dasharray: 4 2; } .mark.m-finding { stroke: #7b1fa2; } .mark.m-check { stroke: #2e7d32; } .mark.m-check-failed { stroke: #b71c1c; stroke-width: 2; }
.step { stroke: #8c959f; stroke-width: 2; }
.client { stroke: #e65100; stroke-width: 2; }
.leader { stroke: #57606a; stroke-width: 1; }
.badge circle, .badge polygon { stroke: #fff; stroke-width: 1.5; }
.badge.m-fault circle { fill: #d32f2f; } .badge.m-fix polygon { fill: #00838f; } .badge.m-finding polygon { fill: #7b1fa2; } .badge.m-check polygon { fill: #2e7d32; } .badge.m-check-failed polygon { fill: #b71c1c; }
.badge text { fill: #fff; font-weight: 700; font-size: 10px; text-anchor: middle; }
.marks td.n { font-weight: 700; text-align: center; color: #fff; }
.marks tr.m-fault td.n { background: #d32f2f; } .marks tr.m-fix td.n { background: #00838f; } .marks tr.m-finding td.n { background: #7b1fa2; } .marks tr.m-check td.n { background: #2e7d32; } .marks tr.m-check-failed td.n { background: #b71c1c; }
.events td.kind { font-weight: 600; }
.events tr.k-fault td.kind { color: #b71c1c; } .events tr.k-finding td.kind { color: #6a1b9a; } .events tr.k-fix td.kind { color: #006064; }
.events tr.k-client td.kind { color: #bf360c; } .events tr.k-evidence td.kind { color: #0b5394; } .events tr.k-step td.kind { color: #57606a; }
.events tr.k-state td.kind { color: #7d4e00; }
table.matrix td { min-width: 190px; }
table.matrix .cell span { display: inline-block; margin: 1px 6px 1px 0; padding: 0 5px; border-radius: 4px; border: 1px solid; font-size: 13px; }
table.matrix td.missing { color: #8c959f; text-align: center; }
.small { font-size: 12px; color: #57606a; }
</style>
</head>
<body>
<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>
<pattern id="zk-hatch-down" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#e4e4e4"></rect><rect width="4" height="8" fill="#b0b0b0"></rect></pattern>
<pattern id="zk-hatch-fault" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><rect width="8" height="8" fill="#d32f2f" fill-opacity="0.10"></rect><rect width="3" height="8" fill="#d32f2f" fill-opacity="0.35"></rect></pattern>
</defs></svg>
{{if .Index}}<h1>zkchaos — run reports</h1>
{{with .Matrix}}<h2>Qualification matrix</h2>
<p class="small">✓ shown, ✗ not shown. Fix: works / fails / not available on this version / not tried. Each cell links to its run below.</p>
<table class="matrix">
<thead><tr><th>failure</th>{{range .Versions}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr><th><b>{{.Scenario}}</b><br><span class="small">{{.Title}}</span></th>{{range .Cells}}{{if .Record}}<td class="cell">{{range .Parts}}<span class="{{.Class}}">{{.Text}}</span>{{end}}{{with .Link}}<br><a href="{{.}}">evidence</a>{{end}}</td>{{else}}<td class="missing">—</td>{{end}}{{end}}</tr>
{{end}}</tbody>
</table>
{{end}}<h2>Runs</h2>
<ul>{{range .Runs}}<li><a href="#{{.ID}}">{{.Scenario}} on {{.Version}}</a> — {{.Title}}</li>{{end}}</ul>
{{else}}<p class="small">zkchaos run report</p>
{{end}}
{{range .Runs}}<section class="run" id="{{.ID}}">
<h2><span class="tag">{{.Scenario}}</span>{{.Title}}</h2>
<div class="meta">ZooKeeper <b>{{.Version}}</b>{{with .Started}} · started {{.}}{{end}}{{with .Ended}} · ended {{.}}{{end}} · duration <b>{{.Duration}}</b> · {{len .Events}} events</div>
<div class="verdict">{{range .Verdict}}<div class="v {{.Class}}"><span>{{.Label}}</span>{{.Word}}</div>{{end}}</div>
<h3>Timeline</h3>
<div class="legend"><span><i class="sw st-leading"></i>LEADING</span><span><i class="sw st-following"></i>FOLLOWING</span><span><i class="sw st-looking"></i>LOOKING</span><span><i class="sw st-observing"></i>OBSERVING</span><span><i class="sw st-down"></i>DOWN</span><span>blank: state not observed</span><span><i class="sw fault"></i>fault</span><span><i class="sw span"></i>fault lasting</span><span><i class="sw fix"></i>fix</span><span><i class="sw finding"></i>finding</span><span><i class="sw client"></i>client result</span><span><i class="sw step"></i>step</span><span><i class="sw obs"></i>state observation without a state</span></div>
{{if .NoStates}}<p class="small">This record has no structured node states (Event.State): the lanes show faults and findings only.</p>{{end}}
{{with .SVG}}<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {{n .W}} {{n .H}}" role="img">
<g class="grid-lines">{{range .Ticks}}<line class="grid" x1="{{n .X}}" y1="{{n .Y1}}" x2="{{n .X}}" y2="{{n .Y2}}"></line>{{end}}</g>
{{range .Rows}}<g class="{{.Class}}" {{if .Lane}}data-lane="{{.Lane}}"{{else}}data-row="{{.Row}}"{{end}}>
<rect class="lanebg" x="4" y="{{n .Y}}" width="{{n .BgW}}" height="{{n .H}}" rx="3"></rect>
<text class="lanename" x="12" y="{{n .LabelY}}">{{.Label}}{{with .FullName}}<title>{{.}}</title>{{end}}</text>
{{range .Rects}}<rect class="{{.Class}}" x="{{n .X}}" y="{{n .Y}}" width="{{n .W}}" height="{{n .H}}">{{with .Title}}<title>{{.}}</title>{{end}}</rect>
{{end}}{{range .Texts}}<text class="{{.Class}}" x="{{n .X}}" y="{{n .Y}}">{{.Text}}</text>
{{end}}{{range .Lines}}<line class="{{.Class}}" x1="{{n .X1}}" y1="{{n .Y1}}" x2="{{n .X2}}" y2="{{n .Y2}}">{{with .Title}}<title>{{.}}</title>{{end}}</line>
{{end}}{{range .Badges}}<g class="badge {{.Class}}"><title>{{.Title}}</title>{{if .Leader}}<line class="leader" x1="{{n .LineX}}" y1="{{n .LineY1}}" x2="{{n .X}}" y2="{{n .Y}}"></line>{{end}}{{if eq .Shape "circle"}}<circle cx="{{n .X}}" cy="{{n .Y}}" r="{{n .R}}"></circle>{{else}}<polygon points="{{.Points}}"></polygon>{{end}}{{if .ShowN}}<text x="{{n .TextX}}" y="{{n .Y}}" dy="3.5">{{.N}}</text>{{end}}</g>
{{end}}</g>
{{end}}<line class="axis" x1="{{n .PlotLeft}}" y1="{{n (index .Ticks 0).Y2}}" x2="{{n .PlotRight}}" y2="{{n (index .Ticks 0).Y2}}"></line>
{{range .Ticks}}<text class="ticklabel" x="{{n .X}}" y="{{n .LabelY}}">{{.Label}}</text>{{end}}
</svg>{{end}}
{{if .Marks}}<table class="marks">
<thead><tr><th>#</th><th>kind</th><th>when</th><th>node</th><th>what</th></tr></thead>
<tbody>{{range .Marks}}<tr class="{{.Class}}"><td class="n">{{.N}}</td><td>{{.Kind}}</td><td class="num">{{.Offset}}</td><td>{{.Node}}</td><td class="text">{{.Text}}</td></tr>
{{end}}</tbody></table>{{end}}
<h3>Evidence</h3>
{{if .Evidence}}<ul class="evidence">{{range .Evidence}}<li>{{.}}</li>
{{end}}</ul>{{else}}<p class="small">none recorded</p>{{end}}
{{if .Notes}}<h3>Notes</h3>
<ul class="notes">{{range .Notes}}<li>{{.First}}{{with .Rest}}<pre>{{.}}</pre>{{end}}</li>
{{end}}</ul>{{end}}
{{if .Figures}}<h3>Figures</h3>
<table class="figures"><thead><tr><th>figure</th><th>value</th></tr></thead>
<tbody>{{range .Figures}}<tr><td class="mono">{{.Name}}</td><td class="num">{{.Value}}</td></tr>
{{end}}</tbody></table>{{end}}
<h3>Full timeline</h3>
<table class="events"><thead><tr><th>offset</th><th>time (UTC)</th><th>kind</th><th>node</th><th>state</th><th>text</th></tr></thead>
<tbody>{{range .Events}}<tr class="k-{{.Kind}}"><td class="num">{{.Offset}}{{with .Until}} – {{.}}{{end}}</td><td class="mono clock">{{.Clock}}</td><td class="kind">{{.Kind}}</td><td>{{.Node}}</td><td>{{.State}}</td><td class="text">{{.Text}}</td></tr>
{{end}}</tbody></table>
</section>
{{end}}</body>
</html>
`
