package detect

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

type layoutXform struct {
	name string
	fn   func(lines []string) []string
}

func jsonEsc(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

var layoutXforms = []layoutXform{
	{"compose", func(l []string) []string { return prefixAll(l, "node-1  | ") }},
	{"compose-v1", func(l []string) []string { return prefixAll(l, "node1_1  | ") }},
	{"kubectl-prefix", func(l []string) []string { return prefixAll(l, "[pod/node-0/main] ") }},
	{"cri", func(l []string) []string { return prefixAll(l, "2021-04-02T01:33:59.492345678Z stdout F ") }},
	{"docker-ts", func(l []string) []string { return prefixAll(l, "2021-04-02T01:33:59.492345678Z ") }},
	{"syslog", func(l []string) []string { return prefixAll(l, "Apr  2 01:33:59 host-1 java[1234]: ") }},
	{"journal", func(l []string) []string { return prefixAll(l, "Apr 02 01:33:59 host-1 start.sh[1234]: ") }},
	{"mailquote", func(l []string) []string { return prefixAll(l, "> ") }},
	{"indent4", func(l []string) []string { return prefixAll(l, "    ") }},
	{"crlf", func(l []string) []string { return suffixAll(l, "\r") }},
	{"wrap80", func(l []string) []string { return wrapAll(l, 80) }},
	{"wrap120", func(l []string) []string { return wrapAll(l, 120) }},
	// a console's copy: cut at exactly 80 or 120 bytes, mid-word
	{"console80", func(l []string) []string { return foldAll(l, 80) }},
	{"console120", func(l []string) []string { return foldAll(l, 120) }},
	{"grep-file", func(l []string) []string { return prefixAll(l, "server.log:") }},
	{"grep-n", func(l []string) []string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = fmt.Sprintf("%d:%s", 1000+i, s)
		}
		return out
	}},
	{"nbsp", func(l []string) []string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = strings.ReplaceAll(s, "  ", " \u00a0")
		}
		return out
	}},
	{"iso-t", func(l []string) []string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = isoT.ReplaceAllString(s, "${1}T${2}.${3}+0000")
		}
		return out
	}},
	{"log4j-date", func(l []string) []string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = isoT.ReplaceAllStringFunc(s, func(m string) string {
				t, err := time.Parse("2006-01-02 15:04:05,000", m)
				if err != nil {
					return m
				}
				return t.Format("02 Jan 2006 15:04:05,000")
			})
		}
		return out
	}},
	// Kafka's and Strimzi's layout: no myid, the logger in parentheses, the thread last
	{"kafka", func(l []string) []string {
		return mapL4j(l, func(m []string) string {
			return "[" + m[1] + "] " + m[3] + " " + m[7] + " (org.apache.zookeeper.server." + m[5] + ") [" + m[4] + "]"
		})
	}},
	// a Cloudera Manager page's copy: time, level and logger, the message on the next line
	{"cm-split", func(l []string) []string {
		var out []string
		for _, s := range l {
			m := l4j.FindStringSubmatch(s)
			if m == nil {
				out = append(out, s)
				continue
			}
			ts, _ := time.Parse("2006-01-02 15:04:05,000", m[1])
			out = append(out, ts.Format("3:04:05.000 PM")+"\t"+m[3]+"\t"+"org.apache.zookeeper.server."+m[5]+"\t", m[7])
		}
		return out
	}},
	// the messages alone, as some posts quote them
	{"msg-only", func(l []string) []string { return mapL4j(l, func(m []string) string { return m[7] }) }},
	{"docker-json", func(l []string) []string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = `{"log":"` + jsonEsc(s) + `\n","stream":"stdout","time":"2021-04-02T01:33:59.492345678Z"}`
		}
		return out
	}},
	{"filebeat", func(l []string) []string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = `{"@timestamp":"2021-04-02T01:33:59.492Z","host":{"name":"node-0"},"message":"` + jsonEsc(s) + `"}`
		}
		return out
	}},
}

// l4j is ZooKeeper's own log4j layout (3.3-3.9): time, [myid:N] (3.4+),
// level, [thread:Class@line], message; the thread may hold brackets.
var l4j = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?:- |\[myid:(\d*)\] - )(\w+)\s+\[(.*):(\w+)@(\d+)\] - (.*)$`)

var isoT = regexp.MustCompile(`(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3})`)

// wrapAll hard-wraps each line at the last space before col, as a mailer does.
func wrapAll(l []string, col int) []string {
	var out []string
	for _, s := range l {
		for len(s) > col {
			cut := strings.LastIndexByte(s[:col], ' ')
			if cut <= 0 {
				cut = col
			}
			out = append(out, s[:cut])
			s = s[cut:]
		}
		out = append(out, s)
	}
	return out
}

// mapL4j rewrites each line in ZooKeeper's log4j layout with f of its parts
// (l4j's submatches); other lines stay as they are.
func mapL4j(l []string, f func(m []string) string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		if m := l4j.FindStringSubmatch(s); m != nil {
			out[i] = f(m)
		} else {
			out[i] = s
		}
	}
	return out
}

// foldAll cuts each line at exactly col bytes, as a console does.
func foldAll(l []string, col int) []string {
	var out []string
	for _, s := range l {
		for len(s) > col {
			out = append(out, s[:col])
			s = s[col:]
		}
		out = append(out, s)
	}
	return out
}

func prefixAll(l []string, p string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = p + s
	}
	return out
}
func suffixAll(l []string, p string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = s + p
	}
	return out
}

func findingKey(fs []Finding) string {
	var got []string
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s/%s", f.Failure, f.GradeOrFound()))
	}
	return strings.Join(sortedStrings(got), ",")
}

// TestFieldCorpusInOtherLayouts reads every excerpt of the field corpus again
// as other tools would have shown the same lines (a runtime's or a shipper's
// envelope, a grep, a mailer's wrap, other timestamp layouts) and requires the
// same findings, grade for grade: a layout must not turn a failure into
// nothing, nor a healthy log into a failure.
func TestFieldCorpusInOtherLayouts(t *testing.T) {
	bad := map[string]int{}
	for _, e := range readFieldSources(t) {
		if strings.HasSuffix(e.file, ".txt") {
			continue
		}
		raw, err := os.ReadFile(fixtures + "field/" + e.file)
		if err != nil {
			t.Fatal(err)
		}
		base := findingKey(diagnoseBytes(t, raw))
		lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
		for _, x := range layoutXforms {
			in := strings.Join(x.fn(lines), "\n") + "\n"
			if got := findingKey(diagnoseBytes(t, []byte(in))); got != base {
				bad[x.name]++
				t.Errorf("%s: %s (%s): %q as published, %q in this layout", x.name, e.file, e.label, base, got)
			}
		}
	}
	if len(bad) > 0 {
		t.Logf("excerpts whose findings change, per layout: %v", bad)
	}
}

func diagnoseBytes(t *testing.T, b []byte) []Finding {
	n, err := ScanLog("x", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return Detect(Observations{Logs: []*NodeLog{n}})
}
