package detect

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// Early 3.3 printed votes without labels. No published excerpt is in
// fixtures/field yet, so the line is built from the format string of
// FastLeaderElection.lookForLeader (3.3): leader, zxid, epoch, my id, my
// state, n.state, n.sid.
func TestPositional33Notification(t *testing.T) {
	line := "2012-05-02 10:11:12,013 - INFO  [QuorumPeer:/0.0.0.0:2181:FastLeaderElection@689] - Notification: 3, 77309411648, 831, 1, LOOKING, LEADING, 3"
	ev := ParseLine([]byte(line))
	n := ev.Notification
	if ev.Kind != EventNotification || n.Leader != 3 || n.Round != 831 || n.State != "LEADING" || n.MyState != "LOOKING" || n.SID != 3 || ev.MyID != 1 || n.Format != Format33 {
		t.Fatalf("%+v", ev)
	}
	// a stuck 3.3 node: its own vote in round 1, the leader and a follower in 831/832, time outs
	p := func(ts, msg string) string {
		return "2012-05-02 " + ts + " - INFO  [QuorumPeer:/0.0.0.0:2181:FastLeaderElection@689] - " + msg
	}
	zk1 := logOf("zk1",
		p("10:11:12,000", "Notification: 1, 77309411648, 1, 1, LOOKING, LOOKING, 1"),
		p("10:11:12,013", "Notification: 3, 73014444480, 831, 1, LOOKING, LEADING, 3"),
		p("10:11:12,014", "Notification: 3, 77309411648, 832, 1, LOOKING, FOLLOWING, 2"),
		p("10:11:18,400", "Notification time out: 6400"),
		p("10:11:31,200", "Notification time out: 12800"),
	)
	fs := Detect(Observations{Logs: []*NodeLog{zk1}})
	if failures(fs) != "F1@zk1" || fs[0].Grade != Found {
		t.Fatalf("got %s", failures(fs))
	}
	mustContain(t, "explanation", fs[0].Explanation, "3.3's format", "has the bug")
	mustContain(t, "remedy", fs[0].Remedy, "Upgrade to ZooKeeper 3.4.4")
}

// On a 3.6+ log the F1 remedy does not advise an upgrade to 3.4.4.
func TestF1RemedyMatchesVersion(t *testing.T) {
	zk1 := logOf("zk1",
		v38("20:00:00,000", "LOOKING"),
		v38("20:00:00,005", vote36("LOOKING", 1, "LOOKING", 1, 0x1)),
		v38("20:00:00,010", vote36("LOOKING", 3, "LEADING", 3, 0x33f)),
		v38("20:00:00,011", vote36("LOOKING", 2, "FOLLOWING", 3, 0x340)),
		v38("20:00:00,411", "Notification time out: 400 ms"),
		v38("20:00:01,211", "Notification time out: 800 ms"),
		v38("20:00:02,811", "Notification time out: 1600 ms"),
		v38("20:00:06,011", "Notification time out: 3200 ms"),
	)
	fs := Detect(Observations{Logs: []*NodeLog{zk1}})
	if failures(fs) != "F1@zk1" {
		t.Fatalf("got %s", failures(fs))
	}
	if strings.Contains(fs[0].Remedy, "Upgrade to") || strings.Contains(fs[0].Remedy, "upgrade:") {
		t.Errorf("remedy advises an upgrade on 3.6+: %s", fs[0].Remedy)
	}
	mustContain(t, "remedy", fs[0].Remedy, "already has the ZOOKEEPER-1514 fix")
}

// The JVM prints ENOSPC in its locale; the lines are the glibc translations
// after Java's "java.io.IOException: " as a SyncThread's stack trace starts.
func TestNoSpaceInTheJVMsLocale(t *testing.T) {
	for _, msg := range []string{
		"Auf dem Gerät ist kein Speicherplatz mehr verfügbar",
		"Aucun espace disponible sur le périphérique",
		"设备上没有空间",
		"デバイスに空き領域がありません",
		"No queda espacio en el dispositivo",
	} {
		zk := logOf("zk2",
			"2019-04-02 12:10:01,466 [myid:2] - ERROR [SyncThread:2:ZooKeeperCriticalThread@49] - Severe unrecoverable error, from thread : SyncThread:2",
			"java.io.IOException: "+msg,
			"\tat java.io.FileOutputStream.writeBytes(Native Method)",
		)
		fs := Detect(Observations{Logs: []*NodeLog{zk}})
		if failures(fs) != "F2@zk2" || fs[0].Grade != Found {
			t.Errorf("%s: got %s", msg, failures(fs))
		}
	}
}

// A shipper's JSON line (Filebeat/Kibana "message", docker json-file "log")
// holds the ZooKeeper line escaped; it is read decoded.
func TestShipperLines(t *testing.T) {
	line := `{"@timestamp":"2021-04-02T01:33:59.492Z","log":{"level":"INFO"},"message":"[2021-04-02 01:33:59,492] INFO Have smaller server identifier, so dropping the connection: (5, 1) (org.apache.zookeeper.server.quorum.QuorumCnxManager)\n"}`
	ev := ParseLine([]byte(line))
	if ev.Kind != EventHaveSmallerID || ev.SID != 5 || ev.MyID != 1 {
		t.Fatalf("%+v", ev)
	}
	line = `{"log":"2018-05-17 10:54:18,269 [myid:] - WARN  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory@188] - Too many connections from /100.96.1.78 - max is 60\n","stream":"stdout","time":"2018-05-17T10:54:18.269Z"}`
	if ev := ParseLine([]byte(line)); ev.Kind != EventTooManyConnections || ev.IP != "100.96.1.78" || ev.Limit != 60 {
		t.Fatalf("%+v", ev)
	}
	line = `{"message":"java.io.IOException: \u8bbe\u5907\u4e0a\u6ca1\u6709\u7a7a\u95f4"}`
	if ev := ParseLine([]byte(line)); ev.Kind != EventNoSpace {
		t.Fatalf("%+v", ev)
	}
}

// A Cloudera Manager copy puts the message on its own line after the
// columns; a page may wrap a long line. Both are read.
func TestSplitAndWrappedLines(t *testing.T) {
	n := NewNodeLog("zk1")
	in := "2:31:12.015 PM\tINFO\torg.apache.zookeeper.server.quorum.FastLeaderElection\t\nNotification time\nout: 12800\n"
	if _, err := n.ReadFrom(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if n.timeouts != 1 {
		t.Fatalf("wrapped time out not read: %d", n.timeouts)
	}
	f := NewNodeLog("zk1")
	for _, l := range strings.Split(strings.TrimSuffix(in, "\n"), "\n") {
		f.Feed([]byte(l))
	}
	if f.timeouts != 1 {
		t.Fatalf("Feed: wrapped time out not read: %d", f.timeouts)
	}
}

// "No space left on device" is F2 only when it is ZooKeeper's: on a line of
// its own logging or where ZooKeeper stopped itself. A log holding no
// ZooKeeper line at all (a Kafka broker's own log dir) gives nothing; a log
// mixing other programs' lines with ZooKeeper's gives a suspicion.
func TestNoSpaceMustBeZooKeepers(t *testing.T) {
	kafka := logOf("broker",
		"[2024-03-08 16:42:33,730] ERROR Error while appending records to foo-0 in dir /data: java.io.IOException: No space left on device (kafka.server.LogDirFailureChannel)")
	if fs := Detect(Observations{Logs: []*NodeLog{kafka}}); len(fs) != 0 {
		t.Fatalf("a Kafka log's own disk: got %s", failures(fs))
	}
	mixed := logOf("compose",
		"zk-1     | 2024-03-08 16:42:30,000 [myid:1] - INFO  [main:o.a.z.s.q.QuorumPeer@1234] - LOOKING",
		"kafka-1  | [2024-03-08 16:42:33,730] ERROR Error while appending records to foo-0 in dir /data: java.io.IOException: No space left on device (kafka.server.LogDirFailureChannel)")
	fs := Detect(Observations{Logs: []*NodeLog{mixed}})
	if failures(fs) != "F2@compose" || fs[0].Grade != Suspected {
		t.Fatalf("a line of another program in a ZooKeeper log: got %s", failures(fs))
	}
	zk := logOf("zk1",
		"2024-03-08 16:42:33,730 [myid:1] - ERROR [SyncThread:1:o.a.z.s.ZooKeeperCriticalThread@49] - Severe unrecoverable error, from thread : SyncThread:1",
		"java.io.IOException: No space left on device")
	fs = Detect(Observations{Logs: []*NodeLog{zk}})
	if failures(fs) != "F2@zk1" || fs[0].Grade != Found {
		t.Fatalf("ZooKeeper's own: got %s", failures(fs))
	}
}

// A partial last transaction is what any death while writing leaves: a note,
// not F2.
func TestPartialTransactionIsANote(t *testing.T) {
	n := logOf("zk2", "2018-01-11 15:01:54,593 ERROR org.apache.zookeeper.server.persistence.Util: Last transaction was partial.")
	o := Observations{Logs: []*NodeLog{n}}
	if fs := Detect(o); len(fs) != 0 {
		t.Fatalf("got %s", failures(fs))
	}
	mustContain(t, "notes", strings.Join(Notes(o), "\n"), "cut in the middle of a record", "not F2 on its own")
}

// A larger id whose votes reach the node has dialled back: the tie-break
// resolved, and an election stuck after it is not F4.
func TestHaveSmallerThenVotesFromThatPeerIsNotF4(t *testing.T) {
	p := func(ts, msg string) string { return "2017-04-11 " + ts + " [myid:0] - " + msg }
	vote := func(ts string, leader, sid int, round string) string {
		return p(ts, fmt.Sprintf("Notification: 1 (message format version), %d (n.leader), 0x724cd3601 (n.zxid), %s (n.round), LOOKING (n.state), %d (n.sid), 0x7 (n.peerEpoch) LOOKING (my state)", leader, round, sid))
	}
	lines := []string{
		p("11:19:13,037", "LOOKING"),
		vote("11:19:13,663", 0, 0, "0x8"),
		p("11:19:13,675", "Have smaller server identifier, so dropping the connection: (2, 0)"),
		vote("11:19:13,730", 2, 2, "0x8"),
		p("11:19:13,930", "Notification time out: 400"),
		p("11:19:14,331", "Notification time out: 800"),
		p("11:19:15,131", "Notification time out: 1600"),
		p("11:19:16,732", "Notification time out: 3200"),
		p("11:19:22,010", "Notification time out: 6400"),
	}
	if fs := Detect(Observations{Logs: []*NodeLog{logOf("zk0", lines...)}}); len(fs) != 0 {
		t.Fatalf("dial-back arrived: got %s", failures(fs))
	}
	// without the vote of myid 2 the dial-back is missing: F4
	without := append(append([]string{}, lines[:3]...), lines[4:]...)
	if fs := Detect(Observations{Logs: []*NodeLog{logOf("zk0", without...)}}); failures(fs) != "F4@zk0" {
		t.Fatalf("dial-back missing: got %s", failures(fs))
	}
}

// netstat counters with an `ss -ltn` listing that holds no ZooKeeper client
// port belong to another program's socket: not F5.
func TestListenOverflowOnAnotherPort(t *testing.T) {
	in := "3220 times the listen queue of a socket overflowed\n3220 SYNs to LISTEN sockets dropped\n" +
		"State Recv-Q Send-Q Local Address:Port Peer Address:Port\nLISTEN 0 50 *:20880 *:*\n"
	obs, err := ParseNet("provider", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if fs := Detect(Observations{Net: []NetObservation{obs}}); len(fs) != 0 {
		t.Fatalf("got %s", failures(fs))
	}
	in2 := strings.Replace(in, "*:20880", "*:2181", 1)
	obs, _ = ParseNet("zk1", strings.NewReader(in2))
	if fs := Detect(Observations{Net: []NetObservation{obs}}); failures(fs) != "F5@zk1" {
		t.Fatalf("client port listed: got %s", failures(fs))
	}
}

// A data file cut short stops the server at start: EOFException under
// "Unable to load database on disk" / "exiting abnormally", or as a cause with
// a persistence frame below it, is F2 suspected (ZOOKEEPER-1621). An
// EOFException of a socket (a LearnerHandler's) is nothing.
func TestTruncatedDataAtStart(t *testing.T) {
	caused := logOf("zk1",
		"2016-03-04 10:00:01,100 [myid:1] - ERROR [main:QuorumPeerMain@89] - Unexpected exception, exiting abnormally",
		"java.lang.RuntimeException: Unable to run quorum server ",
		"\tat org.apache.zookeeper.server.quorum.QuorumPeer.loadDataBase(QuorumPeer.java:558)",
		"\tat org.apache.zookeeper.server.quorum.QuorumPeer.start(QuorumPeer.java:500)",
		"\tat org.apache.zookeeper.server.quorum.QuorumPeerMain.runFromConfig(QuorumPeerMain.java:153)",
		"Caused by: java.io.EOFException",
		"\tat java.io.DataInputStream.readInt(DataInputStream.java:392)",
		"\tat org.apache.jute.BinaryInputArchive.readInt(BinaryInputArchive.java:63)",
		"\tat org.apache.zookeeper.server.persistence.FileHeader.deserialize(FileHeader.java:64)",
	)
	fs := Detect(Observations{Logs: []*NodeLog{caused}})
	if failures(fs) != "F2@zk1" || fs[0].Grade != Suspected {
		t.Fatalf("cause with a persistence frame: got %s", failures(fs))
	}
	mustContain(t, "explanation", fs[0].Explanation, "ZOOKEEPER-1621", "Confirm with `df`")
	mustContain(t, "remedy", fs[0].Remedy, "move the newest log.*")
	socket := logOf("zk2",
		"2015-02-18 01:36:37,421 [myid:2] - ERROR [LearnerHandler-/192.168.42.1:45145:LearnerHandler@580] - Unexpected exception causing shutdown while sock still open",
		"java.io.EOFException",
		"\tat java.io.DataInputStream.readInt(DataInputStream.java:392)",
		"\tat org.apache.jute.BinaryInputArchive.readInt(BinaryInputArchive.java:63)",
		"\tat org.apache.zookeeper.server.quorum.QuorumPacket.deserialize(QuorumPacket.java:83)",
	)
	if fs := Detect(Observations{Logs: []*NodeLog{socket}}); len(fs) != 0 {
		t.Fatalf("a socket's EOF: got %s", failures(fs))
	}
}

// A console's copy is cut at a fixed width mid-word (otter#93, a Windows
// console at 80 columns); a page's or a mailer's wrap at spaces is not read as
// one, nor is a log whose lines share a length because they share a template.
func TestFoldWidth(t *testing.T) {
	b, err := os.ReadFile(fixtures + "field/other/otter-93-refusing-session-wrapped-80col.log")
	if err != nil {
		t.Fatal(err)
	}
	if w := foldWidth(b); w != 80 {
		t.Fatalf("otter-93: width %d, want 80", w)
	}
	un, _ := io.ReadAll(unfoldReader(bytes.NewReader(b)))
	mustContain(t, "unfolded", string(un), "Accepted socket connection from /10.18.224.102:53794\n",
		"as it has seen zxid 0x435 our last zxid is 0x7d client must try another server\n")
	b, err = os.ReadFile(fixtures + "field/other/dev-zk2555-observer-cannot-open-3-wrapped.log")
	if err != nil {
		t.Fatal(err)
	}
	if w := foldWidth(b); w != 0 {
		t.Errorf("a mailer's wrap read as a console's copy at %d", w)
	}
	same := strings.Repeat("2024-01-01 00:00:00,000 [myid:1] - WARN  [QuorumConnectionThread-[myid=1]-3:QuorumCnxManager@400] - Cannot open channel to 3 at election address zk3/10.0.0.3:3888\n"+
		"java.net.ConnectException: Connection refused (Connection refused)\n\tat java.net.PlainSocketImpl.socketConnect(Native Method)\n", 5)
	if w := foldWidth([]byte(same)); w != 0 {
		t.Errorf("lines of one template: width %d", w)
	}
}

func mustRead(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
