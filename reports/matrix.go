package reports

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The qualification matrix: one row per failure (scenario), one column per
// ZooKeeper version, each cell the verdict of that run in words.
type matrix struct {
	Versions []string
	Rows     []matrixRow
}

type matrixRow struct {
	Scenario, Title string
	Cells           []matrixCell // one per version; Record nil when not run
}

type matrixCell struct {
	Record *Record
	Parts  []cellPart
	Link   string
}

type cellPart struct{ Text, Class string }

var failureGroup = regexp.MustCompile(`^F([0-9]+)$`)

// group is the failure a scenario belongs to: F2-disk-full and F2-prealloc
// are F2's.
func group(scenario string) string {
	g, _, _ := strings.Cut(scenario, "-")
	return g
}

// scenarioLess puts F1…Fn first in numeric order, then the other scenarios
// alphabetically; within a group the plain name comes first.
func scenarioLess(a, b string) bool {
	ga, gb := group(a), group(b)
	if ga != gb {
		ma, mb := failureGroup.FindStringSubmatch(ga), failureGroup.FindStringSubmatch(gb)
		switch {
		case ma != nil && mb != nil:
			na, _ := strconv.Atoi(ma[1])
			nb, _ := strconv.Atoi(mb[1])
			if na != nb {
				return na < nb
			}
		case ma != nil:
			return true
		case mb != nil:
			return false
		}
		return ga < gb
	}
	if (a == ga) != (b == gb) {
		return a == ga
	}
	return a < b
}

// cellParts says a run's verdict in words, each with a mark.
func cellParts(r *Record) []cellPart {
	r.mu.Lock()
	v := r.Verdict
	fix := v.FixStatus()
	var parts []cellPart
	switch group(r.Scenario) {
	case "upgrade":
		r.mu.Unlock()
		return upgradeParts(r, v, fix)
	case "explore":
		r.mu.Unlock()
		return exploreParts(r, v)
	}
	observed, triggers := len(r.Observations) > 0, 0
	for _, o := range r.Observations {
		if o.Kind == ObsTrigger {
			triggers++
		}
	}
	r.mu.Unlock()
	switch {
	case v.Reproduced:
		parts = append(parts, cellPart{"reproduced ✓", "good"})
		if v.Detected {
			parts = append(parts, cellPart{"detected ✓", "good"})
		} else {
			parts = append(parts, cellPart{"not detected ✗", "bad"})
		}
	case v.FixedInVersion:
		// A regression check: the trigger happened and the failure did not
		// (F1: ZOOKEEPER-1514 since 3.4.4).
		parts = append(parts, cellPart{"not reproduced (fixed in this version)", "good"})
	case observed && triggers == 0:
		// An experiment (F4's restart orders): its checks and notes are the result.
		held := len(v.Checks) - len(v.FailedChecks())
		class := "good"
		if held < len(v.Checks) {
			class = "bad"
		}
		return append([]cellPart{{fmt.Sprintf("measured · %d of %d checks held", held, len(v.Checks)), class}}, checkParts(v)...)
	case observed && !v.Triggered:
		parts = append(parts, cellPart{"trigger not applied ✗", "bad"})
	default:
		parts = append(parts, cellPart{"not reproduced ✗", "neutral"})
		if v.Detected {
			parts = append(parts, cellPart{"detected ✓", "warn"})
		}
	}
	it := fixItem(fix)
	parts = append(parts, cellPart{"fix " + strings.TrimLeft(it.Word, "✓✗⊘– "), it.Class})
	if fix == FixNotAvailable {
		parts[len(parts)-1].Text = "fix not available"
	}
	return append(parts, checkParts(v)...)
}

// checkParts names every check that did not hold.
func checkParts(v Verdict) []cellPart {
	var parts []cellPart
	for _, c := range v.FailedChecks() {
		parts = append(parts, cellPart{"check failed: " + c + " ✗", "bad"})
	}
	return parts
}

// upgradeParts says an upgrade path's verdict: Reproduced means the path failed
// (e.g. ZOOKEEPER-3056), Fix whether it completed (with the workaround, if any),
// and the figures give the longest time without an answer.
func upgradeParts(r *Record, v Verdict, fix string) []cellPart {
	r.mu.Lock()
	gap, hasGap := r.Figures["longest_gap_ms"]
	r.mu.Unlock()
	var parts []cellPart
	switch {
	case v.Reproduced:
		parts = append(parts, cellPart{"upgrade fails ✗", "bad"})
		switch fix {
		case FixWorks:
			parts = append(parts, cellPart{"workaround works", "good"})
		case FixFails:
			parts = append(parts, cellPart{"workaround fails", "bad"})
		}
	case len(v.FailedChecks()) == 0 && len(v.Checks) > 0:
		parts = append(parts, cellPart{"served throughout ✓ · linearizable ✓", "good"})
	case len(v.Checks) == 0 && fix != FixWorks:
		parts = append(parts, cellPart{"upgrade did not complete ✗", "bad"})
	case len(v.Checks) == 0:
		parts = append(parts, cellPart{"served throughout ✓ · linearizable ✓", "good"})
	}
	if hasGap && !v.Reproduced {
		parts = append(parts, cellPart{fmt.Sprintf("longest gap %.0f ms", gap), "neutral"})
	}
	return append(parts, checkParts(v)...)
}

// exploreParts says an exploratory run's verdict: the faults it applied and
// its checks (linearizable, every fault with evidence, healed, recovered).
func exploreParts(r *Record, v Verdict) []cellPart {
	r.mu.Lock()
	faults, kinds := r.Figures["faults"], r.Figures["fault_kinds"]
	syncOK, syncChecked := r.Figures["sync_reads_linearizable"]
	stale := r.Figures["stale_sync_reads"]
	r.mu.Unlock()
	parts := []cellPart{{fmt.Sprintf("%.0f faults of %.0f kinds", faults, kinds), "neutral"}}
	failed := v.FailedChecks()
	if len(v.Checks) > 0 && len(failed) == 0 {
		parts = append(parts, cellPart{"writes linearizable ✓ · every check held ✓", "good"})
	}
	if syncChecked && syncOK == 0 {
		// Reported, not a failed check: ZooKeeper does not promise it (docs/explore.md).
		parts = append(parts, cellPart{fmt.Sprintf("sync+reads not linearizable (%.0f stale, ZOOKEEPER-1675)", stale), "neutral"})
	}
	if len(v.Checks) == 0 {
		parts = append(parts, cellPart{"not checked ✗", "bad"})
	}
	return append(parts, checkParts(v)...)
}

// CellText is a run's verdict as the matrix words it.
func CellText(r *Record) string {
	var texts []string
	for _, p := range cellParts(r) {
		texts = append(texts, p.Text)
	}
	return strings.Join(texts, " · ")
}

func buildMatrix(records []*Record, link func(*Record) string) matrix {
	var m matrix
	byKey := map[[2]string]*Record{}
	titles := map[string]string{}
	var scenarios, versions []string
	for _, r := range records {
		r.mu.Lock()
		s, v, t := clean(r.Scenario), clean(r.Version), clean(r.Title)
		r.mu.Unlock()
		if _, ok := titles[s]; !ok {
			scenarios = append(scenarios, s)
			titles[s] = ""
		}
		if titles[s] == "" {
			titles[s] = t
		}
		if !contains(versions, v) {
			versions = append(versions, v)
		}
		byKey[[2]string{s, v}] = r
	}
	sort.SliceStable(scenarios, func(i, j int) bool { return scenarioLess(scenarios[i], scenarios[j]) })
	sort.SliceStable(versions, func(i, j int) bool { return CompareVersions(versions[i], versions[j]) < 0 })
	m.Versions = versions
	for _, s := range scenarios {
		row := matrixRow{Scenario: s, Title: titles[s]}
		for _, v := range versions {
			c := matrixCell{Record: byKey[[2]string{s, v}]}
			if c.Record != nil {
				c.Parts = cellParts(c.Record)
				if link != nil {
					c.Link = link(c.Record)
				}
			}
			row.Cells = append(row.Cells, c)
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Matrix writes the qualification matrix as Markdown: failures × versions,
// each cell the verdict in words and a link to the run's evidence (link may
// be nil, or return "" for no link), then every run's notes.
func Matrix(records []*Record, w io.Writer, link func(*Record) string) error {
	m := buildMatrix(records, link)
	b := bufio.NewWriter(w)
	b.WriteString("# Qualification matrix\n\n")
	b.WriteString("✓ shown, ✗ not shown. Fix: works / fails / not available on this version / not tried.\n\n")
	b.WriteString("| failure |")
	for _, v := range m.Versions {
		b.WriteString(" " + mdEscape(v) + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(m.Versions)) + "\n")
	for _, row := range m.Rows {
		b.WriteString("| **" + mdEscape(row.Scenario) + "**")
		if row.Title != "" {
			b.WriteString(" " + mdEscape(row.Title))
		}
		b.WriteString(" |")
		for _, c := range row.Cells {
			if c.Record == nil {
				b.WriteString(" — |")
				continue
			}
			texts := make([]string, 0, len(c.Parts)+1)
			for _, p := range c.Parts {
				texts = append(texts, mdEscape(p.Text))
			}
			if c.Link != "" {
				texts = append(texts, "[evidence]("+mdURL(c.Link)+")")
			}
			b.WriteString(" " + strings.Join(texts, " · ") + " |")
		}
		b.WriteString("\n")
	}
	notes := false
	for _, row := range m.Rows {
		for i, c := range row.Cells {
			if c.Record == nil {
				continue
			}
			c.Record.mu.Lock()
			list := append([]string(nil), c.Record.Verdict.Notes...)
			c.Record.mu.Unlock()
			if len(list) == 0 {
				continue
			}
			if !notes {
				b.WriteString("\n## Notes\n")
				notes = true
			}
			b.WriteString("\n### " + mdEscape(row.Scenario) + " on " + mdEscape(m.Versions[i]) + "\n\n")
			for _, n := range list {
				writeNote(b, clean(n))
			}
		}
	}
	return b.Flush()
}

// writeNote writes a note as a list item; the lines after the first (a
// table the scenario formatted) go in a code block so they keep their layout.
func writeNote(b *bufio.Writer, n string) {
	first, rest, multi := strings.Cut(strings.TrimRight(n, "\n"), "\n")
	b.WriteString("- " + mdEscape(first) + "\n")
	if !multi {
		return
	}
	fence := "```"
	for strings.Contains(rest, fence) {
		fence += "`"
	}
	b.WriteString("\n  " + fence + "\n")
	for _, l := range strings.Split(rest, "\n") {
		b.WriteString(strings.TrimRight("  "+l, " ") + "\n")
	}
	b.WriteString("  " + fence + "\n")
}

var mdSpecial = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "`", "\\`",
	"<", "&lt;", ">", "&gt;", "&", "&amp;", "\r", " ", "\n", " ")

// mdEscape keeps text literal in a Markdown table cell or list item.
func mdEscape(s string) string { return mdSpecial.Replace(s) }

var mdURLSpecial = strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E", "\n", "", "\r", "")

func mdURL(s string) string { return mdURLSpecial.Replace(s) }
