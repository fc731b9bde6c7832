package detect

import (
	"strings"
	"testing"
	"time"
)

// Messages as ZooKeeper writes them. quote: the 3.3-era lines quoted in
// docs/F1.md. facts: lines captured on real servers (docs/F2.md and docs/F4.md
// quote several).
// src: built from the version's format string at the release tag, where no
// capture exists yet (listed in the report as lines still to capture).
const (
	quoteVoteLeader = "2017-07-18 17:31:12,016 - INFO  [WorkerReceiver Thread:FastLeaderElection@496] - Notification: 3 (n.leader), 73014444480 (n.zxid), 831 (n.round), LEADING (n.state), 3 (n.sid), LOOKING (my state)"
	quoteTimeout    = "2017-07-18 17:31:15,219 - INFO  [QuorumPeer:/0.0.0.0:2181:FastLeaderElection@697] - Notification time out: 6400"
	factsVote34     = "Notification: 1 (message format version), 1 (n.leader), 0x0 (n.zxid), 0x1 (n.round), LOOKING (n.state), 1 (n.sid), 0x0 (n.peerEpoch) LOOKING (my state)"
	srcVote36       = "Notification: my state:LOOKING; n.sid:2, n.state:FOLLOWING, n.leader:3, n.round:0xb, n.peerEpoch:0x2, n.zxid:0x200000004, message format version:0x2, n.config version:0x0"
	factsSmaller34  = "Have smaller server identifier, so dropping the connection: (2, 1)"
	factsSmaller38  = "Have smaller server identifier, so dropping the connection: (myId:1 --> sid:2)"
	factsSevere     = "ERROR [Snapshot Thread:ZooKeeperServer@580] - Severe unrecoverable error, exiting"
	factsResolve    = "WARN [main:QuorumPeer$QuorumServer@190] - Failed to resolve address: zk3"
)

// layouts wraps one message the ways users' logs carry it.
var layouts = []struct {
	name   string
	render func(msg string) string
	time   string // expected FormatTime of the line, "" for none
}{
	{"zkchaos image (log4j ISO8601)", func(m string) string {
		return "2026-11-25 20:01:02,123 - INFO  [QuorumPeer[myid=1]/0.0.0.0:2181:FastLeaderElection@1000] - " + m
	}, "2026-11-25T20:01:02.123"},
	{"3.4 default with myid", func(m string) string {
		return "2026-11-25 20:01:02,123 [myid:1] - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:QuorumPeer@909] - " + m
	}, "2026-11-25T20:01:02.123"},
	{"Kafka bundled ZooKeeper ([%d] %p %m (%c))", func(m string) string {
		return "[2026-11-25 20:01:02,123] INFO " + m + " (org.apache.zookeeper.server.quorum.FastLeaderElection)"
	}, "2026-11-25T20:01:02.123"},
	{"docker compose logs", func(m string) string {
		return "zk1  | 2026-11-25 20:01:02,123 - INFO  [main:QuorumPeer@909] - " + m
	}, "2026-11-25T20:01:02.123"},
	{"docker logs --timestamps", func(m string) string {
		return "2026-11-25T20:01:02.123456789Z 2026-11-25 20:01:02,120 - INFO  [main:QuorumPeer@909] - " + m
	}, "2026-11-25T20:01:02.123Z"},
	{"shipper JSON", func(m string) string {
		return `{"@timestamp":"2026-11-25T20:01:02.123+01:00","host":"zk1","level":"INFO","message":"` + m + `"}`
	}, "2026-11-25T20:01:02.123+01:00"},
	{"Kibana copy", func(m string) string { return "Nov 25, 2026 @ 20:01:02.123\tzk1\t" + m }, "2026-11-25T20:01:02.123"},
	{"log4j DATE", func(m string) string { return "25 Nov 2026 20:01:02,123 INFO " + m }, "2026-11-25T20:01:02.123"},
	{"bare message", func(m string) string { return m }, ""},
	{"CRLF", func(m string) string { return "2026-11-25 20:01:02,123 - INFO - " + m + "\r" }, "2026-11-25T20:01:02.123"},
}

func TestParseLineEveryLayout(t *testing.T) {
	msgs := []struct {
		msg   string
		kind  EventKind
		check func(t *testing.T, ev Event)
	}{
		{strings.SplitN(quoteVoteLeader, "] - ", 2)[1], EventNotification, func(t *testing.T, ev Event) {
			n := ev.Notification
			if n.Leader != 3 || n.Zxid != 73014444480 || n.Round != 831 || n.State != "LEADING" || n.SID != 3 || n.MyState != "LOOKING" || n.Format != Format33 {
				t.Errorf("quoted vote: %+v", n)
			}
		}},
		{factsVote34, EventNotification, func(t *testing.T, ev Event) {
			n := ev.Notification
			if n.Version != 1 || n.Round != 1 || n.PeerEpoch != 0 || n.Format != Format346 || n.MyState != "LOOKING" {
				t.Errorf("3.4.13 vote: %+v", n)
			}
		}},
		{srcVote36, EventNotification, func(t *testing.T, ev Event) {
			n := ev.Notification
			if n.SID != 2 || n.State != "FOLLOWING" || n.Leader != 3 || n.Round != 0xb || n.Zxid != 0x200000004 || n.PeerEpoch != 2 || n.Format != Format36 {
				t.Errorf("3.6+ vote: %+v", n)
			}
		}},
		{"Notification time out: 6400", EventNotificationTimeout, func(t *testing.T, ev Event) {
			if ev.TimeoutMs != 6400 {
				t.Errorf("timeout %d", ev.TimeoutMs)
			}
		}},
		{"Notification time out: 12800 ms", EventNotificationTimeout, func(t *testing.T, ev Event) {
			if ev.TimeoutMs != 12800 {
				t.Errorf("timeout %d", ev.TimeoutMs)
			}
		}},
		{factsSmaller34, EventHaveSmallerID, func(t *testing.T, ev Event) {
			if ev.SID != 2 || ev.MyID != 1 {
				t.Errorf("3.4 have smaller: sid %d my %d", ev.SID, ev.MyID)
			}
		}},
		{factsSmaller38, EventHaveSmallerID, func(t *testing.T, ev Event) {
			if ev.SID != 2 || ev.MyID != 1 {
				t.Errorf("3.8 have smaller: sid %d my %d", ev.SID, ev.MyID)
			}
		}},
		{"Too many connections from /172.18.0.1 - max is 60", EventTooManyConnections, func(t *testing.T, ev Event) {
			if ev.IP != "172.18.0.1" || ev.Limit != 60 || ev.Count != 1 {
				t.Errorf("too many: %+v", ev)
			}
		}},
		// a quote that masks the address and loses the space (yahoo/CMAK#923)
		{"we found a large number of Too many connections from/xxxxxx - max is 60 records", EventTooManyConnections, func(t *testing.T, ev Event) {
			if ev.IP != "xxxxxx" || ev.Limit != 60 {
				t.Errorf("masked: %+v", ev)
			}
		}},
		{"Message:Error accepting new connection: Too many connections from /172.18.0.1 - max is 60 Value:null", EventTooManyConnections, func(t *testing.T, ev Event) {
			if ev.IP != "172.18.0.1" || ev.Limit != 60 || ev.Count != 1 {
				t.Errorf("rate-limited first: %+v", ev)
			}
		}},
		{"[37 times] Message: Error accepting new connection: Too many connections from /172.18.0.1 - max is 60", EventTooManyConnections, func(t *testing.T, ev Event) {
			if ev.Count != 37 || ev.Limit != 60 {
				t.Errorf("rate-limited flush: %+v", ev)
			}
		}},
		{"Cannot open channel to 3 at election address zk3/<unresolved>:3888", EventCannotOpenChannel, func(t *testing.T, ev Event) {
			if ev.SID != 3 || ev.Address != "zk3/<unresolved>:3888" {
				t.Errorf("cannot open: %+v", ev)
			}
		}},
		{factsResolve, EventFailedToResolve, func(t *testing.T, ev Event) {
			if ev.Address != "zk3" {
				t.Errorf("resolve: %q", ev.Address)
			}
		}},
		{factsSevere, EventSevereError, nil},
		{"java.io.IOException: No space left on device", EventNoSpace, nil},
		{"LOOKING", EventLooking, nil},
		{"FOLLOWING", EventFollowing, nil},
		{"LEADING", EventLeading, nil},
		{"FOLLOWING - LEADER ELECTION TOOK - 41 MS", EventFollowing, nil},
		{"LEADING - LEADER ELECTION TOOK - 223", EventLeading, nil},

		{"PeerState set to LOOKING", EventLooking, nil},
		{"New election. My id = 2, proposed zxid=0x0", EventNewElection, func(t *testing.T, ev Event) {
			if ev.MyID != 2 {
				t.Errorf("new election id %d", ev.MyID)
			}
		}},
		{"Starting quorum peer, myid=3", EventStarting, func(t *testing.T, ev Event) {
			if ev.MyID != 3 {
				t.Errorf("starting id %d", ev.MyID)
			}
		}},
	}
	for _, l := range layouts {
		for _, m := range msgs {
			line := l.render(m.msg)
			ev := ParseLine([]byte(line))
			if ev.Kind != m.kind {
				t.Errorf("%s: %q: kind %v, want %v", l.name, line, ev.Kind, m.kind)
				continue
			}
			if got := FormatTime(ev.Time); got != l.time {
				t.Errorf("%s: time %q, want %q", l.name, got, l.time)
			}
			if m.check != nil {
				m.check(t, ev)
			}
			if ev.Line != strings.TrimRight(line, "\r") {
				t.Errorf("%s: evidence line changed: %q", l.name, ev.Line)
			}
		}
	}
}

// Lines that look close to a detector's message but are not it.
// The separator before "max is" may be a hyphen or the en or em dash a blog's
// typography makes of it; without any dash the line is not the refusal.
func TestParseTooManyDashes(t *testing.T) {
	for _, sep := range []string{"-", "\u2013", "\u2014"} {
		ev := ParseLine([]byte("2011-10-28 09:39:44,856 \u2013 WARN [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:5858:NIOServerCnxn$Factory@253] \u2013 Too many connections from /172.*.*.* " + sep + " max is 60 |"))
		if ev.Kind != EventTooManyConnections || ev.Limit != 60 || ev.IP != "172.*.*.*" {
			t.Errorf("separator %q: %+v", sep, ev)
		}
	}
	if ev := ParseLine([]byte("Too many connections from /10.0.0.1 where max is 60")); ev.Kind == EventTooManyConnections {
		t.Errorf("no dash before max is: %+v", ev)
	}
}

func TestParseLineNegatives(t *testing.T) {
	for _, line := range []string{
		"",
		"2026-11-25 20:01:02,123 - INFO  [NIOWorkerThread-1:ZooKeeperServer@1000] - Established session 0x100 with negotiated timeout 4000 for client /172.18.0.1:50000",
		"2026-11-25 20:01:02,123 - WARN  [QuorumPeer:FastLeaderElection@1120] - Notification state unrecognized: LOOKING (n.state), 1(n.sid)",
		"2026-11-25 20:01:02,123 - INFO  [main:QuorumPeerConfig@1] - Reading configuration from: /conf/zoo.cfg LOOKING for it",
		"2026-11-25 20:01:02,123 - INFO  [main:X@1] - NOTLOOKING",
		"Too many connections 61 - max is 60",                                                  // global maxCnxns, not F3's per-IP limit
		"Too many connections max allowed is 60",                                               // same, 3.6+ wording
		"Client session timed out, have not heard from server in 4001ms for sessionid 0x1000a", // an established session
		"Cannot open channel to x at election address zk1:3888",
		"Notification: garbage (n.leader)",
	} {
		if ev := ParseLine([]byte(line)); ev.Kind != EventNone {
			t.Errorf("%q: got %v, want none", line, ev.Kind)
		}
	}
}

func TestFindTimestampZones(t *testing.T) {
	for in, want := range map[string]string{
		"2017-07-18 17:31:12,015 - INFO":   "2017-07-18T17:31:12.015",
		"x 2017/07/18 17:31:12 y":          "2017-07-18T17:31:12.000",
		"2017-07-18T17:31:12Z":             "2017-07-18T17:31:12.000Z",
		"2017-07-18T17:31:12.5-0700":       "2017-07-18T17:31:12.500-07:00",
		"Jul 8, 2017 17:31:12.015":         "2017-07-08T17:31:12.015",
		"2017-13-18 17:31:12":              "",
		"12017-07-18 17:31:12":             "",
		"2017-07-18 25:31:12":              "",
		strings.Repeat("9", 600) + " 2017": "",
	} {
		tm, ok := FindTimestamp([]byte(in))
		if got := FormatTime(tm); got != want || ok != (want != "") {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
	tm, _ := FindTimestamp([]byte("2017-07-18 17:31:12,015"))
	if tm.Location() != NoZone || tm.Hour() != 17 || tm.Nanosecond() != int(15*time.Millisecond) {
		t.Errorf("zone-less time: %v", tm)
	}
}

// Every line ParseLine classifies must hold an anchor, or the fast scanner
// would skip a line that Feed would see.
func TestAnchorsCoverClassifiedLines(t *testing.T) {
	for _, l := range layouts {
		for _, m := range []string{factsVote34, srcVote36, factsSmaller34, factsSevere, factsResolve, "LOOKING", "Notification time out: 400"} {
			line := []byte(l.render(m))
			if ParseLine(line).Kind != EventNone && !hasAnchor(line) {
				t.Errorf("%q classified but has no anchor", line)
			}
		}
	}
}
