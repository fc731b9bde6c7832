// Package fault is zkchaos's fault library (Jepsen's nemesis, one fault at a
// time): partitions, one-way drops, packet loss and delay, pauses, kills, a
// stopped leader, a full disk and a client host cut off from a server, applied
// to a running harness ensemble.
//
// Every fault proves that it took effect — firewall counters of the packets it
// dropped, the qdisc's counters, the container's state, the free bytes left on
// the dataDir — and Heal undoes it and checks the undoing: the rules are gone,
// the container runs again, the space is back. Nothing here waits for the
// ensemble to recover; that is the caller's measure (see harness/nemesis).
//
// Network faults are iptables rules in the nodes' own network namespaces (each
// fault its own chain, so healing one never touches another) and tc qdiscs on a
// node's interface; they need the NET_ADMIN capability the harness gives its
// nodes and the tools of the node image (iptables, tc). Nothing here touches the
// host's firewall.
package fault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zkchaos/zkchaos/harness"
)

// Kind names a kind of fault.
type Kind string

// The kinds of fault.
const (
	// Partition splits the ensemble into groups that cannot reach each other
	// (both directions); clients still reach every node.
	Partition Kind = "partition"
	// Isolate cuts one node off from every other node (both directions).
	Isolate Kind = "isolate"
	// Drop is one-way: a node drops what one peer sends it, while its own
	// packets still reach that peer.
	Drop Kind = "drop"
	// Loss drops a share of the packets a node receives from its peers, at random.
	Loss Kind = "loss"
	// Delay adds latency and jitter to everything a node sends (tc netem; needs
	// the engine's kernel to have sch_netem).
	Delay Kind = "delay"
	// Pause freezes a node's processes (the cgroup freezer), as a long GC pause would.
	Pause Kind = "pause"
	// Kill sends SIGKILL to a node; healing starts it again on the same dataDir.
	Kill Kind = "kill"
	// StopLeader stops whichever node leads (SIGTERM); healing starts it again.
	StopLeader Kind = "stop-leader"
	// DiskFull fills a node's dataDir, which must be a tmpfs (harness.WithTmpfs("/data", …)).
	DiskFull Kind = "disk-full"
	// ClientCut cuts the test process's client connections off from one node:
	// that node drops everything from the clients' source address to its client port.
	ClientCut Kind = "client-cut"
)

// Kinds lists every kind, in the order the documentation gives them.
var Kinds = []Kind{Partition, Isolate, Drop, Loss, Delay, Pause, Kill, StopLeader, DiskFull, ClientCut}

// Describe says what a kind does, in a line.
func (k Kind) Describe() string {
	switch k {
	case Partition:
		return "the ensemble split into a majority and a minority that cannot reach each other"
	case Isolate:
		return "one node cut off from every other node, both directions"
	case Drop:
		return "one node drops what one peer sends it (one-way)"
	case Loss:
		return "one node loses a share of its peers' packets at random"
	case Delay:
		return "latency and jitter on everything one node sends (tc netem)"
	case Pause:
		return "one node frozen, as in a long GC pause"
	case Kill:
		return "one node killed (SIGKILL), then started again"
	case StopLeader:
		return "the leader stopped (SIGTERM), then started again"
	case DiskFull:
		return "one node's dataDir filled to the last byte"
	case ClientCut:
		return "the clients cut off from one node's client port"
	}
	return "unknown fault"
}

// ParseKinds reads a comma-separated list of kinds ("all" for every kind).
func ParseKinds(s string) ([]Kind, error) {
	if strings.TrimSpace(s) == "all" {
		return slices.Clone(Kinds), nil
	}
	var out []Kind
	for _, f := range strings.Split(s, ",") {
		k := Kind(strings.TrimSpace(f))
		if k == "" {
			continue
		}
		if !slices.Contains(Kinds, k) {
			return nil, fmt.Errorf("unknown fault %q (want one of %s)", k, KindNames())
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no fault kinds given")
	}
	return out, nil
}

// KindNames lists the kinds as one comma-separated string.
func KindNames() string {
	var s []string
	for _, k := range Kinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// Spec says which fault to apply where: the data a schedule is made of.
// Nodes are myids. Partition uses Groups; StopLeader needs no node. Drop with
// two nodes makes Nodes[0] stop hearing Nodes[1]; with one, Nodes[0] stops
// hearing the leader (or, when it leads, the follower with the lowest myid):
// two followers exchange nothing once a leader is elected, so a drop between
// them would drop nothing.
type Spec struct {
	Kind   Kind    `json:"kind"`
	Nodes  []int   `json:"nodes,omitempty"`
	Groups [][]int `json:"groups,omitempty"`
	// Loss is the share of packets lost (Loss, Delay), 0..1.
	Loss float64 `json:"loss,omitempty"`
	// Delay and Jitter are Delay's latency.
	Delay  time.Duration `json:"-"`
	Jitter time.Duration `json:"-"`
}

// MarshalJSON writes Delay and Jitter in milliseconds.
func (s Spec) MarshalJSON() ([]byte, error) {
	type plain Spec
	return json.Marshal(struct {
		plain
		Delay  int64 `json:"delay_ms,omitempty"`
		Jitter int64 `json:"jitter_ms,omitempty"`
	}{plain(s), s.Delay.Milliseconds(), s.Jitter.Milliseconds()})
}

// String is the spec in a line, e.g. "partition zk1 zk2 | zk3".
func (s Spec) String() string {
	names := func(ids []int) string {
		var out []string
		for _, id := range ids {
			out = append(out, "zk"+strconv.Itoa(id))
		}
		return strings.Join(out, " ")
	}
	switch s.Kind {
	case Partition:
		var gs []string
		for _, g := range s.Groups {
			gs = append(gs, names(g))
		}
		return "partition " + strings.Join(gs, " | ")
	case Drop:
		switch len(s.Nodes) {
		case 2:
			return fmt.Sprintf("drop: zk%d stops hearing zk%d", s.Nodes[0], s.Nodes[1])
		case 1:
			return fmt.Sprintf("drop: zk%d stops hearing the leader", s.Nodes[0])
		}
	case Loss:
		return fmt.Sprintf("loss %.0f%% into %s", s.Loss*100, names(s.Nodes))
	case Delay:
		return fmt.Sprintf("delay %v ± %v out of %s", s.Delay, s.Jitter, names(s.Nodes))
	case StopLeader:
		return "stop the leader"
	}
	return string(s.Kind) + " " + names(s.Nodes)
}

// Fault is one applied fault: what it did, the evidence that it took effect,
// and, once healed, the evidence of the healing.
type Fault struct {
	Spec Spec `json:"spec"`
	// Nodes are the nodes it acted on (for StopLeader, the leader it found).
	Nodes []string `json:"nodes"`
	// Start is when it was applied, End when it was healed.
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
	// Took says whether it took effect, Evidence why we know (at Heal, the
	// counters at that moment: packets dropped, bytes delayed, bytes left).
	Took     bool   `json:"took_effect"`
	Evidence string `json:"evidence"`
	// Healed says whether Heal undid it, checked (rules gone, container running
	// again, space back); HealEvidence what the check saw.
	Healed       bool   `json:"healed"`
	HealEvidence string `json:"heal_evidence,omitempty"`
	// Packets counts what a network fault acted on at the last probe: packets
	// its firewall rules dropped, or packets its netem qdisc delayed.
	Packets int64 `json:"packets,omitempty"`

	// probe re-reads the evidence; heal undoes the fault and checks it.
	probe func(ctx context.Context) (bool, string, error)
	heal  func(ctx context.Context) (bool, string, error)
}

// String is the fault and its evidence in a line.
func (f *Fault) String() string {
	s := f.Spec.String()
	switch {
	case f.Spec.Kind == StopLeader && len(f.Nodes) > 0:
		s += " (" + f.Nodes[0] + ")"
	case f.Spec.Kind == Drop && len(f.Spec.Nodes) == 1 && len(f.Nodes) == 2:
		s = fmt.Sprintf("drop: %s stops hearing %s", f.Nodes[0], f.Nodes[1])
	}
	return s + ": " + f.Evidence
}

// Probe re-reads the evidence that the fault is in effect (counters grow while
// it lasts) and updates Took and Evidence.
func (f *Fault) Probe(ctx context.Context) error {
	if f.probe == nil {
		return nil
	}
	took, ev, err := f.probe(ctx)
	if err != nil {
		return err
	}
	f.Took, f.Evidence = took, ev
	return nil
}

// Heal reads the evidence one last time, undoes the fault and checks that it
// is undone. It is safe to call twice (the second call does nothing).
func (f *Fault) Heal(ctx context.Context) error {
	if !f.End.IsZero() {
		return nil
	}
	perr := f.Probe(ctx)
	healed, ev, err := f.heal(ctx)
	f.End = time.Now()
	f.Healed, f.HealEvidence = healed && err == nil, ev
	if err != nil {
		return errors.Join(perr, fmt.Errorf("heal %s: %w", f.Spec, err))
	}
	if !healed {
		return errors.Join(perr, fmt.Errorf("heal %s: not undone: %s", f.Spec, ev))
	}
	return perr
}

// Duration is how long the fault lasted (until now if it is not healed).
func (f *Fault) Duration() time.Duration {
	if f.End.IsZero() {
		return time.Since(f.Start)
	}
	return f.End.Sub(f.Start)
}

// ErrUnsupported says a fault cannot be applied on this engine (e.g. a kernel
// without sch_netem).
var ErrUnsupported = errors.New("not supported here")

// Apply applies spec to ens and returns the fault, already showing the
// evidence that could be read at once (a kill's exit code, a full disk's free
// bytes); network counters grow while it lasts and are read again at Heal.
func Apply(ctx context.Context, ens *harness.Ensemble, spec Spec) (*Fault, error) {
	nodes, err := resolve(ens, spec.Nodes)
	if err != nil {
		return nil, err
	}
	var f *Fault
	switch spec.Kind {
	case Partition:
		var groups [][]*harness.Node
		for _, g := range spec.Groups {
			ns, err := resolve(ens, g)
			if err != nil {
				return nil, err
			}
			groups = append(groups, ns)
		}
		f, err = partition(ctx, groups)
	case Isolate:
		if len(nodes) != 1 {
			return nil, fmt.Errorf("isolate: want one node, got %v", spec.Nodes)
		}
		f, err = partition(ctx, [][]*harness.Node{nodes, ens.Others(nodes[0])})
	case Drop:
		if len(nodes) == 1 {
			var peer *harness.Node
			if peer, err = leaderOrFollower(ctx, ens, nodes[0]); err != nil {
				return nil, err
			}
			nodes = append(nodes, peer)
		}
		if len(nodes) != 2 {
			return nil, fmt.Errorf("drop: want the node that drops and its peer, got %v", spec.Nodes)
		}
		f, err = drop(ctx, nodes[0], []*harness.Node{nodes[1]}, 0, 0)
		if err == nil {
			f.Nodes = nodeNames(nodes)
		}
	case Loss:
		if len(nodes) != 1 || spec.Loss <= 0 || spec.Loss >= 1 {
			return nil, fmt.Errorf("loss: want one node and a share in (0, 1), got %v, %v", spec.Nodes, spec.Loss)
		}
		f, err = drop(ctx, nodes[0], ens.Others(nodes[0]), 0, spec.Loss)
	case Delay:
		if len(nodes) != 1 || spec.Delay <= 0 {
			return nil, fmt.Errorf("delay: want one node and a delay, got %v, %v", spec.Nodes, spec.Delay)
		}
		f, err = delay(ctx, nodes[0], spec)
	case Pause:
		if len(nodes) != 1 {
			return nil, fmt.Errorf("pause: want one node, got %v", spec.Nodes)
		}
		f, err = pause(ctx, nodes[0])
	case Kill:
		if len(nodes) != 1 {
			return nil, fmt.Errorf("kill: want one node, got %v", spec.Nodes)
		}
		f, err = kill(ctx, nodes[0])
	case StopLeader:
		f, err = stopLeader(ctx, ens)
	case DiskFull:
		if len(nodes) != 1 {
			return nil, fmt.Errorf("disk-full: want one node, got %v", spec.Nodes)
		}
		f, err = diskFull(ctx, nodes[0])
	case ClientCut:
		if len(nodes) != 1 {
			return nil, fmt.Errorf("client-cut: want one node, got %v", spec.Nodes)
		}
		f, err = drop(ctx, nodes[0], nil, harness.ClientPort, 0, ens.ReachSource().String())
	default:
		return nil, fmt.Errorf("unknown fault %q", spec.Kind)
	}
	if err != nil {
		return nil, err
	}
	f.Spec = spec
	if f.Start.IsZero() {
		f.Start = time.Now()
	}
	return f, nil
}

// leaderOrFollower is the peer n exchanges packets with: the leader, or when n
// leads, its follower with the lowest myid.
func leaderOrFollower(ctx context.Context, ens *harness.Ensemble, n *harness.Node) (*harness.Node, error) {
	leader, err := ens.Leader(ctx)
	if err != nil {
		return nil, fmt.Errorf("drop: %w", err)
	}
	if leader != n {
		return leader, nil
	}
	for _, o := range ens.Others(n) {
		return o, nil
	}
	return nil, fmt.Errorf("drop: %s has no peer", n.Name)
}

func resolve(ens *harness.Ensemble, ids []int) ([]*harness.Node, error) {
	var out []*harness.Node
	for _, id := range ids {
		n := ens.Node(id)
		if n == nil {
			return nil, fmt.Errorf("no node with myid %d in ensemble %s", id, ens.ID)
		}
		out = append(out, n)
	}
	return out, nil
}

func nodeNames(ns []*harness.Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Name)
	}
	return out
}

var chainSeq atomic.Int64

// chain is one fault's iptables chain in one node: its rules hang off INPUT
// through a single jump, so healing removes exactly them.
type chain struct {
	node *harness.Node
	name string
}

func newChain(n *harness.Node) chain {
	return chain{node: n, name: fmt.Sprintf("ZKCHAOS-%d", chainSeq.Add(1))}
}

// install creates the chain with its rules (each an iptables rule spec
// without the chain) and jumps to it first thing in INPUT.
func (c chain) install(ctx context.Context, rules [][]string) error {
	script := []string{"set -e", "iptables -w -N " + c.name}
	for _, r := range rules {
		script = append(script, "iptables -w -A "+c.name+" "+strings.Join(r, " "))
	}
	script = append(script, "iptables -w -I INPUT 1 -j "+c.name)
	_, err := c.node.Exec(ctx, "sh", "-c", strings.Join(script, "\n"))
	return err
}

// dropped sums the packet counters of the chain's DROP rules.
func (c chain) dropped(ctx context.Context) (int64, error) {
	res, err := c.node.Exec(ctx, "iptables", "-w", "-L", c.name, "-v", "-n", "-x")
	if err != nil {
		return 0, err
	}
	return sumDropped(res.Stdout), nil
}

// sumDropped adds up the packets column of DROP rules in `iptables -L -v -n -x`.
func sumDropped(listing string) int64 {
	var total int64
	for _, l := range strings.Split(listing, "\n") {
		f := strings.Fields(l)
		if len(f) > 2 && f[2] == "DROP" {
			if p, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				total += p
			}
		}
	}
	return total
}

// remove deletes the jump and the chain, then checks that neither is left.
func (c chain) remove(ctx context.Context) (bool, string, error) {
	script := fmt.Sprintf("iptables -w -D INPUT -j %[1]s; iptables -w -F %[1]s; iptables -w -X %[1]s; iptables -w -S", c.name)
	res, err := c.node.Exec(ctx, "sh", "-c", script)
	if err != nil {
		return false, "", err
	}
	if strings.Contains(res.Stdout, c.name) {
		return false, fmt.Sprintf("%s: chain %s still in the firewall", c.node.Name, c.name), nil
	}
	return true, fmt.Sprintf("%s: chain %s removed", c.node.Name, c.name), nil
}

// chainFault is a fault made of one chain per node: it took effect when the
// chains dropped packets.
func chainFault(ctx context.Context, targets []*harness.Node, chains []chain, rules [][][]string) (*Fault, error) {
	f := &Fault{Nodes: nodeNames(targets)}
	var installed []chain
	undo := func(ctx context.Context) (bool, string, error) {
		ok, evs := true, []string{}
		var errs []error
		for _, c := range installed {
			done, ev, err := c.remove(ctx)
			ok = ok && done
			evs = append(evs, ev)
			errs = append(errs, err)
		}
		return ok, strings.Join(evs, "; "), errors.Join(errs...)
	}
	for i, c := range chains {
		if err := c.install(ctx, rules[i]); err != nil {
			_, _, _ = undo(context.WithoutCancel(ctx))
			return nil, err
		}
		installed = append(installed, c)
	}
	f.Start = time.Now()
	f.probe = func(ctx context.Context) (bool, string, error) {
		var total int64
		var parts []string
		for _, c := range chains {
			n, err := c.dropped(ctx)
			if err != nil {
				return false, "", err
			}
			total += n
			parts = append(parts, fmt.Sprintf("%s dropped %d", c.node.Name, n))
		}
		f.Packets = total
		return total > 0, "iptables counters: " + strings.Join(parts, ", ") + " packets", nil
	}
	f.heal = undo
	f.Evidence = "rules installed; no packet counted yet"
	return f, nil
}

// partition makes every node drop what nodes of the other groups send it.
func partition(ctx context.Context, groups [][]*harness.Node) (*Fault, error) {
	if len(groups) < 2 {
		return nil, fmt.Errorf("partition: want at least two groups")
	}
	var targets []*harness.Node
	var chains []chain
	var rules [][][]string
	for gi, g := range groups {
		for _, n := range g {
			var rs [][]string
			for gj, other := range groups {
				if gj == gi {
					continue
				}
				for _, o := range other {
					rs = append(rs, []string{"-s", o.IP(), "-j", "DROP"})
				}
			}
			targets = append(targets, n)
			chains = append(chains, newChain(n))
			rules = append(rules, rs)
		}
	}
	return chainFault(ctx, targets, chains, rules)
}

// drop makes n drop what the peers send it (all of it, or the share loss at
// random), to port (0: every port), or, with sources, what those addresses
// send it.
func drop(ctx context.Context, n *harness.Node, peers []*harness.Node, port int, loss float64, sources ...string) (*Fault, error) {
	for _, p := range peers {
		sources = append(sources, p.IP())
	}
	var rs [][]string
	for _, src := range sources {
		r := []string{"-s", src}
		if port != 0 {
			r = append(r, "-p", "tcp", "--dport", strconv.Itoa(port))
		}
		if loss > 0 {
			r = append(r, "-m", "statistic", "--mode", "random", "--probability", strconv.FormatFloat(loss, 'f', 3, 64))
		}
		rs = append(rs, append(r, "-j", "DROP"))
	}
	return chainFault(ctx, []*harness.Node{n}, []chain{newChain(n)}, [][][]string{rs})
}

// DropFrom makes n drop new connections and packets to port that the given
// peers send it (one way: n still reaches them) — F4's trigger. The fault's
// evidence is n's firewall counters; Heal removes exactly these rules.
func DropFrom(ctx context.Context, n *harness.Node, port int, peers ...*harness.Node) (*Fault, error) {
	f, err := drop(ctx, n, peers, port, 0)
	if err != nil {
		return nil, err
	}
	var ids []int
	ids = append(ids, n.MyID)
	for _, p := range peers {
		ids = append(ids, p.MyID)
	}
	f.Spec = Spec{Kind: Drop, Nodes: ids}
	return f, nil
}

// Dropped probes the fault and returns the packets its firewall rules dropped
// so far (0 for faults that are not firewall rules).
func (f *Fault) Dropped(ctx context.Context) (int64, error) {
	if err := f.Probe(ctx); err != nil {
		return 0, err
	}
	return f.Packets, nil
}

// delay adds netem latency (and loss) to everything n sends.
func delay(ctx context.Context, n *harness.Node, spec Spec) (*Fault, error) {
	args := []string{"tc", "qdisc", "add", "dev", "eth0", "root", "netem", "delay", ms(spec.Delay)}
	if spec.Jitter > 0 {
		args = append(args, ms(spec.Jitter), "distribution", "normal")
	}
	if spec.Loss > 0 {
		args = append(args, "loss", strconv.FormatFloat(spec.Loss*100, 'f', 1, 64)+"%")
	}
	if res, err := n.Exec(ctx, args...); err != nil {
		if strings.Contains(res.Stderr, "qdisc kind is unknown") || strings.Contains(res.Stderr, "No such file or directory") {
			return nil, fmt.Errorf("delay on %s: the engine's kernel has no netem qdisc (sch_netem, CONFIG_NET_SCH_NETEM): %w", n.Name, ErrUnsupported)
		}
		return nil, err
	}
	f := &Fault{Nodes: []string{n.Name}, Start: time.Now(), Evidence: "netem qdisc installed"}
	f.probe = func(ctx context.Context) (bool, string, error) {
		res, err := n.Exec(ctx, "tc", "-s", "qdisc", "show", "dev", "eth0")
		if err != nil {
			return false, "", err
		}
		sent := qdiscSent(res.Stdout, "netem")
		f.Packets = sent
		return sent > 0, fmt.Sprintf("%s: netem qdisc sent %d packets with %s", n.Name, sent, spec.String()), nil
	}
	f.heal = func(ctx context.Context) (bool, string, error) {
		if _, err := n.Exec(ctx, "tc", "qdisc", "del", "dev", "eth0", "root"); err != nil {
			return false, "", err
		}
		res, err := n.Exec(ctx, "tc", "qdisc", "show", "dev", "eth0")
		if err != nil {
			return false, "", err
		}
		if strings.Contains(res.Stdout, "netem") {
			return false, n.Name + ": netem qdisc still on eth0", nil
		}
		return true, n.Name + ": netem qdisc removed from eth0", nil
	}
	return f, nil
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }

// qdiscSent reads "Sent B bytes P pkt" of the named qdisc in `tc -s qdisc show`.
func qdiscSent(out, kind string) int64 {
	in := false
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 1 && f[0] == "qdisc" {
			in = f[1] == kind
			continue
		}
		if in && len(f) >= 4 && f[0] == "Sent" {
			p, _ := strconv.ParseInt(f[3], 10, 64)
			return p
		}
	}
	return 0
}

// pause freezes n; healing thaws it and checks it is no longer paused.
func pause(ctx context.Context, n *harness.Node) (*Fault, error) {
	if err := n.Pause(ctx); err != nil {
		return nil, err
	}
	f := &Fault{Nodes: []string{n.Name}, Start: time.Now()}
	f.probe = func(ctx context.Context) (bool, string, error) {
		p, err := n.Paused(ctx)
		if err != nil {
			return false, "", err
		}
		return p, fmt.Sprintf("%s: container paused %v (the engine's state)", n.Name, p), nil
	}
	if err := f.Probe(ctx); err != nil {
		return nil, errors.Join(err, n.Unpause(context.WithoutCancel(ctx)))
	}
	f.heal = func(ctx context.Context) (bool, string, error) {
		if err := n.Unpause(ctx); err != nil {
			return false, "", err
		}
		p, err := n.Paused(ctx)
		if err != nil {
			return false, "", err
		}
		return !p, fmt.Sprintf("%s: container paused %v after unpause", n.Name, p), nil
	}
	return f, nil
}

// restartHeal starts n again and checks that its container runs.
func restartHeal(n *harness.Node) func(ctx context.Context) (bool, string, error) {
	return func(ctx context.Context) (bool, string, error) {
		if err := n.Start(ctx); err != nil {
			return false, "", err
		}
		running, err := n.Running(ctx)
		if err != nil {
			return false, "", err
		}
		return running, fmt.Sprintf("%s: started again, container running %v", n.Name, running), nil
	}
}

// stopped is evidence read once: the container is not running, with its exit code.
func stopped(ctx context.Context, n *harness.Node, what string) (bool, string, error) {
	exited, code, err := n.Exited(ctx)
	if err != nil {
		return false, "", err
	}
	return exited, fmt.Sprintf("%s: %s, container exited %v with code %d", n.Name, what, exited, code), nil
}

// kill sends SIGKILL to n.
func kill(ctx context.Context, n *harness.Node) (*Fault, error) {
	if err := n.Kill(ctx); err != nil {
		return nil, err
	}
	f := &Fault{Nodes: []string{n.Name}, Start: time.Now(), heal: restartHeal(n)}
	var err error
	if f.Took, f.Evidence, err = stopped(ctx, n, "SIGKILL"); err != nil {
		return nil, err
	}
	return f, nil
}

// stopLeader stops the node that reports itself leader.
func stopLeader(ctx context.Context, ens *harness.Ensemble) (*Fault, error) {
	leader, err := ens.Leader(ctx)
	if err != nil {
		return nil, fmt.Errorf("stop-leader: %w", err)
	}
	if err := leader.Stop(ctx); err != nil {
		return nil, err
	}
	f := &Fault{Nodes: []string{leader.Name}, Start: time.Now(), heal: restartHeal(leader)}
	if f.Took, f.Evidence, err = stopped(ctx, leader, "was the leader (srvr), stopped with SIGTERM"); err != nil {
		return nil, err
	}
	return f, nil
}

// fillFile is the file diskFull writes into the dataDir.
const fillFile = "/data/zkchaos-fill"

// diskFull fills n's dataDir (a tmpfs: never the host's disk) to the last byte.
func diskFull(ctx context.Context, n *harness.Node) (*Fault, error) {
	res, err := n.Exec(ctx, "stat", "-f", "-c", "%T", "/data")
	if err != nil {
		return nil, err
	}
	if fs := strings.TrimSpace(res.Stdout); fs != "tmpfs" {
		return nil, fmt.Errorf("disk-full on %s: /data is %s, not a tmpfs: start the ensemble with harness.WithTmpfs(\"/data\", size) so that filling it never fills the engine's disk", n.Name, fs)
	}
	// dd stops at ENOSPC with a non-zero exit: expected.
	_, _ = n.Exec(ctx, "dd", "if=/dev/zero", "of="+fillFile, "bs=1M")
	f := &Fault{Nodes: []string{n.Name}, Start: time.Now()}
	avail := func(ctx context.Context) (int64, error) {
		res, err := n.Exec(ctx, "df", "-B1", "--output=avail", "/data")
		if err != nil {
			return 0, err
		}
		fs := strings.Fields(res.Stdout)
		if len(fs) < 2 {
			return 0, fmt.Errorf("df on %s: %q", n.Name, res.Stdout)
		}
		return strconv.ParseInt(fs[len(fs)-1], 10, 64)
	}
	f.probe = func(ctx context.Context) (bool, string, error) {
		a, err := avail(ctx)
		if err != nil {
			return false, "", err
		}
		return a < 64<<10, fmt.Sprintf("%s: /data has %d bytes free (df)", n.Name, a), nil
	}
	if err := f.Probe(ctx); err != nil {
		return nil, err
	}
	f.heal = func(ctx context.Context) (bool, string, error) {
		// ZooKeeper may have exited on the full disk; a stopped container takes
		// no exec: start it and remove the file at once (it may exit again before
		// that, hence the second start).
		for attempt := 0; ; attempt++ {
			if running, err := n.Running(ctx); err != nil {
				return false, "", err
			} else if !running {
				if err := n.Start(ctx); err != nil {
					return false, "", err
				}
			}
			_, err := n.Exec(ctx, "rm", "-f", fillFile)
			if err == nil {
				break
			}
			if attempt == 2 {
				return false, "", err
			}
		}
		a, err := avail(ctx)
		if err != nil {
			return false, "", err
		}
		running, err := n.Running(ctx)
		if err != nil {
			return false, "", err
		}
		if !running {
			if err := n.Start(ctx); err != nil {
				return false, "", err
			}
			running, err = n.Running(ctx)
			if err != nil {
				return false, "", err
			}
		}
		return a > 1<<20 && running, fmt.Sprintf("%s: fill file removed, /data has %d bytes free, container running %v", n.Name, a, running), nil
	}
	return f, nil
}
