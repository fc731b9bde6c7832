package detect

import (
	"bytes"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// EventKind classifies a log line by the ZooKeeper message it carries. Only the
// messages the five detectors need have a kind; every other line is EventNone.
type EventKind uint8

const (
	EventNone EventKind = iota
	// EventNotification: "Notification: ..." (an election vote received), F1.
	EventNotification
	// EventNotificationTimeout: "Notification time out: 6400" (3.3/3.4, 3.6/3.7)
	// or "... 6400 ms" (3.8+, ZOOKEEPER-3849): no vote arrived for that long.
	EventNotificationTimeout
	// EventNewElection: "New election. My id = N, proposed zxid=..." (lookForLeader starts).
	EventNewElection
	// EventLooking, EventFollowing, EventLeading, EventObserving: the peer state
	// ("LOOKING", "FOLLOWING - LEADER ELECTION TOOK - 41 MS", "Peer state changed: ...").
	EventLooking
	EventFollowing
	EventLeading
	EventObserving
	// EventHaveSmallerID: "Have smaller server identifier, so dropping the
	// connection: (2, 1)" / "(myId:1 --> sid:2)", F4; SID is the larger peer.
	EventHaveSmallerID
	// EventCannotOpenChannel: "Cannot open channel to N at election address A".
	EventCannotOpenChannel
	// EventFailedToResolve: "Failed to resolve address: zk3" (3.4 config parse).
	EventFailedToResolve
	// EventTooManyConnections: "Too many connections from /ip - max is N", F3.
	EventTooManyConnections
	// EventNoSpace: "No space left on device", F2's end.
	EventNoSpace
	// EventSevereError: "Severe unrecoverable error, exiting" / "..., from thread : X".
	EventSevereError
	// EventStarting: "Starting quorum peer" (a new server process).
	EventStarting
	// EventVersion: "Server environment:zookeeper.version=3.4.13-...".
	EventVersion
	// EventClientConnectTimeout: a client gave up connecting (F5's client side):
	// Java "Client connection timed out, have not heard from server" (3.5+) or
	// "Client session timed out, ... for sessionid 0x0" (never connected).
	EventClientConnectTimeout
	// EventEmptySnapshot: "Deleted empty snapshot file: ..." (3.5.5+,
	// ZOOKEEPER-3082): writing a snapshot failed before a byte was written,
	// which is what a full disk does (F2, indirect).
	EventEmptySnapshot
	// EventPartialTxn: "Last transaction was partial." on loading the
	// transaction log: the process died in the middle of a write (F2, indirect).
	EventPartialTxn
	// EventClientReset: a client's connection reset by the server before any
	// session was created: "Session 0x0 for server ..., unexpected error" with
	// "Connection reset by peer" on it or on the next line. What
	// maxClientCnxns can look like from the client (F3).
	EventClientReset
	// EventClientSession0: "Session 0x0 for server X, unexpected error" without
	// the reset yet: the next line may carry it.
	EventClientSession0
	// EventClientClosed0: "Unable to read additional data from server
	// sessionid 0x0, likely server has closed socket": the server closed the
	// connection before a session. Measured on 3.4.13 and 3.9.3, a Java client
	// logs this same line when refused for maxClientCnxns and when the server
	// is not serving (no quorum, "ZooKeeperServer not running"), so alone it
	// is a note, not F3.
	EventClientClosed0
	// EventEOF: "java.io.EOFException", the start of a stack trace. Read only
	// where it says a data file is cut short: under "Unable to load database
	// on disk" or "Unexpected exception, exiting abnormally", or as a "Caused
	// by" with a frame of org.apache.zookeeper.server.persistence below it;
	// it is then EventTruncatedData.
	EventEOF
	// EventTruncatedData: the server cannot load its dataDir because a
	// transaction log or snapshot ends early (ZOOKEEPER-1621: a log file
	// created when the disk was full holds no complete header), F2 indirect.
	EventTruncatedData
)

var eventNames = [...]string{"none", "notification", "notification-timeout", "new-election", "looking", "following",
	"leading", "observing", "have-smaller-id", "cannot-open-channel", "failed-to-resolve", "too-many-connections",
	"no-space", "severe-error", "starting", "version", "client-connect-timeout", "empty-snapshot", "partial-txn",
	"client-reset", "client-session0", "client-closed0", "eof", "truncated-data"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one classified log line.
type Event struct {
	Kind EventKind
	Time time.Time // zero when the line has no timestamp
	// MyID is the id of the server that wrote the line when the line says it
	// ("[myid:1]" in the 3.4+ default layout, "My id = 1", "(myId:1 --> sid:2)"); -1 if not.
	MyID int64
	// Line is the original line, made printable (valid UTF-8, capped in length).
	Line string

	Notification Notification // EventNotification
	TimeoutMs    int64        // EventNotificationTimeout
	// DialFailed (EventNotificationTimeout): before the time out the same line
	// holds an election dial that failed, its exception and a stack through
	// QuorumCnxManager.connectOne or initiateConnection: a paste that folded a
	// stack trace and the next record into one line, the "Cannot open
	// channel" header cut off.
	DialFailed bool
	// AfterZK (EventNoSpace): the line has no timestamp and follows a line of
	// ZooKeeper's own logging: it is that record's exception ("Failed to write
	// new file .../version-2/currentEpoch", then "java.io.IOException: No space
	// left on device"). Set by the reader, which sees the line before.
	AfterZK bool
	// SID is the peer: the larger id that was dropped (EventHaveSmallerID), the
	// peer that could not be reached (EventCannotOpenChannel); -1 when not printed.
	SID int64
	// Address: the election address (EventCannotOpenChannel) or host name
	// (EventFailedToResolve).
	Address string
	// Cause is the exception on the line after (EventCannotOpenChannel), when seen.
	Cause string
	// IP and Limit of EventTooManyConnections; Count is how many rejections the
	// line stands for (the 3.6+ rate limiter prints "[N times] Message: ...").
	IP    string
	Limit int64 // -1 when not a number (fixtures/seed/f3-too-many-connections.log has "max is x")
	Count int64
	// Version is the server version (EventVersion).
	Version string
}

// maxEvidenceLine caps what a finding quotes of one line.
const maxEvidenceLine = 2048

var (
	kNotifTimeout  = []byte("Notification time out: ")
	kNotification  = []byte("Notification")
	kHaveSmaller   = []byte("Have smaller server identifier")
	kCannotOpen    = []byte("Cannot open ")
	kElectionAddr  = []byte(" at election address ")
	kFailedResolve = []byte("Failed to resolve address: ")
	// no space after "from": a quote that masks the address can lose it
	// ("Too many connections from/xxxxxx - max is 60", yahoo/CMAK#923)
	kTooMany        = []byte("Too many connections from")
	kMaxIs          = []byte("max is ")
	kNoSpace        = []byte("No space left on device")
	kSevere         = []byte("Severe unrecoverable error")
	kElectionTook   = []byte("LEADER ELECTION TOOK")
	kPeerStateSet   = []byte("PeerState set to LOOKING")
	kNewElection    = []byte("New election. My id =")
	kStarting       = []byte("Starting quorum peer")
	kZKVersion      = []byte("zookeeper.version=")
	kNotHeard       = []byte("have not heard from server")
	kMyIDTag        = []byte("[myid:")
	kMyIDEq         = []byte("myid=")
	kLooking        = []byte("LOOKING")
	kFollowing      = []byte("FOLLOWING")
	kLeading        = []byte("LEADING")
	kObserving      = []byte("OBSERVING")
	kTimesPrefix    = []byte(" times] ")
	kMyIDArrow      = []byte("myId:")
	kSidArrow       = []byte("sid:")
	kSessionZero    = []byte("session id 0x0")
	kSessionidZero  = []byte("sessionid 0x0")
	kConnTimedOut   = []byte("Client connection timed out")
	kFromThread     = []byte("from thread : ")
	kUnresolvedAddr = []byte("<unresolved>")
	kEmptySnapshot  = []byte("Deleted empty snapshot")
	kPartialTxn     = []byte("Last transaction was partial")
	kIOException    = []byte("IOException")
	kServerClosed   = []byte("likely server has closed socket")
	kSession0For    = []byte("Session 0x0 for server")
	kResetByPeer    = []byte("Connection reset by peer")
	kEOFException   = []byte("EOFException")
	kCausedBy       = []byte("Caused by")
	kPersistence    = []byte("zookeeper.server.persistence.")
	kUnableToLoad   = []byte("Unable to load database on disk")
	kExitingAbnorm  = []byte("exiting abnormally")
)

// noSpaceText is "No space left on device" (ENOSPC) as the JVM prints it:
// strerror in the process's locale (glibc's translations), and Windows' text.
// Java puts it after "java.io.IOException: ", which is how such lines are found.
var noSpaceText = [][]byte{
	[]byte("No space left on device"),
	[]byte("Auf dem Gerät ist kein Speicherplatz mehr verfügbar"),
	[]byte("Aucun espace disponible sur le périphérique"),
	[]byte("No queda espacio en el dispositivo"),
	[]byte("Spazio esaurito sul device"),
	[]byte("Não há espaço disponível no dispositivo"),
	[]byte("Geen ruimte meer over op apparaat"),
	[]byte("Brak miejsca na urządzeniu"),
	[]byte("На устройстве не осталось свободного места"),
	[]byte("Inget utrymme kvar på enheten"),
	[]byte("设备上没有空间"),
	[]byte("裝置上已無空間"),
	[]byte("デバイスに空き領域がありません"),
	[]byte("장치에 남은 공간이 없음"),
	[]byte("There is not enough space on the disk"),
}

// anchors are the fixed strings of which every line that ParseLine classifies
// contains at least one. The streaming scanner only parses lines that contain
// an anchor, which is what keeps it near grep's speed.
var anchors = [][]byte{
	kNotification, kHaveSmaller, kCannotOpen, kFailedResolve, kTooMany, kNoSpace, kSevere,
	kNewElection, kStarting, kZKVersion, kNotHeard,
	kLooking, kFollowing, kLeading, kObserving,
	kEmptySnapshot, kPartialTxn, kIOException, kServerClosed, kSession0For, kEOFException,
}

// wrapFragments are the parts of the anchors that a hard wrap leaves on one
// side of its break ("Too" | "many connections from /10.0.0.1 - max is 60"):
// the scanner hands over their lines too, which are then read with the pieces
// around them (record.go). Only parts with a pivot byte below are kept, so
// they cost no pass of their own; a break that leaves neither side one
// ("Too many connections" | "from …") is not read.
var wrapFragments = [][]byte{
	[]byte("connections from"), []byte("server identifier"), []byte("smaller server"), []byte("open channel"),
	[]byte("to resolve"), []byte("resolve address"), []byte("space left"), []byte("left on device"),
	[]byte("unrecoverable"), []byte("heard from"), []byte("was partial"), []byte("server has"),
	[]byte("0x0 for"), []byte("empty snapshot"), []byte("Deleted empty"),
}

// pivotBytes assigns each anchor the byte the scanner looks for it by, with
// one IndexByte pass per distinct byte. Fewer passes beat rarer bytes: a pass
// costs ~0.1 ms per MB however rare its byte, a hit ~10 ns. The bytes are
// uncommon in ZooKeeper logs of every layout (measured on the captured 3.4.13,
// 3.8.0 and 3.9.3 logs: G 0.08%, w 0.17%, f 0.5%, p 0.9%, v 1.2% of bytes);
// 3.4's "[myid:1]" (m, y, i, d on every line) and Kafka's
// "(org.apache.zookeeper...)" (o, r, g, a, z) ruled others out.
var pivotBytes = map[string]byte{
	"LOOKING": 'G', "FOLLOWING": 'G', "LEADING": 'G', "OBSERVING": 'G',
	"Notification":                    'f',
	"Too many connections from":       'f',
	"No space left on device":         'f',
	"have not heard from server":      'f',
	"Have smaller server identifier":  'v',
	"Failed to resolve address: ":     'v',
	"Severe unrecoverable error":      'v',
	"zookeeper.version=":              'v',
	"Cannot open ":                    'p',
	"Starting quorum peer":            'p',
	"New election. My id =":           'w',
	"Deleted empty snapshot":          'p',
	"Last transaction was partial":    'p',
	"IOException":                     'p',
	"EOFException":                    'p',
	"likely server has closed socket": 'v',
	"Session 0x0 for server":          'v',
	// wrapFragments
	"connections from": 'f', "server identifier": 'v', "smaller server": 'v', "open channel": 'p',
	"to resolve": 'v', "resolve address": 'v', "space left": 'p', "left on device": 'f',
	"unrecoverable": 'v', "heard from": 'f', "was partial": 'p', "server has": 'v',
	"0x0 for": 'f', "empty snapshot": 'p', "Deleted empty": 'p',
}

// pivot is one anchor found through one of its bytes.
type pivot struct {
	word []byte
	at   int // offset of the pivot byte in word
}

// pivotGroup is the anchors of one pivot byte by the byte before their
// pivot: a pivot hit costs one lookup and, mostly, no compare, however many
// anchors share the byte (no pivot is an anchor's first byte).
type pivotGroup [256][]pivot

// scanned is every string the scanner looks for: the anchors and the
// wrapFragments. A line holding one is a candidate (scannedLine).
var scanned = append(append([][]byte(nil), anchors...), wrapFragments...)

// pivotGroups gathers the scanned strings by pivot byte: one IndexByte pass
// per group.
var pivotGroups = func() map[byte]*pivotGroup {
	g := map[byte]*pivotGroup{}
	for _, a := range scanned {
		b, ok := pivotBytes[string(a)]
		at := bytes.IndexByte(a, b)
		if !ok || at < 1 {
			panic("detect: anchor " + string(a) + " has no pivot byte after its first")
		}
		if g[b] == nil {
			g[b] = &pivotGroup{}
		}
		g[b][a[at-1]] = append(g[b][a[at-1]], pivot{a, at})
	}
	return g
}()

// scannedLine: the line holds an anchor or a part of one that a wrap may
// have cut: the scanner hands it over.
func scannedLine(line []byte) bool {
	for _, a := range scanned {
		if bytes.Contains(line, a) {
			return true
		}
	}
	return false
}

// hasAnchor: the line holds one of the anchors, so the scanner hands it over.
func hasAnchor(line []byte) bool {
	for _, a := range anchors {
		if bytes.Contains(line, a) {
			return true
		}
	}
	return false
}

// ParseLine classifies one log line in any layout: detection rests on the
// ZooKeeper message text, wherever it sits in the line, and on whatever
// timestamp can be found. It never fails: a line it does not know is EventNone.
func ParseLine(line []byte) Event {
	ev := Event{MyID: -1, SID: -1, Limit: -1}
	msg := line
	if m, ok := ShipperMessage(line); ok {
		if hasAnchor(line) {
			// the scanner only ever hands over lines with an anchor in
			// their raw text; Feed must classify the same lines
			msg = m
		}
	} else {
		msg = ownText(line)
	}
	if !classify(msg, &ev) {
		return Event{Kind: EventNone, MyID: -1, SID: -1, Limit: -1}
	}
	if t, ok := FindTimestamp(line); ok {
		ev.Time = t
	}
	if ev.MyID < 0 {
		if i := bytes.Index(msg, kMyIDTag); i >= 0 {
			if id, ok := leadingInt(msg[i+len(kMyIDTag):]); ok {
				ev.MyID = id
			}
		} else if i := bytes.Index(line, kMyIDTag); i >= 0 {
			if id, ok := leadingInt(line[i+len(kMyIDTag):]); ok {
				ev.MyID = id
			}
		}
	}
	ev.Line = printable(line)
	return ev
}

func classify(line []byte, ev *Event) bool {
	if bytes.Contains(line, kEOFException) {
		// first: the many socket EOFs of a busy server cost one compare
		ev.Kind = EventEOF
		return true
	}
	if i := bytes.Index(line, kNotification); i >= 0 {
		// Any line naming a notification is decided here: "Notification state
		// unrecognized: LOOKING (n.state)" must not pass for a state change.
		if j := bytes.Index(line, kNotifTimeout); j >= 0 {
			v, ok := leadingInt(line[j+len(kNotifTimeout):])
			if !ok {
				return false
			}
			ev.Kind, ev.TimeoutMs = EventNotificationTimeout, v
			ev.DialFailed = foldedDialFailure(line[:j])
			return true
		}
		n, err := ParseNotification(line[i:])
		if err != nil {
			return false
		}
		ev.Kind, ev.Notification = EventNotification, n
		if n.HasReceiver {
			ev.MyID = n.Receiver
		}
		return true
	}
	if i := bytes.Index(line, kHaveSmaller); i >= 0 {
		ev.Kind = EventHaveSmallerID
		parseHaveSmaller(line[i+len(kHaveSmaller):], ev)
		return true
	}
	if i := bytes.Index(line, kCannotOpen); i >= 0 {
		rest := line[i+len(kCannotOpen):]
		switch {
		case bytes.HasPrefix(rest, []byte("channel to ")):
			rest = rest[len("channel to "):]
		case bytes.HasPrefix(rest, []byte("secure channel to ")):
			rest = rest[len("secure channel to "):]
		default:
			return false
		}
		sid, ok := leadingInt(rest)
		if !ok {
			return false
		}
		ev.Kind, ev.SID = EventCannotOpenChannel, sid
		if j := bytes.Index(rest, kElectionAddr); j >= 0 {
			ev.Address = string(printableBytes(token(rest[j+len(kElectionAddr):]), 256))
		}
		return true
	}
	if i := bytes.Index(line, kFailedResolve); i >= 0 {
		ev.Kind = EventFailedToResolve
		ev.Address = string(printableBytes(token(line[i+len(kFailedResolve):]), 256))
		return true
	}
	if i := bytes.Index(line, kTooMany); i >= 0 {
		return parseTooMany(line, i, ev)
	}
	if bytes.Contains(line, kNoSpace) {
		// ZooKeeper runs on the JVM, which prints ENOSPC in an exception
		// ("java.io.IOException: No space left on device", "…Exception: <file>
		// (No space left on device)") or in a log record of its own. A line
		// that is neither ("OSError: [Error 28] …" of a Python tool, "cp:
		// error writing …", a grep command) is another program's text.
		if !bytes.Contains(line, kException) {
			if _, ok := FindTimestamp(line); !ok {
				return false
			}
		}
		ev.Kind = EventNoSpace
		return true
	}
	if bytes.Contains(line, kIOException) {
		for _, t := range noSpaceText[1:] {
			if bytes.Contains(line, t) {
				ev.Kind = EventNoSpace
				return true
			}
		}
	}
	if bytes.Contains(line, kEmptySnapshot) {
		ev.Kind = EventEmptySnapshot
		return true
	}
	if bytes.Contains(line, kPartialTxn) {
		ev.Kind = EventPartialTxn
		return true
	}
	if bytes.Contains(line, kServerClosed) {
		if bytes.Contains(line, kSessionidZero) {
			ev.Kind = EventClientClosed0
			return true
		}
		return false
	}
	if bytes.Contains(line, kSession0For) {
		ev.Kind = EventClientSession0
		if bytes.Contains(line, kResetByPeer) {
			ev.Kind = EventClientReset
		}
		return true
	}
	if bytes.Contains(line, kSevere) {
		ev.Kind = EventSevereError
		return true
	}
	if i := bytes.Index(line, kNewElection); i >= 0 {
		ev.Kind = EventNewElection
		if id, ok := leadingInt(bytes.TrimLeft(line[i+len(kNewElection):], " ")); ok {
			ev.MyID = id
		}
		return true
	}
	if i := bytes.Index(line, kStarting); i >= 0 {
		ev.Kind = EventStarting
		if j := bytes.Index(line[i:], kMyIDEq); j >= 0 {
			if id, ok := leadingInt(line[i+j+len(kMyIDEq):]); ok {
				ev.MyID = id
			}
		}
		return true
	}
	if i := bytes.Index(line, kZKVersion); i >= 0 {
		v := line[i+len(kZKVersion):]
		if j := bytes.IndexAny(v, ", \t\r"); j >= 0 {
			v = v[:j]
		}
		if len(v) == 0 {
			return false
		}
		ev.Kind, ev.Version = EventVersion, string(printableBytes(v, 128))
		return true
	}
	if bytes.Contains(line, kNotHeard) {
		if bytes.Contains(line, kConnTimedOut) || bytes.Contains(line, kSessionZero) || bytes.Contains(line, kSessionidZero) {
			ev.Kind = EventClientConnectTimeout
			return true
		}
		return false
	}
	return classifyState(line, ev)
}

// classifyState recognises the lines that say the peer state changed. QuorumPeer
// logs the bare state word ("LOOKING") as the whole message, Follower/Leader log
// "FOLLOWING - LEADER ELECTION TOOK - 41 MS", 3.6+ add "Peer state changed:
// following - broadcast" (not needed: the bare word comes first) and WARN
// "PeerState set to LOOKING".
func classifyState(line []byte, ev *Event) bool {
	if bytes.Contains(line, kPeerStateSet) {
		ev.Kind = EventLooking
		return true
	}
	if i := bytes.Index(line, kElectionTook); i >= 0 {
		head := bytes.TrimRight(line[:i], " -")
		switch {
		case bytes.HasSuffix(head, kFollowing):
			ev.Kind = EventFollowing
		case bytes.HasSuffix(head, kLeading):
			ev.Kind = EventLeading
		case bytes.HasSuffix(head, kObserving):
			ev.Kind = EventObserving
		default:
			return false
		}
		return true
	}
	for _, w := range [...]struct {
		word []byte
		kind EventKind
	}{{kLooking, EventLooking}, {kFollowing, EventFollowing}, {kLeading, EventLeading}, {kObserving, EventObserving}} {
		if i := bytes.Index(line, w.word); i >= 0 && bareWord(line, i, len(w.word)) {
			ev.Kind = w.kind
			return true
		}
	}
	return false
}

// bareWord: the state word is the whole message. What comes before it ends the
// layout's prefix (" - ", "INFO ", a JSON quote, a UI tab); what comes after
// is nothing, a logger name in parentheses (Kafka's "%m (%c)%n"), a JSON
// quote, or a further tab-separated UI column.
func bareWord(line []byte, i, n int) bool {
	if i > 0 {
		switch line[i-1] {
		case ' ', '\t', '"', '|':
		default:
			return false
		}
	}
	rest := bytes.TrimLeft(line[i+n:], " \r")
	if len(rest) == 0 {
		return true
	}
	switch rest[0] {
	case '(':
		// a logger's name, not a vote's field cut off by a wrap:
		// "LOOKING (n.state), 2 (n.sid)," "LOOKING (my state)"
		return !bytes.HasPrefix(rest, []byte("(n.")) && !bytes.HasPrefix(rest, []byte("(my state"))
	case '"', '\t':
		return true
	}
	return false
}

// parseHaveSmaller reads the ids after "Have smaller server identifier":
// 3.3-3.6.0 ", so dropping the connection: (2, 1)" (remote sid, my id);
// 3.5.8/3.6.1+ "(myId:1 --> sid:2)" (ZOOKEEPER-2164). fixtures/seed/f4-have-smaller.log
// quotes it with no ids at all ("... dropping the connection.").
func parseHaveSmaller(rest []byte, ev *Event) {
	open := bytes.IndexByte(rest, '(')
	if open < 0 || open > 64 {
		return
	}
	in := rest[open+1:]
	if c := bytes.IndexByte(in, ')'); c >= 0 {
		in = in[:c]
	} else {
		return
	}
	if i := bytes.Index(in, kMyIDArrow); i >= 0 {
		if v, ok := leadingInt(in[i+len(kMyIDArrow):]); ok {
			ev.MyID = v
		}
		if j := bytes.Index(in, kSidArrow); j >= 0 && j != i+2 {
			if v, ok := leadingInt(in[j+len(kSidArrow):]); ok {
				ev.SID = v
			}
		}
		return
	}
	comma := bytes.IndexByte(in, ',')
	if comma < 0 {
		return
	}
	sid, ok1 := leadingInt(bytes.TrimSpace(in[:comma]))
	me, ok2 := leadingInt(bytes.TrimSpace(in[comma+1:]))
	if ok1 && ok2 {
		ev.SID, ev.MyID = sid, me
	}
}

var (
	kDialFrames = [][]byte{[]byte("QuorumCnxManager.connectOne("), []byte("QuorumCnxManager.initiateConnection(")}
	kException  = []byte("Exception")
)

// foldedDialFailure: b (what precedes a record on the same line) holds an
// exception and an election dial's stack frame after it.
func foldedDialFailure(b []byte) bool {
	e := bytes.Index(b, kException)
	if e < 0 {
		return false
	}
	for _, f := range kDialFrames {
		if bytes.Contains(b[e:], f) {
			return true
		}
	}
	return false
}

// dashes separate the address from "max is" in parseTooMany.
var dashes = [][]byte{[]byte("-"), []byte("\u2013"), []byte("\u2014")}

// parseTooMany reads "Too many connections from /1.2.3.4 - max is 60", 3.4's
// direct WARN and 3.6+'s RateLogger forms ("Message:Error accepting new
// connection: ... Value:null", "[12 times] Message: Error accepting ...").
func parseTooMany(line []byte, i int, ev *Event) bool {
	rest := line[i+len(kTooMany):]
	j := bytes.Index(rest, kMaxIs)
	if j < 0 || j > 300 {
		return false
	}
	// " - max is": a hyphen, or the en or em dash a blog's typography makes of
	// it (fixtures/field/F3/maxclientcnxns-blog-table-masked-max-60.log).
	ip := bytes.TrimRight(rest[:j], " ")
	sep := false
	for _, d := range dashes {
		if bytes.HasSuffix(ip, d) {
			ip, sep = ip[:len(ip)-len(d)], true
			break
		}
	}
	if !sep {
		return false
	}
	ip = bytes.TrimSpace(ip)
	// InetAddress.toString() is "hostname/ip" or "/ip".
	if k := bytes.LastIndexByte(ip, '/'); k >= 0 {
		ip = ip[k+1:]
	}
	if len(ip) == 0 {
		return false
	}
	ev.Kind = EventTooManyConnections
	ev.IP = string(printableBytes(ip, 128))
	lim := firstField(rest[j+len(kMaxIs):])
	if v, ok := leadingInt(lim); ok {
		ev.Limit = v
	}
	ev.Count = 1
	if k := bytes.Index(line[:i], kTimesPrefix); k >= 0 {
		b := bytes.LastIndexByte(line[:k], '[')
		if b >= 0 {
			if v, ok := leadingInt(line[b+1 : k]); ok && v > 0 {
				ev.Count = v
			}
		}
	}
	return true
}

// token is a host or address: up to a space or to what ends a JSON string or
// a UI column.
func token(b []byte) []byte {
	b = bytes.TrimLeft(b, " \t")
	if i := bytes.IndexAny(b, " \t\r\n\",;"); i >= 0 {
		b = b[:i]
	}
	return b
}

// leadingInt reads the decimal number at the start of b (after optional spaces).
func leadingInt(b []byte) (int64, bool) {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	var v int64
	n := 0
	for n < len(b) && n < 18 && isDigit(b[n]) {
		v = v*10 + int64(b[n]-'0')
		n++
	}
	return v, n > 0
}

// printable makes a line safe to quote: valid UTF-8, no control characters
// except tab, no trailing CR, at most maxEvidenceLine bytes.
func printable(b []byte) string { return string(printableBytes(b, maxEvidenceLine)) }

func printableBytes(b []byte, max int) []byte {
	b = bytes.TrimRight(b, "\r\n")
	trunc := false
	if len(b) > max {
		b, trunc = b[:max], true
	}
	clean := true
	for _, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean && !trunc {
		return b
	}
	var sb strings.Builder
	sb.Grow(len(b) + 4)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size <= 1:
			sb.WriteRune(utf8.RuneError)
		case r < 0x20 && r != '\t' || r == 0x7f:
			sb.WriteByte('?')
		default:
			sb.Write(b[:size])
		}
		b = b[size:]
	}
	if trunc {
		sb.WriteString(" …")
	}
	return []byte(sb.String())
}
