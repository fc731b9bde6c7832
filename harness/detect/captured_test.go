package detect

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// zkchaos images log with "%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n".
var imageLayout = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - (\w+) +\[(.*?):([\w$]+)@\d+\] - (.*)$`)

// relayouts re-render real captured lines the ways users' logs carry them:
// same messages, other layouts and prefixes (issue 4: Kafka's bundled
// ZooKeeper, docker compose, shippers, UIs).
var relayouts = map[string]func(node, line string) string{
	"image": func(_, l string) string { return l },
	"docker compose": func(node, l string) string {
		return node + "  | " + l
	},
	"kafka": func(_, l string) string {
		m := imageLayout.FindStringSubmatch(l)
		if m == nil {
			return l // stack traces and other continuation lines stay as they are
		}
		return "[" + m[1] + "] " + m[2] + " " + m[5] + " (org.apache.zookeeper.server." + m[4] + ")"
	},
	"shipper json": func(node, l string) string {
		m := imageLayout.FindStringSubmatch(l)
		if m == nil {
			b, _ := json.Marshal(map[string]string{"host": node, "message": l})
			return string(b)
		}
		b, _ := json.Marshal(map[string]string{"@timestamp": strings.Replace(m[1], " ", "T", 1) + "Z", "host": node, "level": m[2], "logger": m[4], "message": m[5]})
		return string(b)
	},
	"kibana copy": func(node, l string) string {
		m := imageLayout.FindStringSubmatch(l)
		if m == nil {
			return l
		}
		// "Nov 25, 2026 @ 20:32:17.979"
		d := m[1]
		months := []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
		mo := months[(int(d[5]-'0')*10+int(d[6]-'0'))-1]
		return mo + " " + strings.TrimPrefix(d[8:10], "0") + ", " + d[:4] + " @ " + strings.Replace(d[11:], ",", ".", 1) + "\t" + node + "\t" + m[5]
	},
	"crlf": func(_, l string) string { return l + "\r" },
}

func capturedCases(t *testing.T) map[string]map[string]string {
	t.Helper()
	files, _ := filepath.Glob(fixtures + "captured/*/*.log")
	if len(files) == 0 {
		t.Skip("no captured logs yet")
	}
	cases := map[string]map[string]string{} // "3.9.3/healthy" -> node -> path
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".log")
		i := strings.LastIndex(base, "-zk")
		if i < 0 {
			continue
		}
		key := filepath.Base(filepath.Dir(f)) + "/" + base[:i]
		if cases[key] == nil {
			cases[key] = map[string]string{}
		}
		cases[key][base[i+1:]] = f
	}
	return cases
}

func TestCapturedInEveryLayout(t *testing.T) {
	versions := map[string]bool{}
	for key, nodes := range capturedCases(t) {
		versions[strings.Split(key, "/")[0]] = true
		var want string
		for _, name := range sortedKeys(relayouts) {
			var obs Observations
			for _, node := range sortedKeys(nodes) {
				b, err := os.ReadFile(nodes[node])
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
					out.WriteString(relayouts[name](node, l) + "\n")
				}
				n, err := ScanLog(node, &out)
				if err != nil {
					t.Fatal(err)
				}
				obs.Logs = append(obs.Logs, n)
			}
			got := failures(Detect(obs))
			if name == sortedKeys(relayouts)[0] {
				want = got
			}
			if got != want {
				t.Errorf("%s in %s layout: %q, want %q as in the others", key, name, got, want)
			}
			switch {
			case strings.HasSuffix(key, "/healthy") && got != "":
				t.Errorf("%s (%s): healthy logs gave %s", key, name, got)
			case strings.HasSuffix(key, "/f3-too-many-connections") && got != "F3@zk1":
				t.Errorf("%s (%s): got %q, want F3@zk1", key, name, got)
			case strings.HasSuffix(key, "/f4-drop-slow-quorum") && !strings.Contains(got, "F4@zk1"):
				t.Errorf("%s (%s): got %q, want F4@zk1 among them", key, name, got)
			case strings.HasSuffix(key, "/f1-replay-stuck") && got != "F1@zk1":
				t.Errorf("%s (%s): got %q, want F1@zk1", key, name, got)
			}
		}
	}
	for _, v := range []string{"3.4.13", "3.8.0", "3.9.3"} {
		if !versions[v] {
			t.Errorf("no captured logs of %s", v)
		}
	}
}

// Every notification line the three versions really wrote parses, with the
// format that tells whether ZOOKEEPER-1514 is fixed.
func TestCapturedNotificationFormats(t *testing.T) {
	want := map[string]NotificationFormat{"3.4.13": Format346, "3.8.0": Format36, "3.9.3": Format36}
	for key, nodes := range capturedCases(t) {
		v := strings.Split(key, "/")[0]
		for _, p := range nodes {
			b, _ := os.ReadFile(p)
			seen := 0
			for _, l := range strings.Split(string(b), "\n") {
				if !strings.Contains(l, "Notification: ") {
					continue
				}
				seen++
				n, err := ParseNotification([]byte(l))
				if err != nil || n.Format != want[v] || n.MyState == "" || n.State == "" || n.SID <= 0 || n.Leader <= 0 || n.Round <= 0 {
					t.Errorf("%s: %q: %+v %v", p, l, n, err)
				}
			}
			if seen == 0 {
				t.Errorf("%s: no notification lines", p)
			}
		}
	}
}
