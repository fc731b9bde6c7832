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

// stuckEpisodes returns, per node, the LOOKING stretches classified as f.
func stuckEpisodes(n *NodeLog, f Failure) []*episode {
	var out []*episode
	for _, ep := range n.episodes() {
		if classifyEpisode(ep, n) == f {
			out = append(out, ep)
		}
	}
	return out
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
// round and still keeps timing out, election after election.
func DetectF1(o Observations) []Finding {
	var out []Finding
	for _, n := range o.Logs {
		eps := stuckEpisodes(n, F1)
		if len(eps) == 0 {
			continue
		}
		ep := eps[0]
		lv := ep.ooe[ep.quorumLeader]
		mine := ep.myRoundGuess()
		var ev []string
		if ep.ownVote != "" {
			ev = append(ev, ep.ownVote)
		} else if ep.maxOwnLine != "" {
			ev = append(ev, ep.maxOwnLine)
		}
		ev = append(ev, ep.quorumLines...)
		if ep.afterLine != "" {
			ev = append(ev, ep.afterLine)
		}
		if ep.lastTimeout != "" && ep.lastTimeout != ep.afterLine {
			ev = append(ev, ep.lastTimeout)
		}
		ev = append(ev, fmt.Sprintf("own round %d, leader %d LEADING in round %d; %d notification time out(s) after the leader's vote, up to %d ms; %s",
			mine, lv.SID, lv.Round, ep.afterQuorum, ep.maxAfter, lookingFor(ep)))
		if len(eps) > 1 {
			ev = append(ev, fmt.Sprintf("the same in %d LOOKING episodes of this log (restarting the node did not help)", len(eps)))
		}
		expl := fmt.Sprintf("%s is LOOKING in election round %d, but the servers that answer it are already LEADING/FOLLOWING "+
			"in round %d: the running ensemble's round is far ahead of the restarted node's logical clock. "+
			"ZooKeeper with ZOOKEEPER-1514 (\"FastLeaderElection - leader ignores the round information when joining a quorum\") "+
			"never counts those votes, so the node keeps timing out (the notification time out keeps doubling) and never rejoins "+
			"or serves clients: F1.", nodeDesc(n), mine, lv.Round)
		expl += " " + fixNote1514(n)
		remedy := fmt.Sprintf("Restart the current leader (%s) so that a new leader is elected and every server votes in the same round "+
			"(the documented fix); restarting the stuck node itself does not help. Upgrade to ZooKeeper 3.4.4 or later, where "+
			"ZOOKEEPER-1514 is fixed (3.4.6 adds the follow-ups ZOOKEEPER-1732 and ZOOKEEPER-1805).", idName(o, lv.SID))
		t := ep.quorumAt
		if t.IsZero() {
			t = ep.start
		}
		out = append(out, Finding{Failure: F1, Node: n.Node, Time: t, Evidence: ev, Explanation: expl, Remedy: remedy})
	}
	return out
}

// Notes returns what is worth telling an operator but is none of F1-F5: a
// node that stayed LOOKING while it could reach no peer ("Cannot open channel"
// only: a network or DNS problem, not F4).
func Notes(o Observations) []string {
	var out []string
	for _, n := range o.Logs {
		u := n.unreachable
		if n.cur != nil && classifyEpisode(n.cur, n) == "" && n.cur.stuck() && n.cur.cannotOpen.n > 0 {
			u.add(&Event{Time: n.cur.start, Line: n.cur.cannotOpen.lines[0]})
		}
		if u.n == 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%s stayed LOOKING while it could not reach its peers (not F1 or F4: check the network and names): %s",
			nodeDesc(n), u.lines[0]))
	}
	return out
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
	fixed, known := n.Format.Fixed1514()
	switch {
	case known && fixed:
		return "The notification lines are in the format of 3.4.6 or later, where 1514 is fixed: a node that still cannot " +
			"join is not counting the peers' votes for another reason, so check that it reaches every peer's election port."
	case known:
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
// that can reach nobody logs "Cannot open channel", not "Have smaller").
func DetectF4(o Observations) []Finding {
	var out []Finding
	for _, n := range o.Logs {
		eps := stuckEpisodes(n, F4)
		if len(eps) == 0 {
			continue
		}
		ep := eps[0]
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
		if len(eps) > 1 {
			ev = append(ev, fmt.Sprintf("the same in %d LOOKING episodes of this log", len(eps)))
		}
		cause, causeEv := f4Cause(o, n)
		ev = append(ev, causeEv...)

		expl := fmt.Sprintf("%s dials its larger-id peers for the election and drops each connection itself (\"Have smaller "+
			"server identifier\": election connections only go from the larger id to the smaller, so it waits for them to dial back), "+
			"and it stays LOOKING: the dial-backs do not arrive, so it never rejoins or serves clients (F4).", nodeDesc(n))
		if !ep.evidence {
			expl += " The input holds no state line for this node: confirm with `srvr` that it is not serving."
		}
		if len(ep.ooe) == 0 {
			expl += " No LEADING or FOLLOWING peer answered it, which tells it from F1 (ZOOKEEPER-1514)."
		}
		if cause != "" {
			expl += " " + cause
		}
		remedy := "Find why its peers cannot dial it back and remove that cause: a firewall or NetworkPolicy dropping connections " +
			"to its election port, a server." + myidOf(n) + " line that advertises an address the peers cannot reach (3.5+ peers dial that " +
			"address), a dead election listener (\"As I'm leaving the listener thread\"). Restarting the other servers one at a time in " +
			"ascending myid order" + restartOrder(o, n) + " (the documented fix) helps only when they can reach it at the address in their own " +
			"config: while LOOKING they dial it themselves. Measured by zkchaos: it works for an unreachable advertised address and " +
			"fails for a firewall drop or a dead listener."
		if cause != "" {
			remedy = "First make the election address reachable from its peers (see the explanation). " + remedy
		}
		t := ep.haveSmaller.first
		if t.IsZero() {
			t = ep.start
		}
		out = append(out, Finding{Failure: F4, Node: n.Node, Time: t, Evidence: ev, Explanation: expl, Remedy: remedy})
	}
	return out
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
	return out
}

func f3Finding(node string, t time.Time, ev, ips []string, limit string) Finding {
	who := "a client IP"
	if len(ips) > 0 {
		who = strings.Join(ips, ", ")
	}
	return Finding{Failure: F3, Node: node, Time: t, Evidence: ev,
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
		out = append(out, Finding{Failure: F2, Node: d.Node, Time: st.newest, Evidence: ev,
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
			continue
		}
		ev := append(n.disk.severe.evidence(), n.disk.noSpace.evidence()...)
		t := n.disk.noSpace.first
		if s := n.disk.severe.first; !s.IsZero() && (t.IsZero() || s.Before(t)) {
			t = s
		}
		expl := fmt.Sprintf("%s ran out of disk (\"No space left on device\")", nodeDesc(n))
		if n.disk.severe.n > 0 {
			expl += " and its snapshot or sync thread stopped the server (\"Severe unrecoverable error\")"
		}
		expl += ": the end of unbounded dataDir growth (F2). The other servers write the same transactions and are " +
			"likely close to the same end, which would lose the quorum."
		out = append(out, Finding{Failure: F2, Node: n.Node, Time: t, Evidence: ev, Explanation: expl,
			Remedy: "Free space in the dataDir (zkCleanup.sh / PurgeTxnLog -n 3 keeps the 3 newest snapshots and the logs they need), " +
				"turn on autopurge (autopurge.purgeInterval=1, autopurge.snapRetainCount=3), give dataLogDir its own disk if it shares one, " +
				"then restart the server; check the other servers' disks first.",
		})
	}
	return out
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
		out = append(out, Finding{Failure: F5, Node: obs.Node, Time: t, Evidence: ev, Explanation: expl,
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
