package detect

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Bounds on what a NodeLog keeps, so memory stays flat on any log size.
const (
	maxIPs       = 1024 // distinct client IPs counted for F3
	maxPeers     = 256  // distinct peer sids tracked per episode / channel failure
	maxEpisodes  = 16   // closed LOOKING episodes kept for evaluation
	maxSamples   = 3    // first lines of a kind kept as evidence
	longLookingD = 60 * time.Second
)

// NodeLog is the bounded summary of one server's log that the log detectors
// (F1 to F4) work on. Fill it with Feed (line at a time, as the harness streams
// container logs) or ReadFrom (a whole file, fast path); then pass it to Detect.
// Its zero value is not usable: make one with NewNodeLog. It is not safe for
// concurrent use: one goroutine feeds one node's log.
type NodeLog struct {
	Node    string
	MyID    int64  // -1 until a line tells
	Version string // from "zookeeper.version=", "" until seen
	Lines   int64  // lines read
	Bytes   int64  // bytes read
	// Events counts the lines recognised as ZooKeeper messages the detectors
	// use; with Layout it tells whether the input is a ZooKeeper log at all.
	Events int64
	// Layout: a line of the input has the marks of ZooKeeper's own logging
	// (its class names, "[myid:", "org.apache.zookeeper"), even if no line
	// matters to the detectors (a healthy server's routine lines).
	Layout bool
	// Cut says why reading stopped before the end ("" when it did not): a
	// size or time bound of ReadFromLimited.
	Cut string
	// Format is the notification format last seen (tells 3.3 from 3.4.6+).
	Format NotificationFormat

	lastTime  time.Time
	state     EventKind // last known peer state, EventNone if unknown
	cur       *episode
	closed    []*episode
	dropped   int // closed episodes not kept (bound)
	restarts  int
	tooMany   tooManyAgg
	disk      diskAgg
	channels  map[int64]*channelAgg
	resolve   sample
	client    sample
	wantCause *channelAgg // the Cannot open channel line whose exception follows
	wantReset *Event      // a client's "Session 0x0 for server" line whose exception may follow
	afterN    int         // pieces of a wrapped message read while wantCause or wantReset waits
	causeN    int         // lines of wantCause's stack trace read (its exception, then frames)
	wantEOF   *Event      // an EOFException whose frames may say a data file is cut (eofFrame)
	eofN      int         // frames read below wantEOF
	wrap      []byte      // a record that meant nothing so far: maybe hard-wrapped (record.go)
	wrapTight []byte      // wrap joined as a console's wrap cut it (joinTight)
	wrapN     int         // pieces joined to wrap after its anchor line
	wrapTime  time.Time   // the timestamp of wrap's head
	wrapDone  EventKind   // what wrap was already read as (a line whose ids a wrap cut off), EventNone
	recent    recent      // the last lines read
	disk2     diskHints
	resets    sample // client connections reset before a session (EventClientReset)
	closed0   sample // client connections closed before a session (EventClientClosed0)
	slow      sample // LOOKING stretches that ended FOLLOWING/LEADING after a long wait
	timeouts  int64  // notification time outs in the whole log
	// unreachable: LOOKING stretches that were stuck with only "Cannot open
	// channel" to show for it: no F1/F4, but worth a note.
	unreachable sample
}

// NewNodeLog starts the summary of the log of node (a name: file name, host, zk1).
func NewNodeLog(node string) *NodeLog {
	return &NodeLog{Node: node, MyID: -1, channels: map[int64]*channelAgg{}}
}

// sample counts lines of one kind and keeps the first few and the last.
type sample struct {
	n     int64
	first time.Time
	lines []string
	last  string
}

func (s *sample) add(ev *Event) {
	if s.n == 0 {
		s.first = ev.Time
	}
	s.n++
	if len(s.lines) < maxSamples {
		s.lines = append(s.lines, ev.Line)
	} else {
		s.last = ev.Line
	}
}

// evidence returns the kept lines, with the last one when it was not kept.
func (s *sample) evidence() []string {
	out := append([]string(nil), s.lines...)
	if s.last != "" {
		out = append(out, s.last)
	}
	return out
}

type tooManyAgg struct {
	sample
	total    int64
	limit    int64 // last limit seen, -1 unknown
	limitStr string
	ips      map[string]int64
	otherIPs int64 // rejections from IPs beyond the maxIPs bound
	// rateLimited: 3.6+ log the refusal through a RateLogger that prints the
	// first one and folds the next ones into a later "[N times]" line, which
	// may never come: the log then undercounts (captured 3.8.0/3.9.3: 3
	// refusals, 1 line).
	rateLimited bool
}

type diskAgg struct {
	noSpace sample
	severe  sample
	// noSpaceZK counts the "No space left on device" lines that carry a mark
	// of ZooKeeper's own logging (its classes, threads, "[myid:").
	noSpaceZK int64
}

// diskHints are the indirect signs of a full disk (F2 suspected).
type diskHints struct {
	emptySnap sample
	partial   sample
	truncated sample // the server could not load a data file that ends early (EventTruncatedData)
}

type channelAgg struct {
	sid        int64
	sample     sample
	address    string
	cause      string
	unresolved bool
	// dialBack: a failure logged by the election listener, i.e. while it
	// answered a connection of that (smaller) id by dialling it back: the
	// smaller id reaches this node, this node cannot reach it (F4's
	// mechanism, docs/F4.md §2).
	dialBack bool
}

// episode is one stretch of LOOKING: from the state change (or first sign of
// election) to FOLLOWING/LEADING/OBSERVING, a restart, or the end of the log.
type episode struct {
	start, end time.Time
	endedBy    EventKind // EventNone: still open; EventStarting: restart
	first      string    // the line that opened it
	evidence   bool      // any state evidence (LOOKING line, votes, time outs)

	myRound      int64 // round of this node's own vote, -1 unknown
	maxLookRound int64 // largest round among LOOKING votes, -1 none
	ownVote      string
	maxOwnLine   string

	timeouts    int64
	maxTimeout  int64
	lastTimeout string

	ooe          map[int64]Notification // latest vote of each FOLLOWING/LEADING peer
	ooeLines     map[int64]string
	quorumAt     time.Time // when out-of-election votes first named one leader with a quorum
	quorumLeader int64
	quorumLines  []string
	afterQuorum  int64 // time outs after that
	maxAfter     int64
	afterLine    string

	peerVotes int64 // votes from other sids, any state

	haveSmaller sample
	smallerSIDs map[int64]bool
	votedSIDs   map[int64]bool // peers whose votes reached this node in the episode
	cannotOpen  sample
	closedByEnd bool
}

func newEpisode(ev *Event) *episode {
	return &episode{start: ev.Time, first: ev.Line, myRound: -1, maxLookRound: -1, quorumLeader: -1,
		ooe: map[int64]Notification{}, ooeLines: map[int64]string{}, smallerSIDs: map[int64]bool{}, votedSIDs: map[int64]bool{}}
}

// Feed adds one log line (without or with its newline).
func (n *NodeLog) Feed(line []byte) {
	n.Lines++
	n.Bytes += int64(len(line))
	n.feed(line)
}

// feed handles one line; counting is the caller's.
func (n *NodeLog) feed(line []byte) {
	n.step(line, func(i int) []byte { return n.recent.lines[i] })
	n.recent.push(line)
}

// continues says whether line continues the record above it (no timestamp of
// its own: an exception or a stack frame).
func continues(line []byte) bool { return !ownTimestamp(line) }

// after looks at the line that follows a line whose cause is printed on the
// next one (a stack trace's first line).
func (n *NodeLog) after(line []byte) {
	if n.wantEOF != nil {
		n.eofFrame(line)
	}
	if n.wantCause == nil && n.wantReset == nil {
		return
	}
	if n.afterN < maxWrapAhead && messagePiece(line) {
		n.afterN++ // a piece a wrap took off the record's message: the exception is below it
		return
	}
	n.afterN = 0
	if n.wantCause != nil {
		n.cause(line)
	}
	if r := n.wantReset; r != nil {
		n.wantReset = nil
		if bytes.Contains(line, kResetByPeer) {
			r.Kind = EventClientReset
			n.resets.add(r)
		}
	}
}

// zkMarks are strings found on the lines of ZooKeeper's own logging in every
// layout (class names, its logger's package, the 3.4+ "[myid:" field).
var zkMarks = [][]byte{[]byte("org.apache.zookeeper"), []byte("o.a.z."), []byte("[myid:"), []byte("ZooKeeper"),
	[]byte("QuorumPeer"), []byte("Cnxn"), []byte("LeaderElection"), []byte("zookeeper")}

func hasZKMark(b []byte) bool {
	for _, m := range zkMarks {
		if bytes.Contains(b, m) {
			return true
		}
	}
	return false
}

// listenerThread says whether a QuorumCnxManager line was logged by the
// election listener: 3.4's listener thread is named after its address
// ("[/0.0.0.0:3888:QuorumCnxManager@400]", "[zk3/10.199.128.13:3888:…]"),
// later ones "ListenerThread" or "ListenerHandler-…". Other dials come from
// the election (QuorumPeer[myid=N]…, WorkerSender[myid=N]) or, from 3.6, a
// QuorumConnectionThread, which both kinds use.
func listenerThread(line string) bool {
	var t string
	if i := strings.Index(line, ":QuorumCnxManager@"); i >= 0 {
		j := strings.LastIndexByte(line[:i], '[')
		if j < 0 {
			return false
		}
		t = line[j+1 : i]
	} else {
		// log4j layouts that put the thread last: "(org.apache…) [thread]"
		j := strings.LastIndexByte(line, '[')
		if j < 0 || !strings.Contains(line, "QuorumCnxManager") {
			return false
		}
		t = strings.TrimSuffix(strings.TrimSpace(line[j+1:]), "]")
	}
	if strings.HasPrefix(t, "Listener") {
		return true
	}
	// an address: [host]/ip:port, and no thread name with brackets
	slash, colon := strings.IndexByte(t, '/'), strings.LastIndexByte(t, ':')
	if slash < 0 || colon < slash || colon == len(t)-1 || strings.ContainsAny(t, "[] ") {
		return false
	}
	for _, r := range t[colon+1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// cause takes the line after "Cannot open channel ..." when it is the
// exception (java.net.UnknownHostException: zk3, ConnectException: Connection
// refused, NoRouteToHostException ...): it tells DNS from a firewall from a dead peer.
func (n *NodeLog) cause(line []byte) {
	c := n.wantCause
	if ownTimestamp(line) || (n.causeN > 0 && !stackLine(ownText(line))) || n.causeN >= maxFrames {
		n.wantCause = nil
		return
	}
	n.causeN++
	if n.causeN > 1 {
		// a frame: the listener's own dial-back (3.4, 3.5: receiveConnection
		// calls connectOne for a smaller id) whatever the layout shows of
		// the thread
		if bytes.Contains(line, []byte("QuorumCnxManager.receiveConnection(")) || bytes.Contains(line, []byte("QuorumCnxManager.handleConnection(")) {
			c.dialBack = true
			n.wantCause = nil
		}
		return
	}
	i := bytes.Index(line, []byte("Exception"))
	if i < 0 {
		n.wantCause = nil
		return
	}
	// from the start of the exception's class name
	j := bytes.LastIndexAny(line[:i], " \t|")
	c.cause = string(printableBytes(bytes.TrimSpace(line[j+1:]), 300))
	if bytes.Contains(line, []byte("UnknownHost")) || bytes.Contains(line, []byte("UnresolvedAddress")) {
		c.unresolved = true
	}
}

// Handle adds one classified event (what ParseLine returns).
func (n *NodeLog) Handle(ev Event) {
	n.Events++
	if !ev.Time.IsZero() {
		n.lastTime = ev.Time
	}
	if ev.MyID >= 0 && n.MyID < 0 {
		n.MyID = ev.MyID
	}
	switch ev.Kind {
	case EventStarting:
		n.restarts++
		n.closeEpisode(&ev, EventStarting)
		n.state = EventNone
	case EventVersion:
		n.Version = ev.Version
	case EventLooking, EventNewElection:
		n.looking(&ev).evidence = true
	case EventFollowing, EventLeading, EventObserving:
		n.closeEpisode(&ev, ev.Kind)
		n.state = ev.Kind
	case EventNotification:
		n.notification(&ev)
	case EventNotificationTimeout:
		ep := n.looking(&ev)
		ep.evidence = true
		ep.timeouts++
		n.timeouts++
		ep.lastTimeout = ev.Line
		if ev.DialFailed {
			// its own dial failed (the folded stack's header, "Cannot open
			// channel to N", is gone): a node that reaches nobody is not
			// F1|F4 (docs/F4.md §5)
			ep.cannotOpen.add(&ev)
		}
		if ev.TimeoutMs > ep.maxTimeout {
			ep.maxTimeout = ev.TimeoutMs
		}
		if ep.quorumLeader >= 0 {
			ep.afterQuorum++
			if ev.TimeoutMs > ep.maxAfter {
				ep.maxAfter = ev.TimeoutMs
				ep.afterLine = ev.Line
			}
		}
	case EventHaveSmallerID:
		// Only a server dialling out in an election writes it, so it also says
		// the server is LOOKING when nothing else in the input does
		// (fixtures/seed/f4-have-smaller.log holds the line alone).
		ep := n.looking(&ev)
		ep.haveSmaller.add(&ev)
		if ev.SID >= 0 && len(ep.smallerSIDs) < maxPeers {
			ep.smallerSIDs[ev.SID] = true
		}
	case EventCannotOpenChannel:
		c := n.channels[ev.SID]
		if c == nil {
			if len(n.channels) >= maxPeers {
				return
			}
			c = &channelAgg{sid: ev.SID}
			n.channels[ev.SID] = c
		}
		c.sample.add(&ev)
		c.address = ev.Address
		c.dialBack = c.dialBack || listenerThread(ev.Line)
		if bytes.Contains([]byte(ev.Address), kUnresolvedAddr) {
			c.unresolved = true
		}
		n.wantCause, n.causeN = c, 0
		if n.cur != nil {
			n.cur.cannotOpen.add(&ev)
		}
	case EventFailedToResolve:
		n.resolve.add(&ev)
	case EventTooManyConnections:
		t := &n.tooMany
		if t.ips == nil {
			t.ips = map[string]int64{}
			t.limit = -1
		}
		t.add(&ev)
		t.total += ev.Count
		if bytes.Contains([]byte(ev.Line), []byte("Message:")) {
			t.rateLimited = true
		}
		if ev.Limit >= 0 {
			t.limit = ev.Limit
		}
		if _, ok := t.ips[ev.IP]; ok || len(t.ips) < maxIPs {
			t.ips[ev.IP] += ev.Count
		} else {
			t.otherIPs += ev.Count
		}
		t.limitStr = limitText(ev)
	case EventNoSpace:
		n.disk.noSpace.add(&ev)
		if ev.AfterZK || hasZKMark([]byte(ev.Line)) {
			n.disk.noSpaceZK++
		}
	case EventSevereError:
		n.disk.severe.add(&ev)
	case EventClientConnectTimeout:
		n.client.add(&ev)
	case EventEmptySnapshot:
		n.disk2.emptySnap.add(&ev)
	case EventPartialTxn:
		n.disk2.partial.add(&ev)
	case EventTruncatedData:
		n.disk2.truncated.add(&ev)
	case EventClientReset:
		n.resets.add(&ev)
	case EventClientClosed0:
		n.closed0.add(&ev)
	case EventClientSession0:
		e := ev
		n.wantReset = &e
	}
}

func limitText(ev Event) string {
	line := []byte(ev.Line)
	if i := bytes.Index(line, kMaxIs); i >= 0 {
		return string(firstField(line[i+len(kMaxIs):]))
	}
	return ""
}

// looking returns the open episode, opening one if the node was not LOOKING.
func (n *NodeLog) looking(ev *Event) *episode {
	if n.cur == nil {
		n.cur = newEpisode(ev)
	}
	n.state = EventLooking
	n.cur.end = ev.Time
	return n.cur
}

func (n *NodeLog) notification(ev *Event) {
	v := ev.Notification
	n.Format = v.Format
	if v.MyState != "LOOKING" {
		// a vote received while FOLLOWING/LEADING: the election is over here
		n.closeEpisode(ev, stateKind(v.MyState))
		n.state = stateKind(v.MyState)
		return
	}
	ep := n.looking(ev)
	ep.evidence = true
	own := n.MyID >= 0 && v.SID == n.MyID
	if !own {
		ep.peerVotes++
		if v.SID >= 0 && len(ep.votedSIDs) < maxPeers {
			ep.votedSIDs[v.SID] = true
		}
	}
	switch v.State {
	case "LOOKING":
		if own {
			ep.myRound = v.Round
			ep.ownVote = ev.Line
		}
		if v.Round > ep.maxLookRound {
			ep.maxLookRound = v.Round
			ep.maxOwnLine = ev.Line
		}
	case "FOLLOWING", "LEADING", "OBSERVING":
		if _, ok := ep.ooe[v.SID]; ok || len(ep.ooe) < maxPeers {
			if _, seen := ep.ooeLines[v.SID]; !seen {
				ep.ooeLines[v.SID] = ev.Line
			}
			ep.ooe[v.SID] = v
		}
		if ep.quorumLeader < 0 {
			n.checkQuorum(ep, v.Leader, ev)
		}
	}
}

// checkQuorum notes the moment the out-of-election votes name one leader, the
// leader itself among them (LEADING) and at least one follower: with those,
// a server with the ZOOKEEPER-1514 fix joins at once (docs/F1.md §2).
func (n *NodeLog) checkQuorum(ep *episode, leader int64, ev *Event) {
	lv, ok := ep.ooe[leader]
	if !ok || lv.State != "LEADING" {
		return
	}
	var lines []string
	followers := 0
	for sid, v := range ep.ooe {
		if sid != leader && v.Leader == leader && v.State == "FOLLOWING" {
			followers++
			if len(lines) < 2 {
				lines = append(lines, ep.ooeLines[sid])
			}
		}
	}
	if followers == 0 {
		return
	}
	ep.quorumLeader = leader
	ep.quorumAt = ev.Time
	ep.quorumLines = append([]string{ep.ooeLines[leader]}, lines...)
}

func stateKind(s string) EventKind {
	switch s {
	case "LOOKING":
		return EventLooking
	case "FOLLOWING":
		return EventFollowing
	case "LEADING":
		return EventLeading
	case "OBSERVING":
		return EventObserving
	}
	return EventNone
}

// closeEpisode ends the LOOKING stretch, keeping it if it may show F1 or F4.
func (n *NodeLog) closeEpisode(ev *Event, by EventKind) {
	ep := n.cur
	if ep == nil {
		return
	}
	n.cur = nil
	ep.endedBy = by
	if !ev.Time.IsZero() {
		ep.end = ev.Time
	}
	if !ep.open() {
		// It joined: at most slow to join, never "never rejoins".
		if ep.duration() >= 10*time.Second || ep.timeouts >= 3 {
			n.slow.add(&Event{Time: ep.start, Line: slowLine(ep)})
		}
		return
	}
	if classifyEpisode(ep, n).f == "" {
		if ep.stuck() && ep.cannotOpen.n > 0 {
			n.unreachable.add(&Event{Time: ep.start, Line: ep.cannotOpen.lines[0]})
		}
		return
	}
	if len(n.closed) >= maxEpisodes {
		// keep the first ones and the latest: drop the one before the latest
		n.closed = append(n.closed[:maxEpisodes-2], n.closed[maxEpisodes-1])
		n.dropped++
	}
	n.closed = append(n.closed, ep)
}

func slowLine(ep *episode) string {
	s := "slow to join"
	if d := ep.duration(); d > 0 {
		s += fmt.Sprintf(" (%s)", d.Round(time.Second))
	}
	s += fmt.Sprintf(": LOOKING with %d notification time out(s) before it became %s", ep.timeouts, strings.ToUpper(ep.endedBy.String()))
	return s
}

// classified is a LOOKING stretch with what it shows.
type classified struct {
	ep *episode
	verdict
}

// episodes returns the LOOKING stretches that show F1 or F4, the open one last.
func (n *NodeLog) episodes() []classified {
	var out []classified
	for _, ep := range n.closed {
		if v := classifyEpisode(ep, n); v.f != "" {
			out = append(out, classified{ep, v})
		}
	}
	if n.cur != nil {
		if v := classifyEpisode(n.cur, n); v.f != "" {
			out = append(out, classified{n.cur, v})
		}
	}
	return out
}

// duration of an episode, 0 when its times are unknown.
func (ep *episode) duration() time.Duration {
	if ep.start.IsZero() || ep.end.IsZero() || ep.end.Before(ep.start) {
		return 0
	}
	return ep.end.Sub(ep.start)
}

// myRoundGuess is the node's own round: from its own vote when its id is
// known, otherwise the largest round among LOOKING votes (the node catches up
// with any LOOKING peer's larger round, so its own round is that).
func (ep *episode) myRoundGuess() int64 {
	if ep.myRound >= 0 {
		return ep.myRound
	}
	return ep.maxLookRound
}

// open: the stretch did not end in FOLLOWING/LEADING/OBSERVING (the log ends
// in it, or the process was restarted in it).
func (ep *episode) open() bool { return ep.endedBy == EventNone || ep.endedBy == EventStarting }

// stuck: the node did not leave LOOKING although the election's back-off
// shows it waited for long: the notification time out doubled to 3200 ms
// (four empty polls, ~6 s), three time outs were logged, or 10 s went by.
func (ep *episode) stuck() bool {
	return ep.open() && (ep.timeouts >= 3 || ep.maxTimeout >= 3200 || ep.duration() >= 10*time.Second)
}

// backingOff: several back-off rounds without a leader (two time outs, or
// one of 1600 ms or more): what a short excerpt of a stuck node shows, and
// also a slow start cut short, so it only ever makes a suspicion.
func (ep *episode) backingOff() bool { return ep.timeouts >= 2 || ep.maxTimeout >= 1600 }

// otherRoundLeader: a LEADING vote in a round other than the node's own, no
// FOLLOWING vote for it (yet): half of F1's picture.
func (ep *episode) otherRoundLeader() (Notification, bool) {
	mine := ep.myRoundGuess()
	for _, v := range ep.ooe {
		if v.State == "LEADING" && mine >= 0 && v.Round != mine {
			return v, true
		}
	}
	return Notification{}, false
}

// dialBackMissing: some larger id this node dropped ("Have smaller server
// identifier") never reached it in the episode. A vote from that id proves
// its dial-back arrived (the only election channel between the two is the
// one the larger id opens), so the tie-break resolved and whatever keeps the
// node LOOKING is not F4. Without ids in the lines it cannot tell: missing.
func (ep *episode) dialBackMissing() bool {
	if len(ep.smallerSIDs) == 0 {
		return true
	}
	for sid := range ep.smallerSIDs {
		if !ep.votedSIDs[sid] {
			return true
		}
	}
	return false
}

// stuckElection marks a LOOKING stretch that is stuck but shows neither F1's
// votes nor F4's tie-break line: both are suspected.
const stuckElection Failure = "F1|F4"

// verdict is what a LOOKING stretch shows: F1, F4, stuckElection or "".
type verdict struct {
	f     Failure
	grade Grade
}

// classifyEpisode grades a LOOKING stretch. Only a stretch the node never
// left counts: one that ended FOLLOWING or LEADING was slow, not stuck.
func classifyEpisode(ep *episode, n *NodeLog) verdict {
	if !ep.open() {
		return verdict{}
	}
	strong := ep.stuck()
	weak := strong || ep.backingOff()
	if ep.quorumLeader >= 0 {
		lv := ep.ooe[ep.quorumLeader]
		if mine := ep.myRoundGuess(); mine >= 0 && lv.Round != mine {
			if strong && (ep.afterQuorum >= 2 || ep.maxAfter >= 3200) {
				return verdict{F1, Found}
			}
			if weak {
				return verdict{F1, Suspected}
			}
		}
	}
	if ep.haveSmaller.n > 0 && ep.dialBackMissing() {
		switch {
		case !ep.evidence:
			// only "Have smaller ..." lines and nothing about the state: the
			// line as the reported incident quotes it, or a grep of any start
			// (docs/F4.md §5). Suspected, with the state left to confirm.
			return verdict{F4, Suspected}
		case strong:
			return verdict{F4, Found}
		case weak:
			return verdict{F4, Suspected}
		}
		return verdict{}
	}
	if _, ok := ep.otherRoundLeader(); ok && weak {
		return verdict{F1, Suspected}
	}
	// Peers that answer LEADING/FOLLOWING in its own round can reach it and
	// are not in another round: neither F1 nor F4 then.
	// A tie-break whose dial-back arrived shows the peers reach it: not F4,
	// and without LEADING/FOLLOWING answers not F1 either.
	resolved := ep.haveSmaller.n > 0 && !ep.dialBackMissing()
	// A node LOOKING across rounds, seen as at least two time outs: one
	// line alone, even at 60 s, is also a node whose peers are down or
	// unreachable, and it gets a note (Notes), not a suspicion.
	if strong && ep.timeouts >= 2 && !resolved && ep.cannotOpen.n == 0 && len(ep.ooe) == 0 {
		return verdict{stuckElection, Suspected}
	}
	return verdict{}
}
