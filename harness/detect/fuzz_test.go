package detect

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// fixtureLines seeds the fuzzers with every line of fixtures/ (real captures).
func fixtureLines(f *testing.F) {
	files, _ := filepath.Glob("../../fixtures/*/*")
	more, _ := filepath.Glob("../../fixtures/captured/*/*")
	for _, p := range append(files, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, l := range bytes.Split(b, []byte("\n")) {
			if len(l) > 0 && len(l) < 4096 {
				f.Add(l)
			}
		}
	}
	for _, l := range []string{factsVote34, srcVote36, factsSmaller34, factsSmaller38, factsSevere, factsResolve,
		"Notification time out: 400 ms", "[3 times] Message: Error accepting new connection: Too many connections from /1.2.3.4 - max is 60"} {
		f.Add([]byte(l))
	}
}

func fixtureFiles(f *testing.F, globs ...string) {
	for _, b := range fixtureBlobs(globs...) {
		f.Add(b)
	}
}

func fixtureBlobs(globs ...string) [][]byte {
	var out [][]byte
	for _, g := range globs {
		files, _ := filepath.Glob("../../fixtures/" + g)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil && len(b) < 1<<20 {
				out = append(out, b)
			}
		}
	}
	return out
}

func FuzzParseLine(f *testing.F) {
	fixtureLines(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		ev := ParseLine(line)
		if ev.Kind == EventNone {
			return
		}
		if !hasAnchor(line) {
			t.Fatalf("classified as %v without an anchor: the scanner would skip it", ev.Kind)
		}
		if !utf8.ValidString(ev.Line) || len(ev.Line) > maxEvidenceLine+8 {
			t.Fatalf("evidence line not printable or too long")
		}
		if ev.Kind == EventNotification && (stateWord([]byte(ev.Notification.State)) == "" || stateWord([]byte(ev.Notification.MyState)) == "") {
			t.Fatalf("notification without states: %+v", ev.Notification)
		}
	})
}

func FuzzParseNotification(f *testing.F) {
	fixtureLines(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		n, err := ParseNotification(line)
		if err != nil {
			return
		}
		if n.Format == FormatUnknown || n.State == "" || n.MyState == "" {
			t.Fatalf("accepted without format or states: %+v", n)
		}
		// what ParseNotification accepts, ParseLine must classify the same
		if !bytes.Contains(line, kNotifTimeout) {
			if ev := ParseLine(line); ev.Kind != EventNotification || ev.Notification != n {
				t.Fatalf("ParseLine disagrees: %v %+v", ev.Kind, ev.Notification)
			}
		}
	})
}

// FuzzScanLog checks the fast path against line-at-a-time feeding.
func FuzzScanLog(f *testing.F) {
	for i, b := range fixtureBlobs("seed/*", "captured/*/*") {
		f.Add(b, uint8(0), uint8(0))
		f.Add(b, uint8(1+i*37%200), uint8(i*13))
	}
	// the field's excerpts, as published and hard-wrapped at 80 columns
	for i, b := range fixtureBlobs("field/*/*") {
		f.Add(b, uint8(1+i*41%200), uint8(i*7))
		wrapped := strings.Join(wrapAll(strings.Split(string(b), "\n"), 80), "\n")
		f.Add([]byte(wrapped), uint8(1+i*29%200), uint8(i*11))
	}
	f.Add([]byte("Cannot open channel to 1 at election address zk1:3888\njava.net.UnknownHostException: zk1\nLOOKING"), uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, chunk, block uint8) {
		// tiny buffers put chunk and block boundaries everywhere
		if chunk > 0 {
			defer func(c, b int) { chunkSize, blockSize = c, b }(chunkSize, blockSize)
			chunkSize, blockSize = int(chunk), int(block)+1
		}
		got, err := ScanLog("n", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		// ReadFrom reads a console's fixed-width copy unfolded (unfold.go);
		// Feed takes lines as they come
		data, err = io.ReadAll(unfoldReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatal(err)
		}
		want := NewNodeLog("n")
		parts := bytes.Split(data, []byte("\n"))
		if len(parts) > 0 && len(parts[len(parts)-1]) == 0 {
			parts = parts[:len(parts)-1]
		}
		for _, p := range parts {
			if len(p) >= chunkSize {
				p = p[:chunkSize] // what ReadFrom keeps of a line that fills its buffer
			}
			want.Feed(p)
		}
		if got.Bytes != int64(len(data)) {
			t.Fatalf("bytes %d, want %d", got.Bytes, len(data))
		}
		if got.Lines != want.Lines {
			t.Fatalf("lines %d, want %d", got.Lines, want.Lines)
		}
		g := fmt.Sprint(Detect(Observations{Logs: []*NodeLog{got}}))
		w := fmt.Sprint(Detect(Observations{Logs: []*NodeLog{want}}))
		if g != w {
			t.Fatalf("ReadFrom and Feed disagree:\n%s\n%s", g, w)
		}
	})
}

func FuzzParseFourLetterWords(f *testing.F) {
	f.Add([]byte("zk_version\t3.8.0\nzk_server_state\tleader\nzk_connection_rejected\t3\n"))
	f.Add([]byte("Zookeeper version: 3.4.13\nLatency min/avg/max: 0/0/0\nZxid: 0x100000000\nMode: follower\nConnections: 2\n"))
	f.Add([]byte(" /172.18.0.1:40000[1](queued=0,recved=1,sent=1)\n /0:0:0:0:0:0:0:1:5[0](queued=0)\n"))
	f.Add([]byte("clientPort=2181\nmaxClientCnxns=60\nmembership: \nserver.1=zk1:2888:3888:participant;0.0.0.0:2181\n"))
	f.Add([]byte("This ZooKeeper instance is not currently serving requests\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseMntr(bytes.NewReader(b)); err == nil {
			for k := range m {
				if !strings.HasPrefix(k, "zk_") {
					t.Fatalf("mntr key %q", k)
				}
			}
		}
		if s, err := ParseSrvr(bytes.NewReader(b)); err == nil && len(s.Fields) == 0 {
			t.Fatal("srvr without fields")
		}
		if cs, err := ParseCons(bytes.NewReader(b)); err == nil {
			for _, c := range cs {
				if c.IP == "" {
					t.Fatalf("cons without IP: %+v", c)
				}
			}
		}
		if c, err := ParseConf(bytes.NewReader(b)); err == nil {
			_ = c.MaxClientCnxns()
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	fixtureFiles(f, "*/*.cfg", "captured/*/*.cfg")
	f.Add([]byte("tickTime=200\ninitLimit=10\nserver.1=zk1:2888:3888\nserver.2=[::1]:2888:3888;2181\nautopurge.purgeInterval=1\n# c\nkey value\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if c.SnapRetainCount() < 3 {
			t.Fatal("retain count below ZooKeeper's minimum")
		}
		for id, s := range c.Servers {
			if s.ID != id {
				t.Fatalf("server line %d has id %d", id, s.ID)
			}
		}
	})
}

func FuzzParseNet(f *testing.F) {
	fixtureFiles(f, "host/*", "seed/f5-*", "captured/*/*netstat*", "captured/*/*ss*")
	f.Add([]byte("TcpExt: ListenOverflows ListenDrops\nTcpExt: 5 6\nLISTEN 0 50 *:2181 *:*\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := ParseNet("n", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range o.Snapshots {
			for k := range s.Counters {
				if _, ok := s.Lines[k]; !ok {
					t.Fatalf("counter %s without its line", k)
				}
			}
		}
		for _, l := range o.Listeners {
			if l.Local == "" {
				t.Fatal("listener without address")
			}
		}
		_ = Detect(Observations{Net: []NetObservation{o}})
	})
}

func FuzzParseDataDirListing(f *testing.F) {
	f.Add([]byte(lsListing(5)))
	f.Add([]byte("67108880\t/data/version-2/log.100000001\n204800 snapshot.100000000\nsnapshot.200000000 5\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDataDirListing("n", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		for _, df := range d.Files {
			if df.Kind() == "" || df.Zxid() < 0 {
				t.Fatalf("kept %q", df.Name)
			}
		}
		_ = Detect(Observations{DataDirs: []DataDir{d}})
	})
}

// FuzzShipperMessage: any line, JSON or not, is read without a panic, and the
// message of a shipper line is never longer than the line it came from.
func FuzzShipperMessage(f *testing.F) {
	f.Add([]byte(`{"@timestamp":"2019-08-06T20:48:42.858Z","message":"2019-08-06 20:48:42,858 INFO Notification time out: 400 (org.apache.zookeeper.server.quorum.FastLeaderElection)"}`))
	f.Add([]byte(`{"log":"2021-02-07 00:45:51,689 [myid:1] - WARN  [QuorumConnectionThread-[myid=1]-2:QuorumCnxManager@400] - Cannot open channel to 2 at election address zoo2/172.27.0.4:3888\n","stream":"stderr"}`))
	f.Add([]byte(`{"message":"java.io.IOException: \u8bbe\u5907\u4e0a\u6ca1\u6709\u7a7a\u95f4 \ud83d\ude00 \"x\" \\ \/"}`))
	f.Add([]byte(`{"msg":"unterminated \`))
	f.Fuzz(func(t *testing.T, line []byte) {
		m, ok := ShipperMessage(line)
		if ok && len(m) > 3*len(line) {
			t.Fatalf("message of %d bytes from a line of %d", len(m), len(line))
		}
		ParseLine(line)
	})
}

// FuzzParseWrapped: a line and the next, however cut, never panic, and a
// joined event is only ever one the scanner could have found (an anchor).
// FuzzWrappedRecord reads two lines as the pieces of one record, both ways: the
// second completing the first (a record pending), and the first as the piece
// above the second. The evidence stays printable and ReadFrom agrees with Feed.
func FuzzWrappedRecord(f *testing.F) {
	f.Add([]byte("2016-09-17 14:46:29,328 [myid:3] - INFO  [QuorumPeer[myid=3]/172.18.32.90:2181:FastLeaderElection@852] - Notification time"), []byte("out: 400"))
	f.Add([]byte("2017-07-18 17:31:12,016 - INFO  [WorkerReceiver Thread:FastLeaderElection@496] - Notification: 3 (n.leader), 73014444480 (n.zxid), 831 (n.round), LEADING"), []byte("(n.state), 3 (n.sid), LOOKING (my state)"))
	f.Add([]byte("Too many connections from /10.0.0.1 -"), []byte("max is 60"))
	f.Add([]byte("2014-12-16 17:11:38,921 [myid:12] - WARN [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory@193] - Too"), []byte(" many connections from /1.2.3.4 - max is 500"))
	f.Fuzz(func(t *testing.T, line, next []byte) {
		n := NewNodeLog("n")
		n.wrap = append([]byte(nil), line...)
		n.unwrap(next)
		ev, _, _, _ := withPieces(next, ParseLine(next), func(i int) []byte {
			if i == 0 {
				return line
			}
			return nil
		})
		if ev.Kind != EventNone && !utf8.ValidString(ev.Line) {
			t.Fatal("evidence not printable")
		}
		data := append(append(append([]byte(nil), line...), '\n'), next...)
		if bytes.ContainsRune(line, '\n') || bytes.ContainsRune(next, '\n') {
			return
		}
		got, _ := ScanLog("n", bytes.NewReader(data))
		want := NewNodeLog("n")
		want.Feed(line)
		want.Feed(next)
		if g, w := fmt.Sprint(Detect(Observations{Logs: []*NodeLog{got}})), fmt.Sprint(Detect(Observations{Logs: []*NodeLog{want}})); g != w {
			t.Fatalf("ReadFrom and Feed disagree:\n%s\n%s", g, w)
		}
	})
}

// FuzzUnfold: reading a console's copy unfolded only takes line breaks (and
// their carriage returns) away, whatever the input.
func FuzzUnfold(f *testing.F) {
	for _, b := range fixtureBlobs("field/*/*") {
		f.Add(b)
		f.Add([]byte(strings.Join(foldAll(strings.Split(string(b), "\n"), 80), "\n")))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := io.ReadAll(unfoldReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatal(err)
		}
		strip := func(b []byte) []byte {
			return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r"), nil), []byte("\n"), nil)
		}
		if !bytes.Equal(strip(out), strip(data)) {
			t.Fatalf("unfolding changed the text:\n%q\n%q", data, out)
		}
	})
}
