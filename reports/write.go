package reports

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
)

// WriteAll writes dir/index.html (the matrix and every run), one
// dir/<scenario>-<version>.html per record and dir/matrix.md, whose links
// point at the per-record pages. It returns the index's path.
func WriteAll(dir string, records []*Record) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var errs []error
	write := func(name string, render func(*bytes.Buffer) error) {
		var buf bytes.Buffer
		if err := render(&buf); err != nil {
			errs = append(errs, err)
			return
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			errs = append(errs, err)
		}
	}
	pages := map[*Record]string{}
	used := map[string]bool{}
	for _, r := range records {
		name := fileName(r)
		for i := 2; used[name]; i++ {
			name = fileName(r) + "-" + strconv.Itoa(i)
		}
		used[name] = true
		pages[r] = name + ".html"
		write(pages[r], func(b *bytes.Buffer) error { return r.HTML(b) })
	}
	write("matrix.md", func(b *bytes.Buffer) error {
		return Matrix(records, b, func(r *Record) string { return pages[r] + "#run-" + fileName(r) })
	})
	index := filepath.Join(dir, "index.html")
	write("index.html", func(b *bytes.Buffer) error { return WriteHTML(records, b) })
	return index, errors.Join(errs...)
}
