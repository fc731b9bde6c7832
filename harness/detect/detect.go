package detect

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FourLetterWords is what one live server answered (any part may be missing:
// 3.5.3+ answer only srvr unless 4lw.commands.whitelist allows the others).
type FourLetterWords struct {
	Node string // host:port
	Srvr *Srvr
	Mntr Mntr
	Cons []Conn
	Conf *Config
}

// ClientObservation is what a client-side load (the harness's, or a user's
// client metrics) saw connecting to one server: F5's client-side evidence.
type ClientObservation struct {
	Node            string // the server dialled
	Attempts        int64
	ConnectTimeouts int64    // connects or handshakes that timed out
	Evidence        []string // e.g. a client log line or a latency summary
}

// Observations is everything the detectors may use. Any part may be empty;
// each detector uses what is there and says what it could not see.
type Observations struct {
	Logs     []*NodeLog
	Net      []NetObservation
	DataDirs []DataDir
	Live     []FourLetterWords
	Clients  []ClientObservation
	Config   *Config // the ensemble's zoo.cfg, nil when not given
}

// Detect runs the five detectors and returns their findings, ordered by
// failure, node and time. Healthy observations give none.
func Detect(o Observations) []Finding {
	var out []Finding
	out = append(out, DetectF1(o)...)
	out = append(out, DetectF2(o)...)
	out = append(out, DetectF3(o)...)
	out = append(out, DetectF4(o)...)
	out = append(out, DetectF5(o)...)
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Failure, b.Failure), cmp.Compare(a.Node, b.Node), a.Time.Compare(b.Time))
	})
	return out
}

// nodeName finds which input is the server with this myid.
func nodeName(o Observations, id int64) string {
	for _, n := range o.Logs {
		if n.MyID == id {
			return n.Node
		}
	}
	if s, ok := o.Config.serverLine(id); ok && s.Host != "" {
		return s.Host
	}
	return ""
}

func (c *Config) serverLine(id int64) (ServerLine, bool) {
	if c == nil {
		return ServerLine{}, false
	}
	s, ok := c.Servers[id]
	return s, ok
}

func idName(o Observations, id int64) string {
	if name := nodeName(o, id); name != "" {
		return fmt.Sprintf("myid %d, %s", id, name)
	}
	return fmt.Sprintf("myid %d", id)
}

func nodeDesc(n *NodeLog) string {
	if n.MyID >= 0 {
		return fmt.Sprintf("%s (myid %d)", n.Node, n.MyID)
	}
	return n.Node
}

// pick returns the LOOKING stretch of n that shows f (or a stuck election,
// which suspects both F1 and F4): a Found one first, else the first.
func pick(n *NodeLog, f Failure) (classified, int, bool) {
	var best classified
	count := 0
	for _, c := range n.episodes() {
		if c.f != f && c.f != stuckElection {
			continue
		}
		count++
		if best.ep == nil || (best.grade != Found && c.grade == Found) {
			best = c
		}
	}
	return best, count, best.ep != nil
}

func lookingFor(ep *episode) string {
	d := ep.duration()
	switch {
	case ep.endedBy == EventNone && d > 0:
		return fmt.Sprintf("still LOOKING at the end of the log, %s after the election started", d.Round(time.Millisecond))
	case ep.endedBy == EventNone:
		return "still LOOKING at the end of the log"
	case ep.endedBy == EventStarting:
		return "LOOKING until the process was restarted"
	case d > 0:
		return fmt.Sprintf("LOOKING for %s before it became %s", d.Round(time.Millisecond), strings.ToUpper(ep.endedBy.String()))
	}
	return "LOOKING for a long time"
}

// DetectF1 finds ZOOKEEPER-1514's picture (F1, docs/F1.md): a LOOKING node that
// receives the votes of a LEADING leader and its FOLLOWING peers in another
// round and still keeps timing out, election after election. Part of that
// picture (the leader's vote alone, a short excerpt) makes it suspected.
func DetectF1(o Observations) []Finding {
	var out []Finding
	for _, n := range o.Logs {
		c, count, ok := pick(n, F1)
		if !ok {
			continue
		}
		ep := c.ep
		if c.f == stuckElection {
			out = append(out, stuckFinding(o, n, c, F1))
			continue
		}
		leader := ep.quorumLeader
		lv, quorum := ep.ooe[leader]
		if !quorum {
			lv, _ = ep.otherRoundLeader()
			leader = lv.SID
		}
		mine := ep.myRoundGuess()
		var ev []string
		if ep.ownVote != "" {
			ev = append(ev, ep.ownVote)
		} else if ep.maxOwnLine != "" {
			ev = append(ev, ep.maxOwnLine)
		}
		if quorum {
			ev = append(ev, ep.quorumLines...)
		} else {
			ev = append(ev, ep.ooeLines[lv.SID])
		}
		if ep.afterLine != "" {
			ev = append(ev, ep.afterLine)
		}
		if ep.lastTimeout != "" && ep.lastTimeout != ep.afterLine {
			ev = append(ev, ep.lastTimeout)
		}
		ev = append(ev, fmt.Sprintf("own round %d, leader %d LEADING in round %d; %d notification time out(s), up to %d ms; %s",
			mine, lv.SID, lv.Round, ep.timeouts, ep.maxTimeout, lookingFor(ep)))
		if count > 1 {
			ev = append(ev, fmt.Sprintf("the same in %d LOOKING episodes of this log (restarting the node did not help)", count))
		}
		expl := fmt.Sprintf("%s is LOOKING in election round %d, but the servers that answer it are already LEADING/FOLLOWING "+
			"in round %d: the running ensemble's round is far ahead of the restarted node's logical clock. "+
			"ZooKeeper with ZOOKEEPER-1514 (\"FastLeaderElection - leader ignores the round information when joining a quorum\") "+
			"never counts those votes, so the node keeps timing out (the notification time out keeps doubling) and never rejoins "+
			"or serves clients: F1.", nodeDesc(n), mine, lv.Round)
		if c.grade == Suspected {
			expl += " Suspected, not found: " + f1Missing(ep, quorum)
		}
		expl += " " + fixNote1514(n)
		t := ep.quorumAt
		if t.IsZero() {
			t = ep.start
		}
		out = append(out, Finding{Failure: F1, Grade: c.grade, Node: n.Node, Time: t, Evidence: ev, Explanation: expl,
			Remedy: remedyF1(o, n, leader)})
	}
	return out
}

// f1Missing says what part of F1's picture the input lacks, and what would confirm it.
func f1Missing(ep *episode, quorum bool) string {
	var s string
	if !quorum {
		s = "only the leader's LEADING vote is in the input, no FOLLOWING vote for the same leader; "
	}
	if !ep.stuck() {
		s += fmt.Sprintf("the input ends after %d notification time out(s) (up to %d ms), too early to call the node stuck; ", ep.timeouts, ep.maxTimeout)
	}
	return s + "confirm with more of this log (does it stay LOOKING?), `srvr` on this node, and the leader's log."
}

// remedyF1 is the F1 remedy for the version the log shows: no upgrade advice
// to a server that already has the fix.
func remedyF1(o Observations, n *NodeLog, leader int64) string {
	who := "the current leader"
	if leader >= 0 {
		who = fmt.Sprintf("the current leader (%s)", idName(o, leader))
	}
	r := "Restart " + who + " so that a new leader is elected and every server votes in the same round " +
		"(the documented fix); restarting the stuck node itself does not help."
	switch fixed, known := fixed1514(n); {
	case known && fixed:
		return r + " This version already has the ZOOKEEPER-1514 fix, so upgrading will not help: check that the node reaches " +
			"every peer's election port and that the peers' votes agree (same leader and peer epoch)."
	case known:
		return r + " Upgrade to ZooKeeper 3.4.4 or later, where ZOOKEEPER-1514 is fixed (3.4.6 adds the follow-ups " +
			"ZOOKEEPER-1732 and ZOOKEEPER-1805)."
	}
	return r + " If the servers run a version before 3.4.4, upgrade: ZOOKEEPER-1514 is fixed from 3.4.4 (3.4.6 adds the " +
		"follow-ups ZOOKEEPER-1732 and ZOOKEEPER-1805)."
}

// fixed1514 tells from the log whether the server has the ZOOKEEPER-1514 fix.
func fixed1514(n *NodeLog) (fixed, known bool) {
	if n.Version != "" {
		if fixed, ok := versionAtLeast(n.Version, 3, 4, 4); ok {
			return fixed, true
		}
	}
	return n.Format.Fixed1514()
}

// stuckFinding reports a node stuck LOOKING whose input shows neither F1's
// votes nor F4's tie-break: suspected as f (F1 or F4; the other gets its own
// finding), naming the evidence that tells them apart.
func stuckFinding(o Observations, n *NodeLog, c classified, f Failure) Finding {
	ep := c.ep
	var ev []string
	if ep.first != "" {
		ev = append(ev, ep.first)
	}
	if ep.lastTimeout != "" && ep.lastTimeout != ep.first {
		ev = append(ev, ep.lastTimeout)
	}
	ev = append(ev, fmt.Sprintf("%d notification time out(s), up to %d ms; %d vote(s) from peers, none LEADING or FOLLOWING; "+
		"no \"Have smaller server identifier\" line; %s", ep.timeouts, ep.maxTimeout, ep.peerVotes, lookingFor(ep)))
	expl := fmt.Sprintf("%s is stuck in leader election: its notification time out keeps doubling and no leader is found. "+
		"F1 and F4 both look like this from the time outs alone, and this input cannot tell them apart, so both are suspected. "+
		"F1 (ZOOKEEPER-1514) shows as Notification lines in which a LEADING leader and FOLLOWING peers answer in another round; "+
		"F4 as \"Have smaller server identifier\" lines on this node and \"Cannot open channel to %s\" in its peers' logs. "+
		"Give this node's full log (INFO for FastLeaderElection and QuorumCnxManager), the peers' logs and the leader's log.",
		nodeDesc(n), myidOf(n))
	remedy := "Get the evidence that tells F1 from F4 first (`srvr` on every server, the logs above). "
	if f == F1 {
		remedy += "If the peers answer LEADING/FOLLOWING in another round (F1): " + remedyF1(o, n, -1)
	} else {
		remedy += "If its larger-id peers cannot dial it back (F4): " + remedyF4(o, n, "")
	}
	return Finding{Failure: f, Grade: Suspected, Node: n.Node, Time: ep.start, Evidence: ev, Explanation: expl, Remedy: remedy}
}

// Notes returns what is worth telling an operator but is none of F1-F5: a
// node that stayed LOOKING while it could reach no peer ("Cannot open
// channel" only: a network or DNS problem, not F4), and a node slow to join
// (LOOKING for long, then FOLLOWING or LEADING: not a failure).
func Notes(o Observations) []string {
	var out []string
	for _, n := range o.Logs {
		u := n.unreachable
		if n.cur != nil && classifyEpisode(n.cur, n).f == "" && n.cur.stuck() && n.cur.cannotOpen.n > 0 {
			u.add(&Event{Time: n.cur.start, Line: n.cur.cannotOpen.lines[0]})
		}
		if u.n > 0 {
			out = append(out, fmt.Sprintf("%s stayed LOOKING while it could not reach its peers (not F1 or F4: check the network and names): %s",
				nodeDesc(n), u.lines[0]))
		}
		if ep := n.cur; ep != nil && ep.timeouts == 1 && ep.stuck() && classifyEpisode(ep, n).f == "" && ep.cannotOpen.n == 0 {
			out = append(out, fmt.Sprintf("%s logged one notification time out of %d ms: it had been in leader election for at least %s "+
				"(the time out doubles from 200 ms after each round without a leader). One line cannot tell F1 or F4 from peers "+
				"that are down or unreachable, so nothing is suspected: give more of its log, its peers' logs and `srvr` on each: %s",
				nodeDesc(n), ep.maxTimeout, electionSoFar(ep.maxTimeout).Round(time.Second), ep.lastTimeout))
		}
		if n.slow.n > 0 {
			out = append(out, fmt.Sprintf("%s was %s (not F1 or F4: it joined)", nodeDesc(n), n.slow.lines[0]))
		}
		if c := n.closed0; c.n > 0 && n.resets.n == 0 && n.tooMany.n == 0 {
			out = append(out, fmt.Sprintf("%s: the server closed %d client connection(s) before a session was created (session 0x0). "+
				"A server not serving (no quorum: \"ZooKeeperServer not running\" in its log) and a server refusing the client's IP "+
				"for maxClientCnxns (F3: \"Too many connections from /<ip>\") make a Java client log this same line (measured on 3.4.13 "+
				"and 3.9.3), so nothing is suspected: the server's log or `srvr` on it tells: %s", nodeDesc(n), c.n, c.lines[0]))
		}
		if p := n.disk2.partial; p.n > 0 && n.disk.noSpace.n == 0 && n.disk2.truncated.n == 0 {
			out = append(out, fmt.Sprintf("%s found its transaction log cut in the middle of a record (the process died while writing: "+
				"a crash, a kill or a full disk; not F2 on its own, check `df` on the dataDir): %s", nodeDesc(n), p.lines[0]))
		}
	}
	return out
}

// electionSoFar is the least time a node has been LOOKING when it logs a
// notification time out of ms: FastLeaderElection waits 200 ms, then doubles
// the wait after each round without a leader up to 60 s, and logs each new
// value, so it has already waited every smaller value.
func electionSoFar(ms int64) time.Duration {
	var total int64
	for w := int64(200); w < ms; w = min(w*2, 60000) {
		total += w
	}
	return time.Duration(total) * time.Millisecond
}

// fixNote1514 says what the log tells of the server version.
func fixNote1514(n *NodeLog) string {
	if n.Version != "" {
		if fixed, ok := versionAtLeast(n.Version, 3, 4, 4); ok {
			if fixed {
				return fmt.Sprintf("The server reports version %s, which has the 1514 fix: a node that still cannot join "+
					"is not counting the peers' votes for another reason, so check that it reaches every peer's election port.", n.Version)
			}
			return fmt.Sprintf("The server reports version %s, which has the bug (fixed in 3.4.4).", n.Version)
		}
	}
	switch n.Format {
	case Format346:
		return "The notification lines are in the format of 3.4.6 or later, where 1514 is fixed: a node that still cannot " +
			"join is not counting the peers' votes for another reason, so check that it reaches every peer's election port."
	case Format36:
		return "The notification lines are in the format of 3.6 or later, where 1514 is fixed: a node that still cannot " +
			"join is not counting the peers' votes for another reason, so check that it reaches every peer's election port."
	case Format33:
		return "The notification lines are in ZooKeeper 3.3's format: that version has the bug (fixed in 3.4.4)."
	}
	return "ZOOKEEPER-1514 is fixed from 3.4.4."
}

// versionAtLeast compares a "3.4.13-..." version string.
func versionAtLeast(v string, maj, min, patch int) (bool, bool) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 3 {
		return false, false
	}
	a, e1 := strconv.Atoi(parts[0])
	b, e2 := strconv.Atoi(parts[1])
	p := parts[2]
	i := 0
	for i < len(p) && isDigit(p[i]) {
		i++
	}
	c, e3 := strconv.Atoi(p[:i])
	if e1 != nil || e2 != nil || e3 != nil {
		return false, false
	}
	return cmp.Or(cmp.Compare(a, maj), cmp.Compare(b, min), cmp.Compare(c, patch)) >= 0, true
}

// DetectF4 finds F4 (docs/F4.md): "Have smaller server identifier, so dropping
// the connection" on a node that stays LOOKING. Election connections only go
// from the larger id to the smaller, so the smaller id drops its own dial and
// waits for the peer to dial back; when that dial-back cannot happen (stale or
// unreachable address, DNS, a one-way firewall) it never rejoins. It is not F1
// (no LEADING/FOLLOWING quorum answers it) and not plain unreachability (a node
// that can reach nobody logs "Cannot open channel", not "Have smaller"). From
// the peers' side alone (they cannot open a channel to a smaller id) it is
// suspected.
func DetectF4(o Observations) []Finding {
	var out []Finding
	reported := map[int64]bool{}
	for _, n := range o.Logs {
		c, count, ok := pick(n, F4)
		if !ok {
			continue
		}
		if n.MyID >= 0 {
			reported[n.MyID] = true
		}
		if c.f == stuckElection {
			out = append(out, stuckFinding(o, n, c, F4))
			continue
		}
		ep := c.ep
		ev := ep.haveSmaller.evidence()
		var sids []int64
		for s := range ep.smallerSIDs {
			sids = append(sids, s)
		}
		slices.Sort(sids)
		if ep.lastTimeout != "" {
			ev = append(ev, ep.lastTimeout)
		}
		ev = append(ev, ep.cannotOpen.evidence()...)
		summary := fmt.Sprintf("%d \"Have smaller server identifier\" line(s)", ep.haveSmaller.n)
		if len(sids) > 0 {
			summary += " toward " + joinIDs(sids)
		}
		if ep.timeouts > 0 {
			summary += fmt.Sprintf("; %d notification time out(s), up to %d ms", ep.timeouts, ep.maxTimeout)
		}
		summary += fmt.Sprintf("; %d vote(s) from peers; %s", ep.peerVotes, lookingFor(ep))
		ev = append(ev, summary)
		if count > 1 {
			ev = append(ev, fmt.Sprintf("the same in %d LOOKING episodes of this log", count))
		}
		cause, causeEv := f4Cause(o, n)
		ev = append(ev, causeEv...)

		expl := fmt.Sprintf("%s dials its larger-id peers for the election and drops each connection itself (\"Have smaller "+
			"server identifier\": election connections only go from the larger id to the smaller, so it waits for them to dial back), "+
			"and it stays LOOKING: the dial-backs do not arrive, so it never rejoins or serves clients (F4).", nodeDesc(n))
		if c.grade == Suspected {
			switch {
			case !ep.evidence:
				expl += " Suspected, not found: the input holds no state line for this node, and every healthy start logs this line " +
					"before its peers are up. Confirm with `srvr` that it is not serving and with the peers' logs (\"Cannot open channel to " + myidOf(n) + "\")."
			default:
				expl += fmt.Sprintf(" Suspected, not found: the input ends after %d notification time out(s) (up to %d ms), which a slow "+
					"start also shows. Confirm with more of this log (does it stay LOOKING?), `srvr` on it and the peers' logs "+
					"(\"Cannot open channel to %s\").", ep.timeouts, ep.maxTimeout, myidOf(n))
			}
		}
		if len(ep.ooe) == 0 {
			expl += " No LEADING or FOLLOWING peer answered it, which tells it from F1 (ZOOKEEPER-1514)."
		}
		if cause != "" {
			expl += " " + cause
		}
		t := ep.haveSmaller.first
		if t.IsZero() {
			t = ep.start
		}
		out = append(out, Finding{Failure: F4, Grade: c.grade, Node: n.Node, Time: t, Evidence: ev, Explanation: expl,
			Remedy: remedyF4(o, n, cause)})
	}
	return append(out, f4FromPeers(o, reported)...)
}

// remedyF4 is the F4 remedy (docs/F4.md §6, as measured).
func remedyF4(o Observations, n *NodeLog, cause string) string {
	remedy := "Find why its peers cannot dial it back and remove that cause: a firewall or NetworkPolicy dropping connections " +
		"to its election port, a server." + myidOf(n) + " line that advertises an address the peers cannot reach (3.5+ peers dial that " +
		"address), a dead election listener (\"As I'm leaving the listener thread\"). Restarting the other servers one at a time in " +
		"ascending myid order" + restartOrder(o, n) + " (the documented fix) helps only when they can reach it at the address in their own " +
		"config: while LOOKING they dial it themselves. Measured by zkchaos: it works for an unreachable advertised address and " +
		"fails for a firewall drop or a dead listener."
	if cause != "" {
		remedy = "First make the election address reachable from its peers (see the explanation). " + remedy
	}
	return remedy
}

// unreachableCause: the exception after "Cannot open channel" says the
// address answers nothing (a firewall, a stale IP), not that nothing listens.
func unreachableCause(c string) bool {
	for _, s := range []string{"NoRouteToHost", "No route to host", "connect timed out", "SocketTimeoutException",
		"Host is unreachable", "Network is unreachable", "Connection timed out"} {
		if strings.Contains(c, s) {
			return true
		}
	}
	return false
}

// f4FromPeers suspects F4 for a node seen only through its peers: a larger
// id that cannot open an election channel to it, either because the address
// answers nothing or again and again while its own election backs off. That
// is the dial-back F4's node waits for. Not for a node whose own log is given
// (its log tells) nor for a refusal seen once (a peer not started yet).
func f4FromPeers(o Observations, reported map[int64]bool) []Finding {
	var out []Finding
	own := map[int64]bool{}
	for _, n := range o.Logs {
		if n.MyID >= 0 {
			own[n.MyID] = true
		}
	}
	for _, m := range o.Logs {
		// A layout without the node's own id ("[myid:", QuorumPeer[myid=N])
		// leaves only dial-backs to read: the listener dials back only a
		// smaller id. Any other failed dial may be toward a larger id.
		onlyDialBacks := m.MyID < 0
		larger := false // it cannot reach a larger id either: peers down or its own network
		for sid, c := range m.channels {
			larger = larger || (m.MyID >= 0 && sid > m.MyID) || (m.MyID < 0 && !c.dialBack)
		}
		if larger {
			continue
		}
		sids := make([]int64, 0, len(m.channels))
		for sid := range m.channels {
			sids = append(sids, sid)
		}
		slices.Sort(sids)
		for _, sid := range sids {
			c := m.channels[sid]
			if (!onlyDialBacks && sid >= m.MyID) || own[sid] || reported[sid] {
				continue
			}
			repeated := c.sample.n >= 3 && m.timeouts >= 2
			// once to an address that answers nothing is also how a firewall
			// on every node looks; a dial-back the listener could not make is
			// F4's own mechanism
			unanswered := unreachableCause(c.cause) && (c.sample.n >= 2 || m.timeouts >= 2)
			if !c.dialBack && !unanswered && !repeated {
				continue
			}
			reported[sid] = true
			var ev []string
			for _, l := range c.sample.evidence() {
				ev = append(ev, m.Node+": "+l)
			}
			if c.cause != "" {
				ev = append(ev, m.Node+": "+c.cause)
			}
			ev = append(ev, fmt.Sprintf("%s failed %d time(s) to open an election channel to myid %d; %d notification time out(s) in its log",
				nodeDesc(m), c.sample.n, sid, m.timeouts))
			name := nodeName(o, sid)
			if name == "" {
				name = fmt.Sprintf("myid %d", sid)
			}
			stub := &NodeLog{Node: name, MyID: sid}
			expl := fmt.Sprintf("%s cannot open an election channel to myid %d at %s. Election connections only go from the larger id "+
				"to the smaller, so myid %d depends on exactly this dial-back to rejoin: when it cannot happen it stays LOOKING, "+
				"logging \"Have smaller server identifier\" (F4). Suspected, not found: only the peers' side is in the input. Confirm with "+
				"myid %d's log (\"Have smaller server identifier\", no FOLLOWING or LEADING) and `srvr` on it.",
				nodeDesc(m), sid, orUnknown(c.address), sid, sid)
			out = append(out, Finding{Failure: F4, Grade: Suspected, Node: name, Time: c.sample.first, Evidence: ev,
				Explanation: expl, Remedy: remedyF4(o, stub, "unreachable")})
		}
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "its election address"
	}
	return s
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = "sid " + strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

// restartOrder lists the other servers, smallest myid first.
func restartOrder(o Observations, stuck *NodeLog) string {
	ids := map[int64]string{}
	for _, m := range o.Logs {
		if m != stuck && m.MyID >= 0 && m.MyID != stuck.MyID {
			ids[m.MyID] = m.Node
		}
	}
	if o.Config != nil {
		for id, s := range o.Config.Servers {
			if _, ok := ids[id]; !ok && id != stuck.MyID {
				ids[id] = s.Host
			}
		}
	}
	if len(ids) == 0 {
		return ""
	}
	keys := make([]int64, 0, len(ids))
	for k := range ids {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		if ids[k] != "" {
			parts = append(parts, fmt.Sprintf("%s (myid %d)", ids[k], k))
		} else {
			parts = append(parts, fmt.Sprintf("myid %d", k))
		}
	}
	return ": " + strings.Join(parts, ", then ")
}

// f4Cause looks in the peers' logs and the config for why they cannot dial
// the stuck node back (docs/F4.md §2 and §5: stale address, loopback advertised
// election address, DNS, one-way drops).
func f4Cause(o Observations, n *NodeLog) (string, []string) {
	if n.MyID < 0 {
		return "", nil
	}
	var ev []string
	var addrs, causes []string
	unresolved := false
	for _, m := range o.Logs {
		if m == n {
			continue
		}
		c, ok := m.channels[n.MyID]
		if !ok {
			continue
		}
		for _, l := range c.sample.evidence() {
			ev = append(ev, m.Node+": "+l)
		}
		if c.address != "" && !slices.Contains(addrs, c.address) {
			addrs = append(addrs, c.address)
		}
		if c.cause != "" {
			ev = append(ev, m.Node+": "+c.cause)
			if !slices.Contains(causes, c.cause) {
				causes = append(causes, c.cause)
			}
		}
		unresolved = unresolved || c.unresolved
	}
	host := ""
	if s, ok := o.Config.serverLine(n.MyID); ok {
		host = s.Host
		if isLoopback(host) {
			ev = append(ev, fmt.Sprintf("zoo.cfg: server.%d=%s", n.MyID, s.Raw))
			return fmt.Sprintf("Its server.%d line names %s, a loopback address its peers cannot reach: from 3.5.8/3.6.1 "+
				"(ZOOKEEPER-2164) a node advertises its own configured election address and peers dial that back.", n.MyID, host), ev
		}
	}
	for _, m := range o.Logs {
		for _, l := range m.resolve.evidence() {
			if host != "" && strings.Contains(l, host) {
				ev = append(ev, m.Node+": "+l)
				unresolved = true
			}
		}
	}
	for _, a := range addrs {
		h := a
		if i := strings.IndexByte(h, '/'); i >= 0 {
			h = h[i+1:]
		}
		if hh, _, err := net.SplitHostPort(h); err == nil {
			h = hh
		}
		if isLoopback(h) {
			return fmt.Sprintf("Its peers dial it back at %s, a loopback address: it advertises an election address they cannot reach.", a), ev
		}
	}
	switch {
	case unresolved:
		return "Its peers cannot resolve its name (\"<unresolved>\"/UnknownHostException), so their dial-back fails on DNS.", ev
	case len(addrs) > 0:
		c := ""
		if len(causes) > 0 {
			c = " (" + strings.Join(causes, "; ") + ")"
		}
		return fmt.Sprintf("Its peers fail to dial it back at %s%s: an address that is stale (its IP changed after they resolved it) "+
			"or blocked on the election port.", strings.Join(addrs, ", "), c), ev
	}
	return "", ev
}

func isLoopback(h string) bool {
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// DetectF3 finds F3 (docs/F3.md): a server refusing connections from one client
// IP because that IP already holds maxClientCnxns of them.
func DetectF3(o Observations) []Finding {
	var out []Finding
	seen := map[string]bool{}
	for _, n := range o.Logs {
		t := &n.tooMany
		if t.n == 0 {
			continue
		}
		seen[n.Node] = true
		ips := topIPs(t.ips, 5)
		limit := t.limitStr
		if t.limit >= 0 {
			limit = strconv.FormatInt(t.limit, 10)
		}
		ev := t.evidence()
		atLeast := ""
		if t.rateLimited {
			atLeast = "at least "
		}
		ev = append(ev, fmt.Sprintf("%s%d connection(s) refused from %s; max is %s", atLeast, t.total, strings.Join(ips, ", "), limit))
		if t.otherIPs > 0 {
			ev = append(ev, fmt.Sprintf("%d more refused from other IPs (not all counted)", t.otherIPs))
		}
		for _, l := range o.Live {
			if l.Node == n.Node {
				if v, ok := l.Mntr.Int("zk_connection_rejected"); ok {
					ev = append(ev, fmt.Sprintf("mntr zk_connection_rejected\t%d", v))
				}
			}
		}
		f := f3Finding(n.Node, t.first, ev, ipNames(ips), limit)
		if t.rateLimited {
			f.Explanation += " This version rate-limits the message (RateLogger, 3.6+): repeats within 100 ms are folded into a later \"[N times]\" line, so the log undercounts; mntr's zk_connection_rejected has the total."
		}
		out = append(out, f)
	}
	for _, l := range o.Live {
		rej, ok := l.Mntr.Int("zk_connection_rejected")
		if !ok || rej == 0 || seen[l.Node] {
			continue
		}
		limit := "60 (default)"
		cfg := l.Conf
		if cfg == nil {
			cfg = o.Config
		}
		lim := int64(60)
		if cfg.Has("maxClientCnxns") {
			lim = cfg.MaxClientCnxns()
			limit = strconv.FormatInt(lim, 10)
		}
		byIP := ConnsByIP(l.Cons)
		counts := map[string]int64{}
		for ip, c := range byIP {
			counts[ip] = int64(c)
		}
		ips := topIPs(counts, 3)
		ev := []string{fmt.Sprintf("mntr zk_connection_rejected\t%d", rej)}
		for ip, c := range counts {
			if lim > 0 && c >= lim {
				ev = append(ev, fmt.Sprintf("cons: %d connections from %s (at the limit %d)", c, ip, lim))
			}
		}
		if len(ips) > 0 {
			ev = append(ev, "cons: most connections from "+strings.Join(ips, ", "))
		}
		f := f3Finding(l.Node, time.Time{}, ev, ipNames(ips), limit)
		f.Explanation += " zk_connection_rejected also counts refusals for other reasons (the global maxCnxns); the server log names the IPs for certain."
		out = append(out, f)
	}
	return append(out, f3FromClients(o, seen)...)
}

// f3FromClients suspects F3 from a client's log: connections the server
// closed before any session was created (session 0x0), which is what a
// server does to a client IP that holds maxClientCnxns connections already.
// A down server refuses the connection instead, so a refusal never counts.
func f3FromClients(o Observations, seen map[string]bool) []Finding {
	var out []Finding
	for _, n := range o.Logs {
		r := &n.resets
		if r.n == 0 || n.tooMany.n > 0 || seen[n.Node] {
			continue
		}
		server := clientServer(r.lines[0])
		who := "the ZooKeeper server"
		if server != "" {
			who = server
		}
		ev := append(r.evidence(), fmt.Sprintf("%d connection(s) closed by %s before a session was created (session 0x0)", r.n, who))
		expl := fmt.Sprintf("The client whose log this is (%s) got its connections to %s closed by the server right after "+
			"connecting, before any session was created (session 0x0). A ZooKeeper server does exactly that to a client IP that "+
			"already holds maxClientCnxns connections to it: F3. Suspected, not found: a client log cannot show the limit. Confirm "+
			"with that server's log (\"Too many connections from /<this host's IP> - max is N\") or its `cons` (connections per IP).",
			n.Node, who)
		f := f3Finding(n.Node, r.first, ev, nil, "maxClientCnxns")
		f.Grade, f.Explanation = Suspected, expl
		if server != "" {
			f.Node = server
		}
		out = append(out, f)
	}
	return out
}

// clientServer is the server a client line names: "for server host/ip:port,"
// or the SendThread's "(host:port)".
func clientServer(line string) string {
	if i := strings.Index(line, "for server "); i >= 0 {
		s := line[i+len("for server "):]
		if j := strings.IndexAny(s, ", "); j >= 0 {
			s = s[:j]
		}
		return s
	}
	if i := strings.Index(line, "SendThread("); i >= 0 {
		s := line[i+len("SendThread("):]
		if j := strings.IndexByte(s, ')'); j >= 0 {
			return s[:j]
		}
	}
	return ""
}

func f3Finding(node string, t time.Time, ev, ips []string, limit string) Finding {
	who := "a client IP"
	if len(ips) > 0 {
		who = strings.Join(ips, ", ")
	}
	return Finding{Failure: F3, Grade: Found, Node: node, Time: t, Evidence: ev,
		Explanation: fmt.Sprintf("%s refused new connections from %s because that IP already held maxClientCnxns (%s) connections to it. "+
			"The limit counts connections per client IP per server, so when several processes on one machine (or a connection leak) "+
			"share it, some of them cannot connect while others can: F3.", node, who, limit),
		Remedy: "Raise maxClientCnxns in zoo.cfg on every server (0 means no limit) and restart them one at a time, or make the " +
			"processes on that machine hold fewer connections (one ZooKeeper session per process, reused; close unused handles).",
	}
}

// ipNames drops the counts topIPs adds ("1.2.3.4 (12)" -> "1.2.3.4").
func ipNames(ips []string) []string {
	var out []string
	for _, s := range ips {
		if i := strings.LastIndex(s, " ("); i > 0 {
			out = append(out, s[:i])
		} else {
			out = append(out, s)
		}
	}
	return out
}

func topIPs(m map[string]int64, k int) []string {
	type kv struct {
		ip string
		n  int64
	}
	var all []kv
	for ip, n := range m {
		all = append(all, kv{ip, n})
	}
	slices.SortFunc(all, func(a, b kv) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.ip, b.ip)) })
	var out []string
	for i, e := range all {
		if i == k {
			out = append(out, fmt.Sprintf("%d more IP(s)", len(all)-k))
			break
		}
		out = append(out, fmt.Sprintf("%s (%d)", e.ip, e.n))
	}
	return out
}

// DetectF2 finds F2 (docs/F2.md): version-2 keeping more snapshots than
// autopurge.snapRetainCount because autopurge is off (the default), and its
// end, a full disk ("No space left on device"; captured on 3.9.3, docs/F2.md §1).
func DetectF2(o Observations) []Finding {
	var out []Finding
	retain := o.Config.SnapRetainCount()
	purge := o.Config.PurgeInterval()
	for _, d := range o.DataDirs {
		st := statsOf(d, int(retain))
		if st.snaps <= int(retain) || purge > 0 {
			continue
		}
		size := "sizes unknown"
		if st.sizesKnown {
			size = humanBytes(st.bytes)
		}
		where := d.Path
		if where == "" {
			where = "version-2"
		}
		ev := []string{fmt.Sprintf("%s: %d snapshot(s) and %d transaction log(s), %s", where, st.snaps, st.logs, size)}
		ev = append(ev, fmt.Sprintf("autopurge.snapRetainCount=%d would keep %d snapshots: %d file(s), %s, are purgeable",
			retain, retain, st.purgeableFiles, humanBytes(st.purgeableBytes)))
		if o.Config != nil && o.Config.Has("autopurge.purgeInterval") {
			ev = append(ev, fmt.Sprintf("zoo.cfg: autopurge.purgeInterval=%s (0 disables purging)", o.Config.Values["autopurge.purgeInterval"]))
		} else if o.Config != nil {
			ev = append(ev, "zoo.cfg sets no autopurge.purgeInterval: purging is disabled (the default is 0)")
		} else {
			ev = append(ev, "no zoo.cfg given: ZooKeeper's default autopurge.purgeInterval=0 disables purging")
		}
		ev = append(ev, oldestNewest(d)...)
		out = append(out, Finding{Failure: F2, Grade: Found, Node: d.Node, Time: st.newest, Evidence: ev,
			Explanation: fmt.Sprintf("%s keeps every snapshot and transaction log it ever wrote: %d snapshots where %d are needed, "+
				"because automatic purging is off (autopurge.purgeInterval=0 is the default). The directory grows until the disk is full, "+
				"and then the server exits (F2).", d.Node, st.snaps, retain),
			Remedy: "Turn on automatic purging in zoo.cfg: autopurge.purgeInterval=1 (hours) and autopurge.snapRetainCount=3 (the documented fix; " +
				"the purge also runs once at start-up), then restart the servers one at a time; or purge now with zkCleanup.sh / " +
				"PurgeTxnLog -n 3.",
		})
	}
	for _, n := range o.Logs {
		if n.disk.noSpace.n == 0 {
			if f, ok := f2Indirect(n); ok {
				out = append(out, f)
			}
			continue
		}
		// The error must be ZooKeeper's: on a line of its own logging, or in
		// a log where ZooKeeper stopped itself ("Severe unrecoverable error",
		// whose exception line carries the text). A Kafka broker's full log
		// dir prints the same text in a log with no ZooKeeper line: not F2.
		zkOwned := n.disk.noSpaceZK > 0 || n.disk.severe.n > 0
		if !zkOwned && !n.Layout {
			continue
		}
		ev := append(n.disk.severe.evidence(), n.disk.noSpace.evidence()...)
		t := n.disk.noSpace.first
		if s := n.disk.severe.first; !s.IsZero() && (t.IsZero() || s.Before(t)) {
			t = s
		}
		expl := fmt.Sprintf("%s ran out of disk (\"No space left on device\", in whatever language the JVM's locale prints it)", nodeDesc(n))
		if n.disk.severe.n > 0 {
			expl += " and its snapshot or sync thread stopped the server (\"Severe unrecoverable error\")"
		}
		expl += ": the end of unbounded dataDir growth (F2). The other servers write the same transactions and are " +
			"likely close to the same end, which would lose the quorum."
		grade := Found
		if !zkOwned {
			grade = Suspected
			expl += " Suspected, not found: the line is not one of ZooKeeper's own (no ZooKeeper class or thread on it, and " +
				"ZooKeeper did not stop itself in the input), so another program in the same log may own that disk. Confirm " +
				"with `df` on the dataDir and dataLogDir and the ZooKeeper server's own log."
		}
		out = append(out, Finding{Failure: F2, Grade: grade, Node: n.Node, Time: t, Evidence: ev, Explanation: expl, Remedy: remedyF2})
	}
	return out
}

const remedyF2 = "Free space in the dataDir (zkCleanup.sh / PurgeTxnLog -n 3 keeps the 3 newest snapshots and the logs they need), " +
	"turn on autopurge (autopurge.purgeInterval=1, autopurge.snapRetainCount=3), give dataLogDir its own disk if it shares one, " +
	"then restart the server; check the other servers' disks first."

// f2Indirect suspects a full disk from what it leaves when the error text
// itself is not in the input: a snapshot deleted because it came out empty
// (ZOOKEEPER-3082: its write failed before the first byte) and then the
// server's "Severe unrecoverable error"; or a data file that ends early and
// stops the server at start (EventTruncatedData, ZOOKEEPER-1621). A
// transaction log whose last record is cut ("Last transaction was partial")
// and a server that goes on is left by any death while writing (a crash, a
// kill, a restart loop) as much as by a full disk: a note only.
func f2Indirect(n *NodeLog) (Finding, bool) {
	h := &n.disk2
	var ev []string
	var why string
	var t time.Time
	switch {
	case h.emptySnap.n > 0 && n.disk.severe.n > 0:
		ev = append(h.emptySnap.evidence(), n.disk.severe.evidence()...)
		t = h.emptySnap.first
		why = "its new snapshot came out empty and was deleted (\"Deleted empty snapshot file\": the write failed before its first " +
			"byte), then the server stopped (\"Severe unrecoverable error\"). That is what a full disk does"
	case h.truncated.n > 0:
		ev = append(h.partial.evidence(), h.truncated.evidence()...)
		t = h.truncated.first
		why = "it cannot load its data at start: a transaction log or snapshot in its dataDir ends early (java.io.EOFException " +
			"while reading it, and the server gives up). A disk that filled up leaves exactly that: the newest transaction log " +
			"was created with no room for its header, and the server then fails at every start (ZOOKEEPER-1621). A crash in " +
			"the middle of a write can leave it too"
	default:
		return Finding{}, false
	}
	expl := fmt.Sprintf("%s: %s (F2). Suspected, not found: the input does not show the error itself. Confirm with `df` "+
		"on the dataDir and dataLogDir, the exception that follows the error in the full log (\"No space left on device\" "+
		"in the JVM's language), or a listing of version-2 (`zkchaos diagnose --datadir`).", nodeDesc(n), why)
	remedy := remedyF2
	if h.truncated.n > 0 {
		remedy = "Free space in the dataDir and dataLogDir first (zkCleanup.sh / PurgeTxnLog -n 3; autopurge.purgeInterval=1, " +
			"autopurge.snapRetainCount=3 so that it does not fill again). The server does not start over a cut file: move the " +
			"newest log.* (or snapshot.*) that is empty or shorter than the others out of version-2, or, while the other " +
			"servers keep a quorum, empty this server's version-2 so that it syncs from the leader; then restart it."
	}
	return Finding{Failure: F2, Grade: Suspected, Node: n.Node, Time: t, Evidence: ev, Explanation: expl, Remedy: remedy}, true
}

func oldestNewest(d DataDir) []string {
	var snaps []DataFile
	for _, f := range d.Files {
		if f.Kind() == "snapshot" {
			snaps = append(snaps, f)
		}
	}
	if len(snaps) < 2 {
		return nil
	}
	slices.SortFunc(snaps, func(a, b DataFile) int { return cmp.Compare(a.Zxid(), b.Zxid()) })
	return []string{"oldest " + fileDesc(snaps[0]), "newest " + fileDesc(snaps[len(snaps)-1])}
}

func fileDesc(f DataFile) string {
	if f.Size >= 0 {
		return fmt.Sprintf("%s %d", f.Name, f.Size)
	}
	return f.Name
}

// DetectF5 finds F5 (docs/F5.md): the accept queue of a listening socket
// overflowing (ListenOverflows / "times the listen queue of a socket
// overflowed" growing), ZooKeeper's client port listening with a backlog of 50.
func DetectF5(o Observations) []Finding {
	var out []Finding
	port := o.Config.ClientPort()
	var clientEv []string
	var clientN int64
	// Client connect time outs alone do not make F5 (a partition or a dead
	// server looks the same from the client); they back the kernel's counters.
	for _, n := range o.Logs {
		if n.client.n > 0 {
			clientN += n.client.n
			for _, l := range n.client.evidence() {
				clientEv = append(clientEv, n.Node+": "+l)
			}
		}
	}
	for _, c := range o.Clients {
		if c.ConnectTimeouts > 0 {
			clientN += c.ConnectTimeouts
			clientEv = append(clientEv, fmt.Sprintf("clients of %s: %d of %d connects timed out", c.Node, c.ConnectTimeouts, c.Attempts))
			clientEv = append(clientEv, c.Evidence...)
		}
	}
	for _, obs := range o.Net {
		var ev []string
		var t time.Time
		grew := false
		sinceBoot := false
		switch len(obs.Snapshots) {
		case 0:
		case 1:
			s := obs.Snapshots[0]
			for _, k := range []string{ListenOverflows, ListenDrops} {
				if v := s.Counters[k]; v > 0 {
					sinceBoot = true
					ev = append(ev, s.Lines[k])
				}
			}
			t = s.Time
		default:
			first, last := obs.Snapshots[0], obs.Snapshots[len(obs.Snapshots)-1]
			for _, d := range Deltas(first, last) {
				if d.Growth() > 0 {
					grew = true
					ev = append(ev, first.Lines[d.Key], last.Lines[d.Key])
				}
				ev = append(ev, d.String())
			}
			t = growthTime(obs.Snapshots)
		}
		full := false
		onPort := false
		for _, l := range obs.Listeners {
			onPort = onPort || int64(l.Port) == port
		}
		if len(obs.Listeners) > 0 && !onPort {
			// The input lists the listening sockets and ZooKeeper's client
			// port is not among them: the overflowing queue is another
			// program's (a host running no ZooKeeper, or a namespace without it).
			continue
		}
		for _, l := range obs.Listeners {
			if int64(l.Port) != port {
				continue
			}
			ev = append(ev, l.Line)
			if l.SendQ == 50 {
				ev = append(ev, fmt.Sprintf("port %d listens with a backlog (Send-Q) of 50, ZooKeeper's fixed default", port))
			}
			if l.SendQ > 0 && l.RecvQ >= l.SendQ {
				full = true
				ev = append(ev, fmt.Sprintf("port %d: accept queue full now (Recv-Q %d >= backlog %d)", port, l.RecvQ, l.SendQ))
			}
		}
		if !grew && !sinceBoot && !full {
			continue
		}
		if clientN > 0 {
			ev = append(ev, clientEv...)
			ev = append(ev, fmt.Sprintf("%d client connect time out(s) in the client logs", clientN))
		}
		expl := fmt.Sprintf("The kernel on %s refused connections because a listening socket's accept queue was full", obs.Node)
		switch {
		case grew:
			expl += " (ListenOverflows / \"times the listen queue of a socket overflowed\" grew between the snapshots)"
		case sinceBoot:
			expl += " (the counters are non-zero; one snapshot cannot show they are still growing: take a second one a minute later)"
		}
		expl += fmt.Sprintf(". ZooKeeper listens on its client port with a backlog of 50 and before 3.6 has no setting for it, so a flood "+
			"of short-lived connections (in the reported incident, PHP-FPM requests at 6-8K QPS, each connecting and closing) overflows it and clients "+
			"occasionally fail to connect: F5. The counters are per network namespace: `ss -ltn` shows which socket "+
			"(Send-Q is its backlog) if port %d is not the only listener.", port)
		grade := Found
		if !grew && !full {
			// counters since boot: any socket, any time since boot
			grade = Suspected
			expl += " Suspected, not found: one reading of counters since boot cannot say which socket overflowed, nor when; " +
				"confirm with a second netstat snapshot a minute later (do they grow?) and `ss -ltn` for the client port's queue."
		}
		out = append(out, Finding{Failure: F5, Grade: grade, Node: obs.Node, Time: t, Evidence: ev, Explanation: expl,
			Remedy: "(1) Stop opening a connection per request: keep one ZooKeeper session per process and reuse it, which removes the " +
				"load (measured by zkchaos: no overflow at the same rate); (2) raise the client port backlog with clientPortListenBacklog " +
				"(ZOOKEEPER-974, ZooKeeper 3.6.0 and later; older versions ignore the key and keep 50) together with the kernel limits " +
				"net.core.somaxconn and net.ipv4.tcp_max_syn_backlog, which cap it. Raising the kernel limits alone changes nothing while " +
				"ZooKeeper asks for 50 (the documented fixes, measured).",
		})
	}
	return out
}

// growthTime is the time of the first snapshot after which a counter grew.
func growthTime(snaps []NetstatSnapshot) time.Time {
	for i := 1; i < len(snaps); i++ {
		for _, d := range Deltas(snaps[i-1], snaps[i]) {
			if d.Growth() > 0 {
				return snaps[i].Time
			}
		}
	}
	return time.Time{}
}

// myidOf is the node's myid for a "server.N" hint, or "N" when its log did not tell.
func myidOf(n *NodeLog) string {
	if n.MyID >= 0 {
		return strconv.FormatInt(n.MyID, 10)
	}
	return "N"
}
