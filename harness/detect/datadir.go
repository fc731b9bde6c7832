package detect

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DataFile is one file of a dataDir's version-2 directory.
type DataFile struct {
	Name    string    // "snapshot.100000000", "log.100000001"
	Size    int64     // bytes; -1 unknown
	ModTime time.Time // zero when unknown (listings)
}

// Kind is "snapshot", "log" or "" for the other files (currentEpoch, acceptedEpoch, ...).
func (f DataFile) Kind() string {
	switch {
	case strings.HasPrefix(f.Name, "snapshot."):
		return "snapshot"
	case strings.HasPrefix(f.Name, "log."):
		return "log"
	}
	return ""
}

// Zxid is the zxid in the file name (hex), -1 when it has none.
func (f DataFile) Zxid() int64 {
	i := strings.IndexByte(f.Name, '.')
	if i < 0 {
		return -1
	}
	u, err := strconv.ParseUint(f.Name[i+1:], 16, 64)
	if err != nil {
		return -1
	}
	return int64(u)
}

// DataDir is a listing of one node's dataDir (and dataLogDir) version-2 files.
type DataDir struct {
	Node  string
	Path  string
	Files []DataFile
}

// maxDataFiles bounds a listing; a dataDir with more files is F2 anyway.
const maxDataFiles = 1 << 20

// ReadDataDir lists a dataDir from disk: DIR/version-2 if it exists, else DIR
// itself (the user may point at version-2 directly).
func ReadDataDir(node, dir string) (DataDir, error) {
	d := DataDir{Node: node, Path: dir}
	v2 := filepath.Join(dir, "version-2")
	if st, err := os.Stat(v2); err == nil && st.IsDir() {
		d.Path = v2
	}
	f, err := os.Open(d.Path)
	if err != nil {
		return d, err
	}
	defer f.Close()
	for {
		ents, err := f.ReadDir(4096)
		for _, e := range ents {
			if !e.Type().IsRegular() || len(d.Files) >= maxDataFiles {
				continue
			}
			df := DataFile{Name: e.Name(), Size: -1}
			if df.Kind() == "" {
				continue
			}
			if info, err := e.Info(); err == nil {
				df.Size, df.ModTime = info.Size(), info.ModTime()
			}
			d.Files = append(d.Files, df)
		}
		if err == io.EOF || len(ents) == 0 {
			break
		}
		if err != nil {
			return d, err
		}
	}
	return d, nil
}

// ParseDataDirListing reads a listing of version-2 taken elsewhere: `ls -l`,
// `ls -ls`, `du -b`/`du -ab`, `find -printf '%s %p\n'`, or "name size" lines.
// The size is the number next to the name, or the one before the date in `ls -l`.
func ParseDataDirListing(node string, r io.Reader) (DataDir, error) {
	d := DataDir{Node: node}
	seen := map[string]int{}
	err := eachLine(r, func(line []byte) error {
		f := strings.Fields(string(line))
		if len(f) == 0 || len(d.Files) >= maxDataFiles {
			return nil
		}
		// the file name: the field whose base is snapshot.* or log.*
		ni := -1
		for i := len(f) - 1; i >= 0; i-- {
			b := filepath.Base(f[i])
			if (DataFile{Name: b}).Kind() != "" && (DataFile{Name: b}).Zxid() >= 0 {
				ni = i
				break
			}
		}
		if ni < 0 {
			return nil
		}
		df := DataFile{Name: string(printableBytes([]byte(filepath.Base(f[ni])), 128)), Size: -1}
		switch {
		case len(f) >= 9 && ni == len(f)-1 && isPerm(f[0]):
			// ls -l: perms links owner group size month day time name
			df.Size = atoiOr(f[4], -1)
		case len(f) >= 10 && ni == len(f)-1 && isPerm(f[1]):
			// ls -ls: blocks perms links owner group size ...
			df.Size = atoiOr(f[5], -1)
		case ni == 1 && len(f) == 2:
			df.Size = atoiOr(f[0], -1) // du -b, find -printf
		case ni == 0 && len(f) >= 2:
			df.Size = atoiOr(f[1], -1) // name size
		}
		if k, ok := seen[df.Name]; ok {
			d.Files[k] = df
			return nil
		}
		seen[df.Name] = len(d.Files)
		d.Files = append(d.Files, df)
		return nil
	})
	return d, err
}

func isPerm(s string) bool {
	return len(s) >= 10 && (s[0] == '-' || s[0] == 'l') && strings.Trim(s[1:10], "rwxsStT-") == ""
}

func atoiOr(s string, def int64) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return def
	}
	return n
}

// dataDirStats sums a listing against the retain count: what autopurge would
// keep (the newest retain snapshots, and the logs from the one that covers the
// oldest kept snapshot on) and what it would delete (PurgeTxnLog's rule).
type dataDirStats struct {
	snaps, logs           int
	bytes, purgeableBytes int64
	purgeableFiles        int
	sizesKnown            bool
	newest                time.Time
}

func statsOf(d DataDir, retain int) dataDirStats {
	var st dataDirStats
	st.sizesKnown = true
	var snaps, logs []DataFile
	for _, f := range d.Files {
		switch f.Kind() {
		case "snapshot":
			snaps = append(snaps, f)
		case "log":
			logs = append(logs, f)
		default:
			continue
		}
		if f.Size < 0 {
			st.sizesKnown = false
		} else {
			st.bytes += f.Size
		}
		if f.ModTime.After(st.newest) {
			st.newest = f.ModTime
		}
	}
	st.snaps, st.logs = len(snaps), len(logs)
	if len(snaps) <= retain {
		return st
	}
	byZxid := func(a, b DataFile) int {
		za, zb := a.Zxid(), b.Zxid()
		switch {
		case za < zb:
			return -1
		case za > zb:
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	}
	slices.SortFunc(snaps, byZxid)
	slices.SortFunc(logs, byZxid)
	oldestKept := snaps[len(snaps)-retain].Zxid()
	for _, s := range snaps[:len(snaps)-retain] {
		st.purgeableFiles++
		st.purgeableBytes += max(s.Size, 0)
	}
	// the newest log at or before the oldest kept snapshot is still needed
	keepLog := int64(-1)
	for _, l := range logs {
		if z := l.Zxid(); z <= oldestKept && z > keepLog {
			keepLog = z
		}
	}
	for _, l := range logs {
		if z := l.Zxid(); z < keepLog {
			st.purgeableFiles++
			st.purgeableBytes += max(l.Size, 0)
		}
	}
	return st
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + string("KMGTPE"[exp]) + "iB"
}
