package detect

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

func logOf(node string, lines ...string) *NodeLog {
	n := NewNodeLog(node)
	for _, l := range lines {
		n.Feed([]byte(l))
	}
	return n
}

func failures(fs []Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, string(f.Failure)+"@"+f.Node)
	}
	return strings.Join(s, ",")
}

func readFixture(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile("../../fixtures/" + path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s lacks %q:\n%s", what, sub, s)
		}
	}
}

// 3.8/3.9 lines in the 3.6+ format, built from the format strings at the
// release tags (no capture yet), in the zkchaos images' log4j layout.
func v38(ts, msg string) string {
	return "2026-11-25 " + ts + " - INFO  [QuorumPeer[myid=1]/0.0.0.0:2181:FastLeaderElection@1000] - " + msg
}

func vote36(my string, sid int, state string, leader int, round int) string {
	return fmt.Sprintf("Notification: my state:%s; n.sid:%d, n.state:%s, n.leader:%d, n.round:0x%x, n.peerEpoch:0x1, n.zxid:0x100000000, message format version:0x2, n.config version:0x0",
		my, sid, state, leader, round)
}

func TestF1Seed(t *testing.T) {
	n := logOf("zk1", readFixture(t, "seed/f1-3.3-notifications.log")...)
	fs := Detect(Observations{Logs: []*NodeLog{n}})
	if failures(fs) != "F1@zk1" {
		t.Fatalf("got %s, want F1@zk1", failures(fs))
	}
	f := fs[0]
	if FormatTime(f.Time) != "2017-07-18T17:31:12.017" {
		t.Errorf("time %s", FormatTime(f.Time))
	}
	mustContain(t, "evidence", strings.Join(f.Evidence, "\n"), "831 (n.round), LEADING", "Notification time out: 6400", "own round 1")
	mustContain(t, "explanation", f.Explanation, "ZOOKEEPER-1514", "3.3", "3.4.4")
	mustContain(t, "remedy", f.Remedy, "Restart the current leader (myid 3)", "3.4.4", "Upgrade")
}

// Verified on 3.8.0: a restarted follower at round 0x1 hears
// the leader and a follower at 0xb and is FOLLOWING 41 ms later: the fix holds.
func TestF1FixedVersionRejoinIsHealthy(t *testing.T) {
	n := logOf("zk1",
		v38("20:00:00,000", "LOOKING"),
		v38("20:00:00,001", "New election. My id = 1, proposed zxid=0x100000000"),
		v38("20:00:00,005", vote36("LOOKING", 1, "LOOKING", 1, 1)),
		v38("20:00:00,010", vote36("LOOKING", 3, "LEADING", 3, 0xb)),
		v38("20:00:00,011", vote36("LOOKING", 2, "FOLLOWING", 3, 0xb)),
		v38("20:00:00,041", "FOLLOWING - LEADER ELECTION TOOK - 41 MS"),
	)
	if fs := Detect(Observations{Logs: []*NodeLog{n}}); len(fs) != 0 {
		t.Fatalf("healthy rejoin gave %s", failures(fs))
	}
}

func TestF1NeedsToStayStuck(t *testing.T) {
	incident := readFixture(t, "seed/f1-3.3-notifications.log")
	// the votes alone: the node may join the next moment
	if fs := Detect(Observations{Logs: []*NodeLog{logOf("zk1", incident[:3]...)}}); len(fs) != 0 {
		t.Errorf("votes without time outs gave %s", failures(fs))
	}
	// same round: not ZOOKEEPER-1514's path
	n := logOf("zk1",
		v38("20:00:00,000", "LOOKING"),
		v38("20:00:00,005", vote36("LOOKING", 1, "LOOKING", 1, 0xb)),
		v38("20:00:00,010", vote36("LOOKING", 3, "LEADING", 3, 0xb)),
		v38("20:00:00,011", vote36("LOOKING", 2, "FOLLOWING", 3, 0xb)),
		v38("20:00:00,411", "Notification time out: 400 ms"),
		v38("20:00:01,211", "Notification time out: 800 ms"),
		v38("20:00:02,811", "Notification time out: 1600 ms"),
		v38("20:00:06,011", "Notification time out: 3200 ms"),
	)
	if fs := Detect(Observations{Logs: []*NodeLog{n}}); len(fs) != 0 {
		t.Errorf("same-round stuck node gave %s", failures(fs))
	}
}

func TestF1ThenLeaderRestartResolvesQuickly(t *testing.T) {
	incident := readFixture(t, "seed/f1-3.3-notifications.log")
	// stuck for 3 s, then joins: short, so not reported
	lines := append(append([]string{}, incident...), "2017-07-18 17:31:15,300 - INFO  [QuorumPeer:/0.0.0.0:2181:QuorumPeer@643] - FOLLOWING")
	if fs := Detect(Observations{Logs: []*NodeLog{logOf("zk1", lines...)}}); len(fs) != 0 {
		t.Errorf("resolved after 3 s gave %s", failures(fs))
	}
	// the same, resolved only 10 minutes later: it joined, so it was slow to
	// join, never "never rejoins" (a note, not a finding)
	lines[len(lines)-1] = "2017-07-18 17:41:15,300 - INFO  [QuorumPeer:/0.0.0.0:2181:QuorumPeer@643] - FOLLOWING"
	o := Observations{Logs: []*NodeLog{logOf("zk1", lines...)}}
	if fs := Detect(o); len(fs) != 0 {
		t.Fatalf("10 min LOOKING, then FOLLOWING gave %q", failures(fs))
	}
	mustContain(t, "notes", strings.Join(Notes(o), "\n"), "slow to join (10m3s)", "before it became FOLLOWING")
}

// A 3.4.13-format F4: node 1 dials 2 and 3, drops both, hears nobody, keeps
// backing off; zk2's log shows why its dial-back fails (DNS).
func f4Logs() []*NodeLog {
	l := func(ts, msg string) string {
		return "2026-11-25 " + ts + " [myid:1] - INFO  [QuorumPeer[myid=1]/0.0.0.0:2181:QuorumCnxManager@347] - " + msg
	}
	zk1 := logOf("zk1",
		l("20:00:00,000", "LOOKING"),
		l("20:00:00,001", "New election. My id =  1, proposed zxid=0x0"),
		l("20:00:00,002", "Notification: 1 (message format version), 1 (n.leader), 0x0 (n.zxid), 0x1 (n.round), LOOKING (n.state), 1 (n.sid), 0x0 (n.peerEpoch) LOOKING (my state)"),
		l("20:00:00,010", factsSmaller34),
		l("20:00:00,011", "Have smaller server identifier, so dropping the connection: (3, 1)"),
		l("20:00:00,211", "Notification time out: 400"),
		l("20:00:00,215", factsSmaller34),
		l("20:00:00,611", "Notification time out: 800"),
		l("20:00:01,411", "Notification time out: 1600"),
		l("20:00:03,011", "Notification time out: 3200"),
		l("20:00:06,211", "Notification time out: 6400"),
	)
	zk2 := logOf("zk2",
		"2026-11-25 19:59:00,000 [myid:2] - INFO  [QuorumPeer[myid=2]/0.0.0.0:2181:Follower@65] - FOLLOWING - LEADER ELECTION TOOK - 210",
		"2026-11-25 20:00:00,012 [myid:2] - WARN  [/0.0.0.0:3888:QuorumCnxManager@584] - Cannot open channel to 1 at election address zk1:3888",
		"java.net.UnknownHostException: zk1",
		"\tat java.net.AbstractPlainSocketImpl.connect(AbstractPlainSocketImpl.java:184)",
	)
	zk3 := logOf("zk3", "2026-11-25 19:59:00,000 [myid:3] - INFO  [QuorumPeer[myid=3]/0.0.0.0:2181:Leader@380] - LEADING - LEADER ELECTION TOOK - 205")
	return []*NodeLog{zk1, zk2, zk3}
}

func TestF4WithDNSCause(t *testing.T) {
	fs := Detect(Observations{Logs: f4Logs()})
	if failures(fs) != "F4@zk1" {
		t.Fatalf("got %q, want F4@zk1", failures(fs))
	}
	f := fs[0]
	ev := strings.Join(f.Evidence, "\n")
	mustContain(t, "evidence", ev, "dropping the connection: (2, 1)", "Notification time out: 6400", "zk2: ", "Cannot open channel to 1", "UnknownHostException")
	mustContain(t, "explanation", f.Explanation, "zk1 (myid 1)", "stays LOOKING", "DNS", "tells it from F1")
	mustContain(t, "remedy", f.Remedy, "ascending myid order: zk2 (myid 2), then zk3 (myid 3)", "First make the election address reachable")
	if FormatTime(f.Time) != "2026-11-25T20:00:00.010" {
		t.Errorf("time %s", FormatTime(f.Time))
	}
}

func TestF4SeedLineAlone(t *testing.T) {
	fs := Detect(Observations{Logs: []*NodeLog{logOf("zk1", readFixture(t, "seed/f4-have-smaller.log")...)}})
	if failures(fs) != "F4@zk1" {
		t.Fatalf("got %q", failures(fs))
	}
	mustContain(t, "explanation", fs[0].Explanation, "Confirm with `srvr`", "Suspected")
	if fs[0].Grade != Suspected {
		t.Errorf("a lone tie-break line is at most suspected, got %s", fs[0].Grade)
	}
	mustContain(t, "remedy", fs[0].Remedy, "ascending myid order")
}

// The smallest id logs "Have smaller" on every healthy start before its
// peers dial back: not F4.
func TestF4HealthyStartIsNotF4(t *testing.T) {
	lines := []string{
		"2026-11-25 20:00:00,000 [myid:1] - INFO  [QuorumPeer[myid=1]/0.0.0.0:2181:QuorumPeer@909] - LOOKING",
		"2026-11-25 20:00:00,010 [myid:1] - INFO  [QuorumPeer[myid=1]/0.0.0.0:2181:QuorumCnxManager@347] - " + factsSmaller34,
		"2026-11-25 20:00:00,011 [myid:1] - INFO  [QuorumPeer[myid=1]/0.0.0.0:2181:QuorumCnxManager@347] - Have smaller server identifier, so dropping the connection: (3, 1)",
		"2026-11-25 20:00:00,211 [myid:1] - INFO  [QuorumPeer[myid=1]/0.0.0.0:2181:FastLeaderElection@847] - Notification time out: 400",
		"2026-11-25 20:00:00,400 [myid:1] - INFO  [QuorumPeer[myid=1]/0.0.0.0:2181:Follower@65] - FOLLOWING - LEADER ELECTION TOOK - 400",
	}
	if fs := Detect(Observations{Logs: []*NodeLog{logOf("zk1", lines...)}}); len(fs) != 0 {
		t.Fatalf("healthy start gave %s", failures(fs))
	}
}

// A node that can reach no peer at all logs "Cannot open channel" and backs
// off to 60 s, but never "Have smaller": plain unreachability, not F4 or F1.
func TestUnreachableIsNeitherF1NorF4(t *testing.T) {
	l := func(ts, msg string) string {
		return "2026-11-25 " + ts + " - WARN  [QuorumPeer[myid=1]/0.0.0.0:2181:QuorumCnxManager@584] - " + msg
	}
	var lines []string
	lines = append(lines, l("20:00:00,000", "LOOKING"))
	to := 400
	for i := 0; i < 10; i++ {
		lines = append(lines,
			l(fmt.Sprintf("20:%02d:00,000", i), "Cannot open channel to 2 at election address zk2/172.18.0.3:3888"),
			"java.net.ConnectException: Connection refused (Connection refused)",
			l(fmt.Sprintf("20:%02d:01,000", i), fmt.Sprintf("Notification time out: %d", to)))
		to = min(to*2, 60000)
	}
	o := Observations{Logs: []*NodeLog{logOf("zk1", lines...)}}
	if fs := Detect(o); len(fs) != 0 {
		t.Fatalf("unreachable peers gave %s", failures(fs))
	}
	notes := Notes(o)
	if len(notes) != 1 || !strings.Contains(notes[0], "could not reach its peers") || !strings.Contains(notes[0], "Cannot open channel to 2") {
		t.Errorf("notes %q", notes)
	}
	// the same node once it joined has nothing to note
	o.Logs[0].Feed([]byte(l("20:10:00,000", "FOLLOWING")))
	if notes := Notes(o); len(notes) != 1 {
		t.Errorf("a 10-minute unreachable stretch is still worth a note: %q", notes)
	}
}

// A paste that folded the failed dial's stack trace and the next record into
// one line (the "Cannot open channel" header cut off) still says the node's
// own dials fail: it reaches nobody, which is a note, not F1|F4. The same
// time out without the folded stack stays a suspected stuck election.
func TestFoldedDialFailureIsUnreachable(t *testing.T) {
	stack := "java.net.ConnectException: Connection refused at java.net.PlainSocketImpl.socketConnect(Native Method) at java.net.Socket.connect(Socket.java:579) at org.apache.zookeeper.server.quorum.QuorumCnxManager.connectOne(QuorumCnxManager.java:368) at org.apache.zookeeper.server.quorum.FastLeaderElection.lookForLeader(FastLeaderElection.java:840) "
	rec := "2016-07-30 17:13:16,032 [myid:1] - INFO [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@849] - Notification time out: 51200"
	if ev := ParseLine([]byte(stack + rec)); ev.Kind != EventNotificationTimeout || !ev.DialFailed || ev.TimeoutMs != 51200 {
		t.Fatalf("folded line: %+v", ev)
	}
	if ev := ParseLine([]byte(rec)); ev.DialFailed {
		t.Errorf("a plain time out has no failed dial: %+v", ev)
	}
	if ev := ParseLine([]byte("QuorumCnxManager.connectOne( then java.net.ConnectException " + rec)); ev.DialFailed {
		t.Errorf("a frame before the exception is not its stack: %+v", ev)
	}
	o := Observations{Logs: []*NodeLog{logOf("zk1", stack+rec)}}
	if fs := Detect(o); len(fs) != 0 {
		t.Errorf("folded refused dial gave %s", failures(fs))
	}
	if notes := Notes(o); len(notes) != 1 || !strings.Contains(notes[0], "could not reach its peers") {
		t.Errorf("notes %q", notes)
	}
	// one time out alone, even of 51.2 s, is also a node whose peers are
	// down: a note with how long it has waited, no suspicion
	o = Observations{Logs: []*NodeLog{logOf("zk1", rec)}}
	if fs := Detect(o); len(fs) != 0 {
		t.Errorf("one time out alone gave %s", failures(fs))
	}
	if notes := Notes(o); len(notes) != 1 || !strings.Contains(notes[0], "one notification time out of 51200 ms") ||
		!strings.Contains(notes[0], "at least 51s") {
		t.Errorf("notes %q", notes)
	}
	// two, the back-off seen across rounds: a stuck election, both suspected
	before := "2016-07-30 17:12:24,832 [myid:1] - INFO [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@849] - Notification time out: 25600"
	o = Observations{Logs: []*NodeLog{logOf("zk1", before, rec)}}
	if got := failures(Detect(o)); got != "F1@zk1,F4@zk1" {
		t.Errorf("two time outs: %s", got)
	}
}

// With a quorum of LEADING/FOLLOWING votes in another round the node is F1
// even though, as the smallest id, it also logs "Have smaller".
func TestF1WinsOverF4(t *testing.T) {
	incident := readFixture(t, "seed/f1-3.3-notifications.log")
	lines := append([]string{"2017-07-18 17:31:12,000 - INFO  [QuorumPeer:/0.0.0.0:2181:QuorumCnxManager@183] - Have smaller server identifier, so dropping the connection: (2, 1)"}, incident...)
	fs := Detect(Observations{Logs: []*NodeLog{logOf("zk1", lines...)}})
	if failures(fs) != "F1@zk1" {
		t.Fatalf("got %q, want F1 only", failures(fs))
	}
}

func TestF3LogForms(t *testing.T) {
	n := logOf("zk1",
		"2026-11-25 20:00:00,000 - WARN  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory@211] - Too many connections from /172.18.0.1 - max is 60",
		"2026-11-25 20:00:00,001 - WARN  [NIOServerCxnFactory.AcceptThread:0.0.0.0/0.0.0.0:2181:RateLogger@87] - Message:Error accepting new connection: Too many connections from /172.18.0.1 - max is 60 Value:null",
		"2026-11-25 20:00:00,200 - WARN  [NIOServerCxnFactory.AcceptThread:0.0.0.0/0.0.0.0:2181:RateLogger@57] - [37 times] Message: Error accepting new connection: Too many connections from /172.18.0.1 - max is 60",
		"2026-11-25 20:00:00,300 - WARN  [NIOServerCxnFactory.AcceptThread:0.0.0.0/0.0.0.0:2181:RateLogger@87] - Message:Error accepting new connection: Too many connections from /10.0.0.7 - max is 60 Value:null",
	)
	fs := Detect(Observations{Logs: []*NodeLog{n}})
	if failures(fs) != "F3@zk1" {
		t.Fatalf("got %q", failures(fs))
	}
	ev := strings.Join(fs[0].Evidence, "\n")
	mustContain(t, "evidence", ev, "40 connection(s) refused from 172.18.0.1 (39), 10.0.0.7 (1); max is 60")
	mustContain(t, "explanation", fs[0].Explanation, "172.18.0.1, 10.0.0.7", "maxClientCnxns (60)")
	mustContain(t, "remedy", fs[0].Remedy, "maxClientCnxns")
	if FormatTime(fs[0].Time) != "2026-11-25T20:00:00.000" {
		t.Errorf("time %s", FormatTime(fs[0].Time))
	}
}

func TestF3Live(t *testing.T) {
	mntr, _ := ParseMntr(strings.NewReader("zk_version\t3.8.0\nzk_server_state\tfollower\nzk_connection_rejected\t12\n"))
	var cons strings.Builder
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&cons, " /172.18.0.9:%d[1](queued=0,recved=1,sent=1)\n", 40000+i)
	}
	cons.WriteString(" /172.18.0.1:39999[0](queued=0,recved=1,sent=0)\n")
	cs, _ := ParseCons(strings.NewReader(cons.String()))
	conf, _ := ParseConf(strings.NewReader("clientPort=2181\nmaxClientCnxns=60\n"))
	live := FourLetterWords{Node: "10.0.0.1:2181", Mntr: mntr, Cons: cs, Conf: conf}
	fs := Detect(Observations{Live: []FourLetterWords{live}})
	if failures(fs) != "F3@10.0.0.1:2181" {
		t.Fatalf("got %q", failures(fs))
	}
	mustContain(t, "evidence", strings.Join(fs[0].Evidence, "\n"), "zk_connection_rejected\t12", "60 connections from 172.18.0.9 (at the limit 60)")
	live.Mntr = Mntr{"zk_connection_rejected": "0"}
	if fs := Detect(Observations{Live: []FourLetterWords{live}}); len(fs) != 0 {
		t.Fatalf("no rejections gave %s", failures(fs))
	}
}

// lsListing renders `ls -l` lines for a version-2 with snaps snapshots and
// logs; sizes follow docs/F2.md §2 (logs preallocated to 64 MiB).
func lsListing(snaps int) string {
	var b strings.Builder
	fmt.Fprintln(&b, "total 1234")
	fmt.Fprintln(&b, "-rw-r--r-- 1 zookeeper zookeeper        1 Nov 25 20:00 acceptedEpoch")
	for i := 0; i < snaps; i++ {
		z := int64(i+1) << 8
		fmt.Fprintf(&b, "-rw-r--r-- 1 zookeeper zookeeper 67108880 Nov 25 20:%02d log.%x\n", i%60, z-0x80)
		fmt.Fprintf(&b, "-rw-r--r-- 1 zookeeper zookeeper   204800 Nov 25 20:%02d snapshot.%x\n", i%60, z)
	}
	return b.String()
}

func TestF2Listing(t *testing.T) {
	d, err := ParseDataDirListing("zk1", strings.NewReader(lsListing(10)))
	if err != nil || len(d.Files) != 20 {
		t.Fatalf("listing: %d files, %v", len(d.Files), err)
	}
	fs := Detect(Observations{DataDirs: []DataDir{d}})
	if failures(fs) != "F2@zk1" {
		t.Fatalf("got %q", failures(fs))
	}
	ev := strings.Join(fs[0].Evidence, "\n")
	// 7 old snapshots + the 7 logs before the one the oldest kept snapshot needs
	mustContain(t, "evidence", ev, "10 snapshot(s) and 10 transaction log(s), 642.0 MiB", "14 file(s), 449.4 MiB, are purgeable", "default autopurge.purgeInterval=0")
	mustContain(t, "remedy", fs[0].Remedy, "autopurge.purgeInterval=1", "autopurge.snapRetainCount=3")

	cfg, _ := ParseConfig(strings.NewReader("autopurge.purgeInterval=1\nautopurge.snapRetainCount=3\n"))
	if fs := Detect(Observations{DataDirs: []DataDir{d}, Config: cfg}); len(fs) != 0 {
		t.Errorf("purge enabled gave %s", failures(fs))
	}
	cfg, _ = ParseConfig(strings.NewReader("autopurge.snapRetainCount=20\n"))
	if fs := Detect(Observations{DataDirs: []DataDir{d}, Config: cfg}); len(fs) != 0 {
		t.Errorf("within retain count gave %s", failures(fs))
	}
	d3, _ := ParseDataDirListing("zk1", strings.NewReader(lsListing(3)))
	if fs := Detect(Observations{DataDirs: []DataDir{d3}}); len(fs) != 0 {
		t.Errorf("3 snapshots gave %s", failures(fs))
	}
}

func TestF2DataDirOnDisk(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(dir+"/version-2", 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		for _, name := range []string{fmt.Sprintf("snapshot.%x", i<<8), fmt.Sprintf("log.%x", i<<8-1)} {
			if err := os.WriteFile(dir+"/version-2/"+name, bytes.Repeat([]byte{0}, 1000), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	d, err := ReadDataDir("zk2", dir)
	if err != nil || len(d.Files) != 10 {
		t.Fatalf("%d files, %v", len(d.Files), err)
	}
	cfg, _ := ParseConfig(strings.NewReader("autopurge.purgeInterval=0\n"))
	fs := Detect(Observations{DataDirs: []DataDir{d}, Config: cfg})
	if failures(fs) != "F2@zk2" || fs[0].Time.IsZero() {
		t.Fatalf("got %q", failures(fs))
	}
	mustContain(t, "evidence", strings.Join(fs[0].Evidence, "\n"), "zoo.cfg: autopurge.purgeInterval=0", "4 file(s), 3.9 KiB, are purgeable")
}

// docs/F2.md §1, captured on 3.9.3: the follower's disk filled and it exited.
func TestF2DiskFull(t *testing.T) {
	n := logOf("zk2", "2026-11-25 20:00:00,000 - "+factsSevere, "java.io.IOException: No space left on device")
	fs := Detect(Observations{Logs: []*NodeLog{n}})
	if failures(fs) != "F2@zk2" {
		t.Fatalf("got %q", failures(fs))
	}
	mustContain(t, "evidence", strings.Join(fs[0].Evidence, "\n"), "Severe unrecoverable error, exiting", "No space left on device")
	mustContain(t, "explanation", fs[0].Explanation, "ran out of disk", "Severe unrecoverable error")
	// a severe error with another cause is not F2
	if fs := Detect(Observations{Logs: []*NodeLog{logOf("zk2", factsSevere, "java.io.IOException: Input/output error")}}); len(fs) != 0 {
		t.Errorf("EIO gave %s", failures(fs))
	}
}

func TestF5Seed(t *testing.T) {
	b, _ := os.ReadFile("../../fixtures/seed/f5-netstat-s.txt")
	obs, err := ParseNet("m1", bytes.NewReader(b))
	if err != nil || len(obs.Snapshots) != 1 || obs.Snapshots[0].Counters[ListenOverflows] != 53828 || obs.Snapshots[0].Counters[ListenDrops] != 53828 {
		t.Fatalf("parse: %+v %v", obs, err)
	}
	fs := Detect(Observations{Net: []NetObservation{obs}})
	if failures(fs) != "F5@m1" {
		t.Fatalf("got %q", failures(fs))
	}
	mustContain(t, "explanation", fs[0].Explanation, "one snapshot cannot show", "backlog of 50")
	mustContain(t, "remedy", fs[0].Remedy, "somaxconn", "tcp_max_syn_backlog", "clientPortListenBacklog", "ZOOKEEPER-974", "reuse")
}

// /proc/net/netstat captured on the development host, and the same with the
// ListenOverflows growth measured on 3.4.13 under a flood (+591).
func TestF5Deltas(t *testing.T) {
	proc, err := os.ReadFile("../../fixtures/host/proc-net-netstat.txt")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := ParseNet("zk1", bytes.NewReader(proc))
	if len(base.Snapshots) != 1 {
		t.Fatalf("%d snapshots", len(base.Snapshots))
	}
	if fs := Detect(Observations{Net: []NetObservation{base}}); len(fs) != 0 {
		t.Fatalf("a quiet host gave %s", failures(fs))
	}
	before := base.Snapshots[0].Counters[ListenOverflows]
	after := bumpProc(t, string(proc), 591)
	two, _ := ParseNet("zk1", strings.NewReader("2026-11-25T20:00:00Z\n"+string(proc)+"2026-11-25T20:00:05Z\n"+after))
	if len(two.Snapshots) != 2 {
		t.Fatalf("%d snapshots", len(two.Snapshots))
	}
	ss := "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\nLISTEN 0      50                 *:2181            *:*\n"
	sso, _ := ParseNet("zk1", strings.NewReader(ss))
	two.Listeners = sso.Listeners
	fs := Detect(Observations{Net: []NetObservation{two}})
	if failures(fs) != "F5@zk1" {
		t.Fatalf("got %q", failures(fs))
	}
	ev := strings.Join(fs[0].Evidence, "\n")
	mustContain(t, "evidence", ev, fmt.Sprintf("TcpExt:ListenOverflows %d -> %d (+591)", before, before+591), "backlog (Send-Q) of 50")
	if FormatTime(fs[0].Time) != "2026-11-25T20:00:05.000Z" {
		t.Errorf("time %s", FormatTime(fs[0].Time))
	}
	// the client side backs it, but alone it could be a partition: no finding
	clients := []ClientObservation{{Node: "zk1", Attempts: 39980, ConnectTimeouts: 30468}}
	fs = Detect(Observations{Net: []NetObservation{two}, Clients: clients})
	mustContain(t, "evidence", strings.Join(fs[0].Evidence, "\n"), "clients of zk1: 30468 of 39980 connects timed out")
	if fs := Detect(Observations{Clients: clients}); len(fs) != 0 {
		t.Errorf("client time outs alone gave %s", failures(fs))
	}
	// no growth, backlog 50: the default, not a failure
	same, _ := ParseNet("zk1", strings.NewReader(string(proc)+string(proc)+ss))
	if len(same.Snapshots) != 2 {
		t.Fatalf("%d snapshots", len(same.Snapshots))
	}
	if fs := Detect(Observations{Net: []NetObservation{same}}); len(fs) != 0 {
		t.Errorf("no growth gave %s", failures(fs))
	}
	// a full accept queue right now is F5 by itself
	full, _ := ParseNet("zk1", strings.NewReader("LISTEN 51     50                 *:2181            *:*\n"))
	if fs := Detect(Observations{Net: []NetObservation{full}}); failures(fs) != "F5@zk1" {
		t.Errorf("full queue gave %q", failures(fs))
	}
}

// bumpProc adds d to ListenOverflows and ListenDrops in a /proc/net/netstat text.
func bumpProc(t *testing.T, proc string, d int64) string {
	lines := strings.Split(proc, "\n")
	for i := 0; i+1 < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "TcpExt:") {
			continue
		}
		names, vals := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		for k, n := range names {
			if n == "ListenOverflows" || n == "ListenDrops" {
				var v int64
				fmt.Sscan(vals[k], &v)
				vals[k] = fmt.Sprint(v + d)
			}
		}
		lines[i+1] = strings.Join(vals, " ")
		return strings.Join(lines, "\n")
	}
	t.Fatal("no TcpExt in the capture")
	return ""
}

// ReadFrom (the fast path) and Feed (line at a time) must agree, whatever
// the read sizes and wherever the chunk boundaries fall.
func TestReadFromMatchesFeed(t *testing.T) {
	var b bytes.Buffer
	filler := "2026-11-25 20:00:00,000 - INFO  [NIOWorkerThread-2:NIOServerCnxn@1056] - Closed socket connection for client /172.18.0.1:40000 which had sessionid 0x100000000000001\n"
	interesting := append(readFixture(t, "seed/f1-3.3-notifications.log"), readFixture(t, "seed/f3-too-many-connections.log")...)
	interesting = append(interesting, "2026-11-25 20:00:00,012 [myid:2] - WARN  [/0.0.0.0:3888:QuorumCnxManager@584] - Cannot open channel to 1 at election address zk1:3888", "java.net.UnknownHostException: zk1")
	for i := 0; b.Len() < 3*chunkSize; i++ {
		b.WriteString(filler)
		if i%997 == 0 {
			for _, l := range interesting {
				b.WriteString(l + "\n")
			}
		}
	}
	data := b.Bytes()
	var want *NodeLog
	{
		want = NewNodeLog("zk1")
		for _, l := range bytes.SplitAfter(data, []byte("\n")) {
			if len(l) > 0 {
				want.Feed(bytes.TrimSuffix(l, []byte("\n")))
			}
		}
	}
	wantF := Detect(Observations{Logs: []*NodeLog{want}})
	if failures(wantF) != "F1@zk1,F3@zk1,F4@myid 1" {
		t.Fatalf("feed: %q", failures(wantF))
	}
	for name, r := range map[string]func() *bytes.Reader{"whole": func() *bytes.Reader { return bytes.NewReader(data) }} {
		for _, wrap := range []struct {
			name string
			f    func(*bytes.Reader) interface{ Read([]byte) (int, error) }
		}{
			{"plain", func(r *bytes.Reader) interface{ Read([]byte) (int, error) } { return r }},
			{"half", func(r *bytes.Reader) interface{ Read([]byte) (int, error) } { return iotest.HalfReader(r) }},
			{"data+EOF", func(r *bytes.Reader) interface{ Read([]byte) (int, error) } { return iotest.DataErrReader(r) }},
		} {
			got, err := ScanLog("zk1", wrap.f(r()))
			if err != nil {
				t.Fatal(err)
			}
			if got.Lines != want.Lines || got.Bytes != int64(len(data)) {
				t.Errorf("%s/%s: %d lines %d bytes, want %d lines %d bytes", name, wrap.name, got.Lines, got.Bytes, want.Lines, len(data))
			}
			gotF := Detect(Observations{Logs: []*NodeLog{got}})
			if fmt.Sprint(gotF) != fmt.Sprint(wantF) {
				t.Errorf("%s/%s: findings differ:\n%v\n%v", name, wrap.name, gotF, wantF)
			}
			if c := got.channels[1]; c == nil || c.cause != "java.net.UnknownHostException: zk1" || c.sample.n == 0 {
				t.Errorf("%s/%s: cannot-open cause not attached: %+v", name, wrap.name, c)
			}
		}
	}
}

// A 10 MB line, binary garbage and non-UTF-8 neither crash nor hide the
// lines around them.
func TestHostileInput(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	garbage := make([]byte, 3<<20)
	rng.Read(garbage)
	var b bytes.Buffer
	b.Write(garbage)
	b.WriteString("\n")
	b.WriteString("\xff\xfe Too many connections from /\xff\xfe - max is 60 \x00\x01\n")
	b.WriteString(strings.Repeat("x", 10<<20)) // one 10 MB line
	b.WriteString(" Too many connections from /1.2.3.4 - max is 60\n")
	b.WriteString("2026-11-25 20:00:00,000 - WARN  [x:NIOServerCnxnFactory@211] - Too many connections from /172.18.0.1 - max is 60\n")
	b.WriteString("no newline at the end: Too many connections from /172.18.0.2 - max is 60")
	n, err := ScanLog("zk1", &b)
	if err != nil {
		t.Fatal(err)
	}
	fs := Detect(Observations{Logs: []*NodeLog{n}})
	if failures(fs) != "F3@zk1" {
		t.Fatalf("got %q", failures(fs))
	}
	ev := strings.Join(fs[0].Evidence, "\n")
	mustContain(t, "evidence", ev, "172.18.0.1 (1)", "172.18.0.2 (1)", "\ufffd")
	if strings.Contains(ev, "1.2.3.4") {
		t.Errorf("the tail of a 10 MB line was parsed: %s", ev)
	}
	for _, e := range fs[0].Evidence {
		if len(e) > maxEvidenceLine+8 || strings.ContainsAny(e, "\x00\x01") {
			t.Errorf("evidence not cleaned: %q", e[:min(len(e), 80)])
		}
	}
}

func TestHostCapturesAreHealthy(t *testing.T) {
	for _, f := range []string{"host/proc-net-netstat.txt", "host/ss-ltn.txt", "host/nstat-az.txt", "host/netstat-s.txt"} {
		b, err := os.ReadFile("../../fixtures/" + f)
		if err != nil {
			t.Fatal(err)
		}
		obs, err := ParseNet("host", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if fs := Detect(Observations{Net: []NetObservation{obs}}); len(fs) != 0 {
			t.Errorf("%s gave %s", f, failures(fs))
		}
	}
	b, _ := os.ReadFile("../../fixtures/host/ss-ltn.txt")
	ls, _ := ParseSS(bytes.NewReader(b))
	if len(ls) == 0 || ls[0].Port == 0 || ls[0].SendQ == 0 {
		t.Errorf("ss capture: %+v", ls)
	}
	b, _ = os.ReadFile("../../fixtures/host/nstat-az.txt")
	snaps, _ := ParseNetstat(bytes.NewReader(b))
	if len(snaps) != 1 {
		t.Fatalf("nstat: %d snapshots", len(snaps))
	}
	if _, ok := snaps[0].Counters[ListenOverflows]; !ok {
		t.Errorf("nstat: no ListenOverflows: %v", snaps[0].Counters)
	}
}

// A full disk seen as the exception of a ZooKeeper record: the exception line
// carries no mark of ZooKeeper's own, the record above it does
// (fixtures/field/F2/druid-runbook-currentepoch-enospc.log). Both readers
// (line by line and the chunked scan) tie it to that record.
func TestNoSpaceExceptionOfAZooKeeperRecord(t *testing.T) {
	zk := "2021-09-21 06:58:22,227 [myid:1] - ERROR [QuorumPeer[myid=1]/0.0.0.0:2181:QuorumPeer@1347] - Failed to write new file /var/lib/zookeeper/data/version-2/currentEpoch"
	other := "[2021-09-21 06:58:22,227] ERROR Error while appending records to topic-0 in dir /var/lib/kafka/data (kafka.server.LogDirFailureChannel)"
	exc := "java.io.IOException: No space left on device"
	grade := func(n *NodeLog) string {
		fs := Detect(Observations{Logs: []*NodeLog{n}})
		if len(fs) == 0 {
			return "none"
		}
		return fmt.Sprintf("%s/%s", fs[0].Failure, fs[0].GradeOrFound())
	}
	if got := grade(logOf("zk1", zk, exc)); got != "F2/found" {
		t.Errorf("fed: after a ZooKeeper record: %s", got)
	}
	n, err := ScanLog("zk1", strings.NewReader(zk+"\n"+exc+"\n    at java.io.FileOutputStream.write(Native Method)\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := grade(n); got != "F2/found" {
		t.Errorf("scanned: after a ZooKeeper record: %s", got)
	}
	// The exception as the input's last line, without a newline: the scan
	// hands it over apart from the chunk that holds the record.
	if n, err = ScanLog("zk1", strings.NewReader(zk+"\n"+exc)); err != nil {
		t.Fatal(err)
	}
	if got := grade(n); got != "F2/found" {
		t.Errorf("scanned, the exception last without a newline: %s", got)
	}
	// Another program's record above it: not ZooKeeper's disk (no finding
	// without any ZooKeeper line; suspected in a log that has some).
	if got := grade(logOf("broker", other, exc)); got != "none" {
		t.Errorf("after a Kafka record: %s", got)
	}
	if got := grade(logOf("broker", zk[:len(zk)-len("Failed to write new file /var/lib/zookeeper/data/version-2/currentEpoch")]+"Reading snapshot", other, exc)); got != "F2/suspected" {
		t.Errorf("after a Kafka record in a log with ZooKeeper lines: %s", got)
	}
	// With its own timestamp the line is a record of its own, not the exception of the one above.
	if got := grade(logOf("x", zk, "2021-09-21 06:58:23,000 - WARN  [main:Foo@1] - No space left on device")); got != "F2/suspected" {
		t.Errorf("a record of its own: %s", got)
	}
}

// A client's "…sessionid 0x0, likely server has closed socket" alone is a
// note: fixtures/captured/client holds a Java client refused for
// maxClientCnxns=2 and the same client against a server that was LOOKING
// ("ZooKeeperServer not running"), on 3.4.13 and 3.9.3, and each version's
// client logged the same line both times. The servers' logs tell them apart.
// A reset on session 0x0 stays a suspected F3.
func TestClientClosedBeforeSessionIsANote(t *testing.T) {
	for _, v := range []string{"3.4.13", "3.9.3"} {
		for _, c := range []string{"client-refused-maxclientcnxns", "client-of-server-not-serving"} {
			o := Observations{Logs: []*NodeLog{logOf("client", readFixture(t, "captured/client/"+v+"-"+c+".log")...)}}
			if fs := Detect(o); len(fs) != 0 {
				t.Errorf("%s %s gave %s", v, c, failures(fs))
			}
			if notes := Notes(o); len(notes) != 1 || !strings.Contains(notes[0], "before a session was created") || !strings.Contains(notes[0], "not serving") {
				t.Errorf("%s %s: notes %q", v, c, notes)
			}
		}
		refused := Observations{Logs: []*NodeLog{logOf("zk1", readFixture(t, "captured/client/"+v+"-server-maxclientcnxns-2.log")...)}}
		if got := failures(Detect(refused)); got != "F3@zk1" {
			t.Errorf("%s: the refusing server's log gave %q", v, got)
		}
		looking := Observations{Logs: []*NodeLog{logOf("zk1", readFixture(t, "captured/client/"+v+"-server-looking.log")...)}}
		if fs := Detect(looking); len(fs) != 0 {
			t.Errorf("%s: the LOOKING server's log gave %s", v, failures(fs))
		}
	}
	reset := readFixture(t, "field/F3/zkweb-2-client-only.log")
	if got := failures(Detect(Observations{Logs: []*NodeLog{logOf("client", reset...)}})); !strings.HasPrefix(got, "F3@") {
		t.Errorf("a reset on session 0x0: %q", got)
	}
}

// "No space left on device" counts only in a Java exception or a log record:
// a Python tool's OSError under a path holding "zookeeper", or a quoted grep
// command, is another program's text (each line as the field corpus has it).
func TestNoSpaceOfAnotherProgram(t *testing.T) {
	for _, l := range []string{
		"OSError: [Error 28] No space left on device: '/opt/zookeeper/backup-storage/'",
		`$ kubectl logs $CLUSTER_NAME-zoookeeper-0 | grep "No space left on device" | tail -n1`, // fixtures/field/F2/strimzi-debugging-1mi-grep-enospc.log
	} {
		if ev := ParseLine([]byte(l)); ev.Kind == EventNoSpace {
			t.Errorf("%q read as ZooKeeper's ENOSPC", l)
		}
	}
	for _, l := range []string{
		"java.io.IOException: No space left on device",
		"2021-09-21 06:58:23,000 - WARN  [main:Foo@1] - No space left on device",
	} {
		if ev := ParseLine([]byte(l)); ev.Kind != EventNoSpace {
			t.Errorf("%q not read as ENOSPC: %v", l, ev.Kind)
		}
	}
}

// listenerThread tells a dial-back (the election listener answering a
// smaller id by dialling it) from the election's own dials, on real lines
// of the field corpus and of the captured logs (f4-drop-slow-quorum).
func TestListenerThread(t *testing.T) {
	for line, want := range map[string]bool{
		"2017-04-11 20:48:09,120 [myid:2] - WARN  [/0.0.0.0:30881:QuorumCnxManager@400] - Cannot open channel to 0 at election address /192.168.138.128:30881":                                                true,
		"2026-12-02 11:41:27,372 - WARN  [zk3/10.199.128.13:3888:QuorumCnxManager@584] - Cannot open channel to 1 at election address zk1/10.199.128.11:3888":                                                 true,
		"2026-12-02 11:41:32,381 - WARN  [WorkerSender[myid=3]:QuorumCnxManager@584] - Cannot open channel to 1 at election address zk1/10.199.128.11:3888":                                                   false,
		"2019-07-25 23:11:14,266 [myid:2] - WARN  [QuorumPeer[myid=2](plain=/0:0:0:0:0:0:0:0:2181)(secure=disabled):QuorumCnxManager@677] - Cannot open channel to 1 at election address /192.168.1.110:3888": false,
		"2019-07-08 23:04:19,812 [myid:3] - WARN  [WorkerSender[myid=3]:QuorumCnxManager@588] - Cannot open channel to 1 at election address /172.16.138.205:5888":                                            false,
		"2026-11-25 20:32:30,883 - WARN  [QuorumConnectionThread-[myid=1]-2:QuorumCnxManager@401] - Cannot open channel to 3 at election address zk3/10.199.9.13:3888":                                        false,
		"[2019-12-30 08:27:13,695] WARN Cannot open channel to 2 at election address pzoo-1.pzoo:3888 (org.apache.zookeeper.server.quorum.QuorumCnxManager)":                                                  false,
	} {
		if got := listenerThread(line); got != want {
			t.Errorf("listenerThread(%q) = %v", line, got)
		}
	}
}
