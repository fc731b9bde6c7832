package detect

import (
	"bytes"
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
}

type channelAgg struct {
	sid        int64
	sample     sample
	address    string
	cause      string
	unresolved bool
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
	cannotOpen  sample
	closedByEnd bool
}

func newEpisode(ev *Event) *episode {
	return &episode{start: ev.Time, first: ev.Line, myRound: -1, maxLookRound: -1, quorumLeader: -1,
		ooe: map[int64]Notification{}, ooeLines: map[int64]string{}, smallerSIDs: map[int64]bool{}}
}

// Feed adds one log line (without or with its newline).
func (n *NodeLog) Feed(line []byte) {
	n.Lines++
	n.Bytes += int64(len(line))
	n.feed(line)
}

// feed handles one line that may matter; counting is the caller's.
func (n *NodeLog) feed(line []byte) {
	if n.wantCause != nil {
		n.cause(line)
	}
	ev := ParseLine(line)
	if ev.Kind != EventNone {
		n.Handle(ev)
	}
}

// cause takes the line after "Cannot open channel ..." when it is the
// exception (java.net.UnknownHostException: zk3, ConnectException: Connection
// refused, NoRouteToHostException ...): it tells DNS from a firewall from a dead peer.
func (n *NodeLog) cause(line []byte) {
	c := n.wantCause
	n.wantCause = nil
	if _, ok := FindTimestamp(line); ok {
		return
	}
	i := bytes.Index(line, []byte("Exception"))
	if i < 0 {
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
		ep.lastTimeout = ev.Line
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
		if bytes.Contains([]byte(ev.Address), kUnresolvedAddr) {
			c.unresolved = true
		}
		n.wantCause = c
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
	case EventSevereError:
		n.disk.severe.add(&ev)
	case EventClientConnectTimeout:
		n.client.add(&ev)
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
	if classifyEpisode(ep, n) == "" {
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

// Episodes returns the LOOKING stretches that show F1 or F4, the open one last.
func (n *NodeLog) episodes() []*episode {
	out := append([]*episode(nil), n.closed...)
	if n.cur != nil && classifyEpisode(n.cur, n) != "" {
		out = append(out, n.cur)
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

// stuck: the node did not leave LOOKING although the election's back-off
// shows it waited for long. An open (or restart-ended) episode counts once the
// notification time out doubled to 3200 ms (four empty polls, ~6 s) or three
// time outs were logged; a closed one only if it lasted a minute or more, so a
// slow but healthy start (~12 s while DNS catches up, docker/entrypoint.sh) is not a finding.
func (ep *episode) stuck() bool {
	open := ep.endedBy == EventNone || ep.endedBy == EventStarting
	if open {
		return ep.timeouts >= 3 || ep.maxTimeout >= 3200 || ep.duration() >= 10*time.Second
	}
	return ep.duration() >= longLookingD
}

// classifyEpisode says what a LOOKING stretch shows: "F1", "F4" or "".
func classifyEpisode(ep *episode, n *NodeLog) Failure {
	if ep.quorumLeader >= 0 {
		lv := ep.ooe[ep.quorumLeader]
		mine := ep.myRoundGuess()
		if mine >= 0 && lv.Round != mine && (ep.afterQuorum >= 2 || ep.maxAfter >= 3200) && ep.stuck() {
			return F1
		}
	}
	if ep.haveSmaller.n > 0 {
		if !ep.evidence && (ep.endedBy == EventNone || ep.endedBy == EventStarting) {
			// only "Have smaller ..." lines and nothing else about the state:
			// the line as the reported incident quotes it (docs/F4.md §5). Reported,
			// with the state left to confirm.
			return F4
		}
		if ep.stuck() {
			return F4
		}
	}
	return ""
}
