package detect

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite fixtures/cases/*.golden.json from the current output")

// goldenCase is a fixtures/cases/*.json manifest: inputs (paths relative to
// fixtures/), the findings expected by hand ("F1@zk1"), and next to it a
// .golden.json with the full output, reviewed when written with -update.
type goldenCase struct {
	Description string              `json:"description"`
	Source      string              `json:"source"`
	Logs        map[string]string   `json:"logs"`
	Net         map[string][]string `json:"net"`
	DataDirs    map[string]string   `json:"datadirs"`
	Config      string              `json:"config"`
	Expect      []string            `json:"expect"`
}

const fixtures = "../../fixtures/"

func (c goldenCase) observations(t *testing.T) Observations {
	t.Helper()
	var o Observations
	if c.Config != "" {
		f, err := os.Open(fixtures + c.Config)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if o.Config, err = ParseConfig(f); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range sortedKeys(c.Logs) {
		f, err := os.Open(fixtures + c.Logs[name])
		if err != nil {
			t.Fatal(err)
		}
		n, err := ScanLog(name, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		o.Logs = append(o.Logs, n)
	}
	for _, name := range sortedKeys(c.Net) {
		obs := NetObservation{Node: name}
		for _, p := range c.Net[name] {
			b, err := os.ReadFile(fixtures + p)
			if err != nil {
				t.Fatal(err)
			}
			one, err := ParseNet(name, bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			obs.Snapshots = append(obs.Snapshots, one.Snapshots...)
			obs.Listeners = append(obs.Listeners, one.Listeners...)
		}
		o.Net = append(o.Net, obs)
	}
	for _, name := range sortedKeys(c.DataDirs) {
		p := fixtures + c.DataDirs[name]
		var d DataDir
		var err error
		if st, serr := os.Stat(p); serr == nil && st.IsDir() {
			d, err = ReadDataDir(name, p)
		} else {
			f, ferr := os.Open(p)
			if ferr != nil {
				t.Fatal(ferr)
			}
			d, err = ParseDataDirListing(name, f)
			f.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		o.DataDirs = append(o.DataDirs, d)
	}
	return o
}

func sortedKeys[V any](m map[string]V) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

func TestGoldenCases(t *testing.T) {
	cases, _ := filepath.Glob(fixtures + "cases/*.json")
	n := 0
	for _, path := range cases {
		if strings.HasSuffix(path, ".golden.json") {
			continue
		}
		n++
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var c goldenCase
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				t.Fatalf("manifest: %v", err)
			}
			fs := Detect(c.observations(t))
			var got []string
			for _, f := range fs {
				got = append(got, string(f.Failure)+"@"+f.Node)
			}
			if strings.Join(got, ",") != strings.Join(c.Expect, ",") {
				t.Errorf("findings %v, want %v (%s)", got, c.Expect, c.Description)
			}
			if fs == nil {
				fs = []Finding{}
			}
			out, err := json.MarshalIndent(map[string][]Finding{"findings": fs}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, '\n')
			gpath := strings.TrimSuffix(path, ".json") + ".golden.json"
			if *update {
				if err := os.WriteFile(gpath, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(gpath)
			if err != nil {
				t.Fatalf("%v (run go test -update once and review the file)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("output differs from %s:\n%s", gpath, diffLines(string(want), string(out)))
			}
		})
	}
	if n < 5 {
		t.Fatalf("only %d cases in fixtures/cases", n)
	}
}

func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y)
		}
	}
	return ""
}
