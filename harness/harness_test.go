package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Real srvr answers captured from the images (fixtures/captured/srvr).
func TestParseSrvrCaptured(t *testing.T) {
	files, err := filepath.Glob("../fixtures/captured/srvr/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captured srvr answers: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want := Mode(strings.SplitN(filepath.Base(f), "-", 3)[1])
		if want == "notserving" {
			want = ModeNotServing
		}
		st := parseSrvr(string(b))
		if st.Mode != want {
			t.Errorf("%s: mode %q, want %q", f, st.Mode, want)
		}
		if st.Mode.Serving() && st.Zxid < 0 {
			t.Errorf("%s: serving node without a zxid", f)
		}
	}
}

func TestConfigOrderAndOverride(t *testing.T) {
	var c config
	c.set("tickTime", "200")
	c.set("dataDir", "/data")
	c.set("tickTime", "2000")
	got := string(c.merge(config{keys: []string{"maxClientCnxns"}, values: []string{"10"}}).render())
	want := "tickTime=2000\ndataDir=/data\nmaxClientCnxns=10\n"
	if got != want {
		t.Fatalf("render:\n%s\nwant:\n%s", got, want)
	}
}

func TestLookupVersionListsKnownOnes(t *testing.T) {
	_, err := LookupVersion("3.3.6")
	if err == nil || !strings.Contains(err.Error(), "3.4.13, 3.8.0, 3.9.3") {
		t.Fatalf("error %v should list the known versions", err)
	}
	for _, v := range Versions {
		if _, err := LookupVersion(v.Version); err != nil {
			t.Fatal(err)
		}
		if v.recipe() == "" || v.baseRecipe() == v.recipe() {
			t.Fatalf("%s: recipe hashes", v.Version)
		}
	}
}
