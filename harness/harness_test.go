package harness

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
		for _, p := range []BuildPath{PathDebootstrap, PathEngine} {
			if v.recipe(p) == "" || v.baseRecipe(p) == v.recipe(p) {
				t.Fatalf("%s: recipe hashes (%s)", v.Version, p)
			}
		}
		if v.recipe(PathDebootstrap) == v.recipe(PathEngine) {
			t.Fatalf("%s: both paths have recipe %s", v.Version, v.recipe(PathEngine))
		}
	}
}

// The two recipes of a base must install the same packages from the same sources
// and clean up the same: build-base.sh (debootstrap, in its chroot) and
// install-packages.sh (the engine's build) are separate files so that the
// debootstrap recipe's hash, and the images built from it, stay as they were.
func TestBaseRecipesInstallTheSame(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "docker", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	deboot, engine := read("build-base.sh"), read("install-packages.sh")
	tools := func(script, sep string) []string {
		m := regexp.MustCompile(`(?m)^TOOLS="([^"]*)"`).FindStringSubmatch(script)
		if m == nil {
			t.Fatalf("no TOOLS= line in\n%s", script)
		}
		l := strings.Split(m[1], sep)
		slices.Sort(l)
		return l
	}
	if a, b := tools(deboot, ","), tools(engine, " "); !slices.Equal(a, b) {
		t.Errorf("build-base.sh installs %v, install-packages.sh %v", a, b)
	}
	for _, want := range []struct{ deboot, engine string }{
		{`echo "deb $MIRROR $SUITE main" >"$root/etc/apt/sources.list"`, `echo "deb $MIRROR $SUITE main" >/etc/apt/sources.list`},
		{`apt-get install -y -q --no-install-recommends $PACKAGES`, `apt-get install -y -q --no-install-recommends $TOOLS $PACKAGES`},
		{`rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/info"`, `rm -rf /usr/share/doc /usr/share/man /usr/share/info`},
		{`"$root/var/cache/apt/"* "$root/var/lib/apt/lists/"* "$root/var/log/"*.log`, `/var/cache/apt/* /var/lib/apt/lists/* /var/log/*.log`},
	} {
		if !strings.Contains(deboot, want.deboot) || !strings.Contains(engine, want.engine) {
			t.Errorf("the recipes differ: build-base.sh should have %q, install-packages.sh %q", want.deboot, want.engine)
		}
	}
	for _, script := range []string{deboot, engine} {
		for _, l := range strings.Split(script, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "#") && regexp.MustCompile(`allow-unauthenticated|no-check-gpg|AllowInsecure|trusted=yes`).MatchString(l) {
				t.Errorf("a recipe skips the archive's signature: %s", l)
			}
		}
	}
}
