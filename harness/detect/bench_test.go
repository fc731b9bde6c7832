package detect

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchLogMB is the size of the generated log; issue 4 asks for 1 GB.
func benchLogMB() int64 {
	if s := os.Getenv("ZKCHAOS_BENCH_MB"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return 1024
}

// Ordinary traffic of a busy 3.4 server, when no captured log is there (message texts from the 3.4.13 source:
// NIOServerCnxnFactory, ZooKeeperServer, NIOServerCnxn, SessionTrackerImpl,
// FileTxnSnapLog), and the few lines that make findings.
var benchOrdinary = []string{
	"INFO  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory@192] - Accepted socket connection from /172.18.0.%d:%d",
	"INFO  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:ZooKeeperServer@942] - Client attempting to establish new session at /172.18.0.%d:%d",
	"INFO  [CommitProcessor:1:ZooKeeperServer@687] - Established session 0x1000%04x%06x with negotiated timeout 4000 for client /172.18.0.1:40000",
	"INFO  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxn@1040] - Closed socket connection for client /172.18.0.%d:%d which had sessionid 0x1000a2b3c0001",
	"INFO  [SessionTracker:ZooKeeperServer@355] - Expiring session 0x1000%04x%06x, timeout of 4000ms exceeded",
	"INFO  [ProcessThread(sid:1 cport:-1)::PrepRequestProcessor@487] - Processed session termination for sessionid: 0x1000%04x%06x",
	"WARN  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxn@376] - Unable to read additional data from client sessionid 0x1000a2b3c0001, likely client has closed socket %d %d",
	"INFO  [SyncThread:1:FileTxnLog@213] - Creating new log file: log.2000%04x%02x",
}

var benchFindings = []string{
	"WARN  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory@211] - Too many connections from /172.18.0.9 - max is 60",
	"INFO  [QuorumPeer[myid=1]/0.0.0.0:2181:QuorumCnxManager@347] - Have smaller server identifier, so dropping the connection: (2, 1)",
}

// benchPool returns the ordinary lines of the captured logs (real 3.4.13,
// 3.8.0, 3.9.3 servers: start-up, sessions, elections, snapshots), without
// any line the detectors look at; the built-in set when nothing is captured.
func benchPool() []string {
	files, _ := filepath.Glob("../../fixtures/captured/*/*.log")
	var pool []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if len(l) > 0 && !hasAnchor([]byte(l)) {
				pool = append(pool, l)
			}
		}
	}
	if len(pool) < 100 {
		pool = nil
		for i, o := range benchOrdinary {
			pool = append(pool, "2026-11-25 20:00:00,000 [myid:1] - "+fmt.Sprintf(o, i, i))
		}
	}
	return pool
}

// writeBenchLog writes about mb MiB: mostly ordinary lines, one finding line
// every ~100k lines. Memory stays at the bufio buffer.
func writeBenchLog(path string, mb int64) (int64, error) {
	pool := benchPool()
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var n int64
	start := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	for i := 0; n < mb<<20; i++ {
		var line string
		if i%100003 == 50000 {
			ts := start.Add(time.Duration(i) * time.Millisecond).Format("2006-01-02 15:04:05,000")
			line = ts + " [myid:1] - " + benchFindings[(i/100003)%len(benchFindings)] + "\n"
		} else {
			line = pool[(i*7919)%len(pool)] + "\n"
		}
		m, err := w.WriteString(line)
		n += int64(m)
		if err != nil {
			f.Close()
			return n, err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return n, err
	}
	return n, f.Close()
}

// BenchmarkDiagnoseThroughput measures ReadFrom+Detect on a 1 GiB log next to
// `grep -c` on the same file, in the same run (issue 4: at least a third of
// grep's speed). Two greps: for the one message an operator would grep for,
// and for all the fixed strings diagnose looks for (the same work).
func BenchmarkDiagnoseThroughput(b *testing.B) {
	if testing.Short() {
		b.Skip("writes a 1 GiB log to a temp dir; not with -short (ZKCHAOS_BENCH_MB sets the size)")
	}
	grep, err := exec.LookPath("grep")
	if err != nil {
		b.Skip("no grep to compare with")
	}
	path := filepath.Join(b.TempDir(), "zk1.log")
	defer os.Remove(path)
	size, err := writeBenchLog(path, benchLogMB())
	if err != nil {
		b.Fatal(err)
	}
	// the same work for grep: every anchor and wrap fragment as a fixed string
	grepAll := []string{"-c", "-F"}
	for _, a := range scanned {
		grepAll = append(grepAll, "-e", string(a))
	}
	grepAll = append(grepAll, path)
	grepOne := []string{"-c", "-F", "Too many connections", path}
	timeGrep := func(args []string) (float64, string) {
		best := time.Duration(1 << 62)
		var out []byte
		for i := 0; i < 3; i++ {
			t0 := time.Now()
			o, err := exec.Command(grep, args...).Output()
			d := time.Since(t0)
			if err != nil {
				b.Fatalf("grep: %v", err)
			}
			out, best = o, min(best, d)
		}
		return float64(size) / best.Seconds() / 1e6, strings.TrimSpace(string(out))
	}
	grepOneMBs, countOne := timeGrep(grepOne) // also warms the page cache
	grepAllMBs, countAll := timeGrep(grepAll)

	b.SetBytes(size)
	b.ResetTimer()
	var best time.Duration = 1 << 62
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		n, err := ScanLog("zk1", f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		fs := Detect(Observations{Logs: []*NodeLog{n}})
		best = min(best, time.Since(t0))
		if len(fs) != 2 || fs[0].Failure != F3 || fs[1].Failure != F4 || strconv.FormatInt(n.tooMany.total, 10) != countOne {
			b.Fatalf("findings %v, %d refusals, grep counted %s", fs, n.tooMany.total, countOne)
		}
	}
	b.StopTimer()
	mbs := float64(size) / best.Seconds() / 1e6
	b.ReportMetric(mbs, "diagnose-MB/s")
	b.ReportMetric(grepOneMBs, "grep-one-MB/s")
	b.ReportMetric(grepAllMBs, "grep-anchors-MB/s")
	b.ReportMetric(mbs/grepOneMBs, "ratio-vs-grep-one")
	b.ReportMetric(mbs/grepAllMBs, "ratio-vs-grep-anchors")
	b.Logf("%d MB log; grep -c one string counted %s lines, all anchors %s", size/1e6, countOne, countAll)
}
