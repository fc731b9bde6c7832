package harness

import (
	"os"
	"strings"
	"testing"
)

// The README's library example is the test CI runs as a module of its own
// (testdata/outside): the same function, line for line, so it works as written.
func TestReadmeExampleIsTheOutsideModulesTest(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../testdata/outside/failover_test.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	start := strings.Index(s, "func TestLeaderFailover(")
	if start < 0 {
		t.Fatal("no TestLeaderFailover in testdata/outside/failover_test.go")
	}
	body := s[start:]
	// The README's copy ends where the log line of the test (not shown) begins.
	if i := strings.Index(body, "\tt.Logf("); i >= 0 {
		body = body[:i] + "}\n"
	}
	if !strings.Contains(string(readme), body) {
		t.Fatalf("README.md's example differs from testdata/outside/failover_test.go's TestLeaderFailover:\n%s", body)
	}
}
