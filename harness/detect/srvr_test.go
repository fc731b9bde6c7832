package detect

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// srvr answers captured from the three versions (fixtures/captured/srvr).
func TestParseSrvrCaptured(t *testing.T) {
	files, _ := filepath.Glob(fixtures + "captured/srvr/*.txt")
	if len(files) == 0 {
		t.Skip("no captured srvr answers")
	}
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseSrvr(f)
		f.Close()
		name := filepath.Base(p)
		version := strings.SplitN(name, "-", 2)[0]
		switch {
		case strings.Contains(name, "notserving"):
			if !errors.Is(err, ErrNotServing) {
				t.Errorf("%s: %v, want ErrNotServing", name, err)
			}
		case err != nil:
			t.Errorf("%s: %v", name, err)
		default:
			wantMode := "follower"
			if strings.Contains(name, "leader") {
				wantMode = "leader"
			}
			if s.Mode != wantMode || !strings.HasPrefix(s.Version, version) || s.Zxid < 0 || s.Connections < 0 {
				t.Errorf("%s: %+v", name, s)
			}
		}
	}
}
