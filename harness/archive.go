package harness

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/moby/api/types/jsonstream"
)

// ChecksumFile is the sidecar SaveImages writes next to an archive: the
// archive's SHA-256 in `sha256sum` format, checked by LoadImages (and by
// `sha256sum -c FILE.sha256`).
func ChecksumFile(archive string) string { return archive + ".sha256" }

// SaveImages writes the given images (tags) to one gzip-compressed archive
// through the engine's API (`docker save`), then its checksum to
// ChecksumFile(file). A half-written archive is removed.
func SaveImages(ctx context.Context, file string, refs []string) (size int64, err error) {
	cli, err := Docker(ctx)
	if err != nil {
		return 0, err
	}
	for _, ref := range refs {
		if info, err := inspectImage(ctx, ref); err != nil {
			return 0, err
		} else if !info.found {
			return 0, fmt.Errorf("save: image %s not found: run `%s` first", ref, ImagesCommand)
		}
	}
	f, err := os.Create(file)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(file)
		}
	}()
	res, err := cli.ImageSave(ctx, refs)
	if err != nil {
		return 0, fmt.Errorf("save %s: %w", strings.Join(refs, " "), err)
	}
	defer res.Close()
	h := sha256.New()
	counted := &countWriter{w: io.MultiWriter(f, h)}
	// BestSpeed: the layers are mostly jars, compressed already; a higher level
	// costs minutes of CPU for a few per cent.
	zw, err := gzip.NewWriterLevel(counted, gzip.BestSpeed)
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(zw, res); err != nil {
		return 0, fmt.Errorf("save: %w", err)
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	sum := fmt.Sprintf("%s  %s\n", hex.EncodeToString(h.Sum(nil)), filepath.Base(file))
	if err := os.WriteFile(ChecksumFile(file), []byte(sum), 0o644); err != nil {
		return 0, err
	}
	return counted.n, nil
}

// LoadImages checks file against its checksum sidecar, then loads its images
// into the engine (`docker load`) and returns their names. Nothing is loaded
// from an archive whose checksum differs or is missing.
func LoadImages(ctx context.Context, file string) ([]string, error) {
	want, err := readChecksum(file)
	if err != nil {
		return nil, err
	}
	got, err := fileSHA256(file)
	if err != nil {
		return nil, err
	}
	if got != want {
		return nil, fmt.Errorf("load: %s has SHA-256 %s, its %s says %s: the archive is damaged or not the one saved; nothing loaded", file, got, filepath.Base(ChecksumFile(file)), want)
	}
	cli, err := Docker(ctx)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", file, err)
	}
	res, err := cli.ImageLoad(ctx, zr)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", file, err)
	}
	defer res.Close()
	var loaded []string
	dec := json.NewDecoder(res)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return loaded, fmt.Errorf("load %s: %w", file, err)
		}
		if m.Error != nil {
			return loaded, fmt.Errorf("load %s: %s", file, m.Error.Message)
		}
		if name, ok := strings.CutPrefix(strings.TrimSpace(m.Stream), "Loaded image: "); ok {
			loaded = append(loaded, name)
		}
	}
	return loaded, nil
}

func readChecksum(file string) (string, error) {
	b, err := os.ReadFile(ChecksumFile(file))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("load: %s has no checksum beside it (%s, written by `zkchaos images --save`): nothing loaded", file, filepath.Base(ChecksumFile(file)))
	}
	if err != nil {
		return "", err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 || len(f[0]) != 64 {
		return "", fmt.Errorf("load: %s: not a sha256sum line", ChecksumFile(file))
	}
	return strings.ToLower(f[0]), nil
}

func fileSHA256(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
