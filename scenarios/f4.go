package scenarios

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
	"github.com/zkchaos/zkchaos/reports"
)

// F4Trigger is the condition under which the F4 claim (docs/F4.md) is tested: "if the
// smallest myid is restarted last it cannot join" holds, by the election code, only
// when the larger peers cannot dial it back (docs/F4.md §2;
// QuorumCnxManager.handleConnection in ZooKeeper's source).
type F4Trigger string

const (
	// F4None: a plain rolling restart.
	F4None F4Trigger = "none"
	// F4StaleIP: myid 1 comes back on a new address while its peers keep the one
	// they resolved (3.4.13 peers dial back their own cached address).
	F4StaleIP F4Trigger = "stale-ip"
	// F4Drop: once myid 1 runs again, its namespace drops new connections to its
	// election port from every larger id (a one-way firewall rule): it can dial them,
	// they cannot dial back.
	F4Drop F4Trigger = "drop-from-larger"
	// F4Advertised: myid 1's own server.1 line names an address no peer can reach,
	// while it listens on every interface (quorumListenOnAllIPs=true) and its peers'
	// configs are right. 3.5+ peers dial back the address it advertises in its
	// handshake; 3.4 peers dial their own config.
	F4Advertised F4Trigger = "advertised-unreachable"
	// F4DeadListener: the same wrong server.1 line without quorumListenOnAllIPs:
	// myid 1 cannot bind its election port (3.4 lives on without a listener, 3.5+ exit 14).
	F4DeadListener F4Trigger = "dead-listener"
)

// UnreachableHost is the host part of the address F4Advertised and F4DeadListener
// write into myid 1's own server line: on the ensemble's network, held by nobody.
const UnreachableHost = 250

// unreachable is that address on the ensemble's network.
func unreachable(ens *harness.Ensemble) string {
	ip := ens.Subnet.Addr().As4()
	ip[3] = UnreachableHost
	return netip.AddrFrom4(ip).String()
}

// F4Cell is one cell of the restart-order table.
type F4Cell struct {
	Version  string
	Nodes    int
	Order    []int
	Trigger  F4Trigger
	Rejoined bool
	// Seconds from the last node's start until every node served (or the bound).
	Seconds float64
	Stuck   []int
	// OldIP and NewIP of myid 1 (equal without the stale-ip trigger); ResolvedIP is
	// what Docker's DNS answered for zk1 inside a peer after the move; StaleDials
	// counts the peers' "Cannot open channel to 1 at election address zk1/<OldIP>".
	OldIP, NewIP, ResolvedIP string
	StaleDials               int
	// Evidence: the stuck (or last) node's "Have smaller server identifier" lines and
	// its peers' "Cannot open channel to 1" lines, counted, with one example each.
	Evidence []string
	Findings []detect.Finding
}

func (c F4Cell) String() string {
	return fmt.Sprintf("%s %d nodes, order %v, trigger %s: rejoined %v after %.1f s, stuck %v; zk1 %s → %s (DNS: %s), %d failed dial-back(s) to zk1's first address",
		c.Version, c.Nodes, c.Order, c.Trigger, c.Rejoined, c.Seconds, c.Stuck, c.OldIP, c.NewIP, c.ResolvedIP, c.StaleDials)
}

// F4RestartOrder restarts every node of a fresh ensemble one at a time in order,
// applying the trigger to myid 1 at its restart, each node waited for until it
// serves (or for at most `bound`), then waits up to `bound` for the whole
// ensemble to serve. ens is returned for the remedies (the caller terminates it).
func F4RestartOrder(ctx context.Context, v harness.Version, nodes int, order []int, trigger F4Trigger,
	bound time.Duration, rec *reports.Record, progress io.Writer) (*harness.Ensemble, F4Cell, error) {
	cell := F4Cell{Version: v.Version, Nodes: nodes, Order: order, Trigger: trigger}
	ens, err := harness.Run(ctx, harness.WithVersion(v.Version), harness.WithNodes(nodes), harness.WithProgress(progress))
	if err != nil {
		return ens, cell, err
	}
	track(ens, rec)
	marks := map[int]int{}
	var lastStart time.Time
	for _, id := range order {
		n := ens.Node(id)
		if n == nil {
			return ens, cell, fmt.Errorf("no node with myid %d", id)
		}
		if err := n.Stop(ctx); err != nil {
			return ens, cell, err
		}
		if id == 1 {
			cell.OldIP = n.IP()
		}
		if trigger == F4StaleIP && id == 1 {
			if err := n.MoveIP(ctx, 21); err != nil {
				return ens, cell, err
			}
			rec.Add(reports.KindFault, n.Name, "restarted on a new address %s; peers keep the old one they resolved", n.IP())
		}
		if (trigger == F4Advertised || trigger == F4DeadListener) && id == 1 {
			addr := unreachable(ens)
			if err := n.SetConfig(ctx, "server.1", fmt.Sprintf("%s:%d:%d", addr, harness.QuorumPort, harness.ElectionPort)); err != nil {
				return ens, cell, err
			}
			if trigger == F4Advertised {
				if err := n.SetConfig(ctx, "quorumListenOnAllIPs", "true"); err != nil {
					return ens, cell, err
				}
				rec.Add(reports.KindFault, n.Name, "its own server.1 line names %s (nobody's); it listens on all interfaces, its peers' configs say zk1", addr)
			} else {
				rec.Add(reports.KindFault, n.Name, "its own server.1 line names %s, an address it does not have: it cannot bind its election port", addr)
			}
		}
		if marks[id], err = n.LogMark(ctx); err != nil {
			return ens, cell, err
		}
		if err := n.Start(ctx); err != nil {
			return ens, cell, err
		}
		lastStart = time.Now()
		rec.Add(reports.KindFault, n.Name, "restarted (order %v)", order)
		if trigger == F4Drop && id == 1 {
			if err := DropElectionFrom(ctx, n, ens.Others(n)...); err != nil {
				return ens, cell, err
			}
			rec.Add(reports.KindFault, n.Name, "drops new connections to its election port from %d larger ids", len(ens.Others(n)))
		}
		wctx, cancel := context.WithTimeout(ctx, bound)
		err := ens.WaitServing(wctx, n)
		cancel()
		if err != nil {
			rec.Add(reports.KindState, n.Name, "not serving %s after its restart: %v", bound, err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, bound)
	err = ens.WaitServing(wctx)
	cancel()
	cell.Seconds = time.Since(lastStart).Seconds()
	cell.Rejoined = err == nil
	states := ens.States(ctx)
	for _, n := range ens.Nodes() {
		if !states[n.MyID].Mode.Serving() {
			cell.Stuck = append(cell.Stuck, n.MyID)
		}
	}
	cell.NewIP = ens.Node(1).IP()
	if res, err := ens.Node(2).Exec(ctx, "getent", "hosts", "zk1"); err == nil {
		cell.ResolvedIP, _, _ = strings.Cut(strings.TrimSpace(res.Stdout), " ")
	}
	cell.Evidence, cell.Findings, err = f4Evidence(ctx, ens, marks)
	for _, n := range ens.Others(ens.Node(1)) {
		text, lerr := n.LogSince(ctx, marks[n.MyID])
		if lerr == nil {
			cell.StaleDials += strings.Count(text, "Cannot open channel to 1 at election address zk1/"+cell.OldIP+":")
		}
	}
	rec.Add(reports.KindEvidence, "", "%s", cell)
	return ens, cell, err
}

// f4Evidence counts the tie-break and dial-back lines since each node's restart and
// runs the detectors on those logs.
func f4Evidence(ctx context.Context, ens *harness.Ensemble, marks map[int]int) ([]string, []detect.Finding, error) {
	var ev []string
	var logs []*detect.NodeLog
	for _, n := range ens.Nodes() {
		text, err := n.LogSince(ctx, marks[n.MyID])
		if err != nil {
			return nil, nil, err
		}
		for _, needle := range []string{"Have smaller server identifier", "Cannot open channel to 1 ",
			"As I'm leaving the listener thread", "Exiting JVM with code 14", "election bind port: /0.0.0.0", "election bind port: 0.0.0.0"} {
			if c := strings.Count(text, needle); c > 0 {
				ev = append(ev, fmt.Sprintf("%s: %d × %q, e.g. %s", n.Name, c, needle, firstLine(text, needle)))
			}
		}
		nl, err := detect.ScanLog(n.Name, strings.NewReader(text))
		if err != nil {
			return nil, nil, err
		}
		logs = append(logs, nl)
	}
	return ev, detect.Detect(detect.Observations{Logs: logs}), nil
}

func firstLine(text, needle string) string {
	i := strings.Index(text, needle)
	if i < 0 {
		return ""
	}
	start := strings.LastIndexByte(text[:i], '\n') + 1
	end := strings.IndexByte(text[i:], '\n')
	if end < 0 {
		return text[start:]
	}
	return text[start : i+end]
}

// DropElectionFrom makes n's namespace drop new TCP connections to its election
// port from the given peers (n can still dial them: their answers are not new
// connections to that port).
func DropElectionFrom(ctx context.Context, n *harness.Node, peers ...*harness.Node) error {
	for _, p := range peers {
		if _, err := n.Exec(ctx, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", fmt.Sprint(harness.ElectionPort),
			"-s", p.IP(), "-j", "DROP"); err != nil {
			return err
		}
	}
	return nil
}

// F4Remedy is one remedy tried on a stuck myid 1, and what it did.
type F4Remedy struct {
	Name    string
	Worked  bool
	Seconds float64
}

// TryRemedies measures, in turn, the documented remedy (leave myid 1, restart the others
// in ascending myid), restarting myid 1 alone, and fixing the trigger's cause
// (flush its firewall rules, or give it back its right server.1 line and restart
// it), each given `bound` to bring myid 1 back. It stops at the first that works:
// after that nothing is stuck any more.
func TryRemedies(ctx context.Context, ens *harness.Ensemble, trigger F4Trigger, bound time.Duration, rec *reports.Record) ([]F4Remedy, error) {
	stuck := ens.Node(1)
	var out []F4Remedy
	try := func(name string, apply func() error) (bool, error) {
		rec.Add(reports.KindFix, stuck.Name, "remedy: %s", name)
		t0 := time.Now()
		if err := apply(); err != nil {
			return false, err
		}
		wctx, cancel := context.WithTimeout(ctx, bound)
		err := ens.WaitServing(wctx, stuck)
		cancel()
		r := F4Remedy{Name: name, Worked: err == nil, Seconds: time.Since(t0).Seconds()}
		rec.Add(reports.KindState, stuck.Name, "after %q: serving %v (%.1f s)", name, r.Worked, r.Seconds)
		out = append(out, r)
		return r.Worked, nil
	}
	type remedy struct {
		name  string
		apply func() error
	}
	remedies := []remedy{
		{"documented: leave it, restart the others in ascending myid", func() error {
			for _, n := range ens.Others(stuck) {
				if err := n.Restart(ctx); err != nil {
					return err
				}
				wctx, cancel := context.WithTimeout(ctx, bound)
				_ = ens.WaitServing(wctx, n) // a restarted peer may wait for a quorum that needs the others
				cancel()
			}
			return nil
		}},
		{"restart the stuck node alone", func() error {
			if err := stuck.Restart(ctx); err != nil {
				return err
			}
			if trigger == F4Drop {
				// A container restart gets a fresh network namespace, which would drop
				// the rules; a real host firewall survives a process restart.
				return DropElectionFrom(ctx, stuck, ens.Others(stuck)...)
			}
			return nil
		}},
	}
	switch trigger {
	case F4Drop:
		remedies = append(remedies, remedy{"fix the cause: remove the firewall rules", func() error {
			_, err := stuck.Exec(ctx, "iptables", "-F", "INPUT")
			return err
		}})
	case F4Advertised, F4DeadListener:
		remedies = append(remedies, remedy{"fix the cause: its own server.1 line names zk1 again, then restart it", func() error {
			if err := stuck.SetConfig(ctx, "server.1", fmt.Sprintf("zk1:%d:%d", harness.QuorumPort, harness.ElectionPort)); err != nil {
				return err
			}
			return stuck.Restart(ctx)
		}})
	}
	for _, r := range remedies {
		worked, err := try(r.name, r.apply)
		if err != nil || worked {
			return out, err
		}
	}
	return out, nil
}
