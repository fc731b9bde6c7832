package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/zkchaos/zkchaos/scenarios"
)

var updateDocs = flag.Bool("update", false, "rewrite the generated part of docs/verdicts.md")

// docs/verdicts.md shows the expected table the specs and the CLI gate on.
func TestVerdictsDoc(t *testing.T) {
	const path, begin, end = "../../docs/verdicts.md", "<!-- expected:begin -->\n", "<!-- expected:end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %q … %q markers", path, begin, end)
	}
	want := doc[:i+len(begin)] + scenarios.ExpectedMarkdown() + doc[j:]
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Errorf("%s differs from scenarios.Expected: go test ./cmd/zkchaos -run TestVerdictsDoc -update", path)
	}
}
