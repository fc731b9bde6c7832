package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/go-zookeeper/zk"
	mobynet "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Ports every node uses (fixed: each ensemble has its own network and addresses).
const (
	ClientPort   = 2181
	QuorumPort   = 2888
	ElectionPort = 3888
)

// Ensemble is a running ZooKeeper ensemble of real servers in containers, on a
// network of its own.
type Ensemble struct {
	// ID is unique per ensemble and part of every container and network name.
	ID      string
	Version Version
	// Network is the name of the ensemble's Docker network; Subnet its addresses.
	Network string
	Subnet  netip.Prefix

	nodes     []*Node
	mu        sync.Mutex
	clients   []*Client
	networkID string
	settings  settings
	created   time.Time
	watchers  []func() // stop functions of Watch, called by Terminate
	// route is how this process reaches the nodes (the one seam: Dial).
	route *route
}

// Run starts an ensemble and, unless WithoutWait is given, waits until every node
// serves. On error it returns the half-built ensemble as well, so that the caller's
// Terminate still finds every container.
func Run(ctx context.Context, opts ...Option) (*Ensemble, error) {
	s := defaultSettings()
	for _, o := range opts {
		if err := o(&s); err != nil {
			return nil, err
		}
	}
	v, err := LookupVersion(s.version)
	if err != nil {
		return nil, err
	}
	cli, err := Docker(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkNodeImage(ctx, v); err != nil {
		return nil, err
	}
	if _, err := ParseReach(os.Getenv(EnvReach)); err != nil {
		return nil, fmt.Errorf("$%s: %w", EnvReach, err)
	}
	e := &Ensemble{ID: newID(), Version: v, settings: s, created: time.Now()}
	e.Network = "zkchaos-" + e.ID
	// Until the network exists, a route that reaches nothing (no subnet).
	e.route = &route{reach: s.reach, network: e.Network}
	start := time.Now()
	if err := e.createNetwork(ctx, cli); err != nil {
		return e, err
	}
	if e.route.reach == ReachTunnel {
		// The gateway runs the client image: say so before any node exists.
		if err := checkClientImage(ctx); err != nil {
			return e, err
		}
	}
	for myid := 1; myid <= s.nodes; myid++ {
		ip := e.Subnet.Addr().As4()
		ip[3] = byte(10 + myid)
		e.nodes = append(e.nodes, &Node{
			MyID: myid, Name: fmt.Sprintf("zk%d", myid), ens: e,
			ip:      netip.AddrFrom4(ip),
			config:  e.baseConfig().merge(s.config).merge(s.nodeConfig[myid]),
			version: v,
		})
	}
	// Each container starts as soon as it exists; its entrypoint waits until every
	// peer name resolves, so no node starts ZooKeeper before its peers are reachable.
	// The tunnel's gateway (if any) starts alongside.
	netDone := time.Now()
	gwErr := make(chan error, 1)
	go func() { gwErr <- e.route.startGateway(ctx) }()
	err = e.parallel(ctx, func(n *Node, ctx context.Context) error {
		if err := n.create(ctx); err != nil {
			return err
		}
		return n.Start(ctx)
	})
	if err = errors.Join(err, <-gwErr); err != nil {
		return e, err
	}
	image, _ := s.imageFor(v)
	e.progressf("%d × ZooKeeper %s (%s) on %s (%s): network %.2f s, containers created and started %.2f s; this process reaches them %s",
		s.nodes, v.Version, image, e.Network, e.Subnet, netDone.Sub(start).Seconds(), time.Since(netDone).Seconds(), e.route.describe())
	if !s.wait {
		return e, nil
	}
	wctx, cancel := context.WithTimeout(ctx, s.startTimeout)
	defer cancel()
	if err := e.WaitServing(wctx); err != nil {
		return e, err
	}
	e.progressf("all %d nodes serving %.2f s after Run", s.nodes, time.Since(start).Seconds())
	return e, nil
}

func newID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (e *Ensemble) progressf(format string, a ...any) {
	fmt.Fprintf(e.settings.progress, "[%s] ensemble %s: %s\n", time.Now().Format("15:04:05.000"), e.ID, fmt.Sprintf(format, a...))
}

// baseConfig is the zoo.cfg every node gets before WithConfig/WithNodeConfig.
func (e *Ensemble) baseConfig() config {
	var c config
	// A short tick makes elections and syncs fast; the limits in ticks give the same
	// 20 s / 10 s as ZooKeeper's sample config (tickTime=2000, initLimit=10,
	// syncLimit=5), so a loaded 2-core machine does not drop followers (3 s was seen
	// to), and sessions may last 20 s.
	c.set("tickTime", "200")
	c.set("initLimit", "100")
	c.set("syncLimit", "50")
	c.set("maxSessionTimeout", "20000")
	c.set("dataDir", "/data")
	c.set("clientPort", strconv.Itoa(ClientPort))
	if e.Version.FourLetterWhitelist {
		c.set("4lw.commands.whitelist", "*")
	}
	if e.Version.AdminServer {
		c.set("admin.enableServer", "false")
	}
	for myid := 1; myid <= e.settings.nodes; myid++ {
		c.set(fmt.Sprintf("server.%d", myid), fmt.Sprintf("zk%d:%d:%d", myid, QuorumPort, ElectionPort))
	}
	return c
}

func (e *Ensemble) createNetwork(ctx context.Context, cli *testcontainers.DockerClient) error {
	// A subnet of our choosing gives every node a fixed address across restarts:
	// Docker's IPAM hands out addresses serially, so a restarted node would
	// otherwise come back on a new IP while 3.4.13 peers keep the old one (an
	// accidental F4 trigger, docs/F4.md). 10.199.X.0/24, X random; retry on overlap.
	var lastErr error
	for range 20 {
		x, _ := rand.Int(rand.Reader, big.NewInt(256))
		prefix := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 199, byte(x.Int64()), 0}), 24)
		if overlapsHost(prefix) {
			continue
		}
		gateway := prefix.Addr().Next() // .1: the bridge's own address on the engine's host
		res, err := cli.NetworkCreate(ctx, e.Network, client.NetworkCreateOptions{
			Driver: "bridge",
			Labels: runLabels(e.ID),
			IPAM:   &mobynet.IPAM{Config: []mobynet.IPAMConfig{{Subnet: prefix, Gateway: gateway}}},
		})
		if err == nil {
			e.networkID, e.Subnet = res.ID, prefix
			gw := prefix.Addr().As4()
			gw[3] = gatewayHost
			e.route = &route{
				reach:    chooseReach(e.settings.reach, gateway),
				network:  e.Network,
				subnet:   prefix,
				gwName:   fmt.Sprintf("zkchaos-%s-gateway", e.ID),
				gwIP:     netip.AddrFrom4(gw),
				gwLabels: runLabels(e.ID),
			}
			return nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "overlap") {
			break
		}
	}
	return fmt.Errorf("ensemble %s: create network %s: %w", e.ID, e.Network, lastErr)
}

// gatewayHost is the last byte of the tunnel gateway's address (nodes are .11…,
// client hosts .101…).
const gatewayHost = 250

func overlapsHost(p netip.Prefix) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if q, err := netip.ParsePrefix(ipn.String()); err == nil && q.Overlaps(p) {
				return true
			}
		}
	}
	return false
}

// parallel runs op on every node at once and joins the errors.
func (e *Ensemble) parallel(ctx context.Context, op func(*Node, context.Context) error) error {
	errs := make([]error, len(e.nodes))
	var wg sync.WaitGroup
	for i, n := range e.nodes {
		wg.Go(func() { errs[i] = op(n, ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Nodes returns every node, by myid.
func (e *Ensemble) Nodes() []*Node { return e.nodes }

// Node returns the node with the given myid, or nil.
func (e *Ensemble) Node(myid int) *Node {
	if myid < 1 || myid > len(e.nodes) {
		return nil
	}
	return e.nodes[myid-1]
}

// Others returns every node but n.
func (e *Ensemble) Others(n *Node) []*Node {
	var out []*Node
	for _, o := range e.nodes {
		if o != n {
			out = append(out, o)
		}
	}
	return out
}

// States probes every node at once.
func (e *Ensemble) States(ctx context.Context) map[int]State {
	out := make(map[int]State, len(e.nodes))
	var mu sync.Mutex
	_ = e.parallel(ctx, func(n *Node, ctx context.Context) error {
		st := n.State(ctx)
		mu.Lock()
		out[n.MyID] = st
		mu.Unlock()
		return nil
	})
	return out
}

// Watch probes every node's state each interval in the background and calls fn
// with each node's mode (from the first probe on, then on every change) until the
// returned stop is called or the ensemble is terminated. It is how run records get
// their per-node state lanes. Probes are `srvr` on each node's client port.
func (e *Ensemble) Watch(interval time.Duration, fn func(n *Node, m Mode)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		last := map[int]Mode{}
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			pctx, pcancel := context.WithTimeout(ctx, interval+time.Second)
			states := e.States(pctx)
			pcancel()
			if ctx.Err() != nil {
				return
			}
			for _, n := range e.nodes {
				if m := states[n.MyID].Mode; m != last[n.MyID] {
					last[n.MyID] = m
					fn(n, m)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	e.mu.Lock()
	e.watchers = append(e.watchers, stop)
	e.mu.Unlock()
	return stop
}

// Leader returns the node that reports itself leader (an error if none or several do).
func (e *Ensemble) Leader(ctx context.Context) (*Node, error) {
	var leaders []*Node
	states := e.States(ctx)
	for _, n := range e.nodes {
		if states[n.MyID].Mode == ModeLeader {
			leaders = append(leaders, n)
		}
	}
	if len(leaders) != 1 {
		return nil, fmt.Errorf("ensemble %s: %d leaders (%s)", e.ID, len(leaders), e.explainStates(ctx, states))
	}
	return leaders[0], nil
}

// Followers returns the nodes that report themselves followers.
func (e *Ensemble) Followers(ctx context.Context) []*Node {
	var out []*Node
	states := e.States(ctx)
	for _, n := range e.nodes {
		if states[n.MyID].Mode == ModeFollower {
			out = append(out, n)
		}
	}
	return out
}

// explainStates says what each node is doing, for an error: a node that did not
// answer is told apart as the engine sees it — running but not reachable from this process
// (and by which path), running with nothing listening yet, paused, or exited.
func (e *Ensemble) explainStates(ctx context.Context, states map[int]State) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	parts := make([]string, 0, len(e.nodes))
	for _, n := range e.nodes {
		st := states[n.MyID]
		if st.Mode != ModeDown {
			parts = append(parts, fmt.Sprintf("%s=%s", n.Name, st.Mode))
			continue
		}
		parts = append(parts, n.Name+"="+n.explainDown(ctx, st))
	}
	return strings.Join(parts, "; ") + fmt.Sprintf(" (reach: %s)", e.route.reach)
}

// explainDown says why a node gave no srvr answer.
func (n *Node) explainDown(ctx context.Context, st State) string {
	c, err := n.container()
	if err != nil {
		return "down (no container)"
	}
	cs, err := c.State(ctx)
	if err != nil {
		return fmt.Sprintf("down (inspect: %v)", err)
	}
	var re *ReachError
	switch {
	case cs.Paused:
		return "down (paused)"
	case !cs.Running:
		return fmt.Sprintf("down (exited, code %d)", cs.ExitCode)
	case errors.As(st.Err, &re):
		return fmt.Sprintf("running, %v", re)
	case errors.Is(st.Err, syscall.ECONNREFUSED):
		return fmt.Sprintf("down (running, nothing listens on %d yet)", ClientPort)
	case st.Err != nil:
		return fmt.Sprintf("down (running, no answer: %v)", st.Err)
	}
	return "down"
}

// Serving checks once whether the given nodes (all when none are given) serve and
// the ensemble has exactly one leader. The error says what each node is doing.
func (e *Ensemble) Serving(ctx context.Context, nodes ...*Node) error {
	states := e.States(ctx)
	if problem := e.servingProblem(states, nodes); problem != "" {
		return fmt.Errorf("%s: %s", problem, e.explainStates(ctx, states))
	}
	return nil
}

// servingProblem is "" when the given nodes (all when none are given) serve and
// there is exactly one leader, else what is wrong. It asks the engine nothing, so
// a poll stays cheap; explainStates, which does, runs only for the error.
func (e *Ensemble) servingProblem(states map[int]State, nodes []*Node) string {
	if len(nodes) == 0 {
		nodes = e.nodes
	}
	leaders := 0
	for _, st := range states {
		if st.Mode == ModeLeader || st.Mode == ModeStandalone {
			leaders++
		}
	}
	for _, n := range nodes {
		if !states[n.MyID].Mode.Serving() {
			return fmt.Sprintf("ensemble %s not serving", e.ID)
		}
	}
	if leaders != 1 {
		return fmt.Sprintf("ensemble %s: %d leaders", e.ID, leaders)
	}
	return ""
}

// WaitServing polls until the given nodes serve with one leader, or ctx ends (then
// it returns the last states, explained). The poll is the condition itself: first
// after 50 ms, then at longer intervals up to 250 ms. Each poll is a srvr on every
// node, which the server pays for (4.4 ms of CPU on 3.4.13, which logs each
// one); polled every 50 ms, a waiting 3.4.13 ensemble used a third of a core.
func (e *Ensemble) WaitServing(ctx context.Context, nodes ...*Node) error {
	var states map[int]State
	var problem string
	err := pollUntil(ctx, 50*time.Millisecond, 250*time.Millisecond, func() bool {
		states = e.States(ctx)
		problem = e.servingProblem(states, nodes)
		return problem == ""
	})
	if err == nil {
		return nil
	}
	// The last probe may have been cut short by the deadline: probe once more,
	// briefly, so that the error tells the states as they are.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	again := e.States(pctx)
	if p := e.servingProblem(again, nodes); p != "" {
		states, problem = again, p
	}
	return fmt.Errorf("wait serving: %w: %s: %s", err, problem, e.explainStates(pctx, states))
}

// RollingRestart restarts the nodes one at a time in myid order, the way an operator
// applies a config change: each node gets the zoo.cfg changes (keys in sorted order),
// is restarted, and the ensemble must serve again — and then (if not nil), given the
// node's log mark from before its restart, must succeed — within timeout before the
// next node goes.
func (e *Ensemble) RollingRestart(ctx context.Context, changes map[string]string, timeout time.Duration,
	then func(ctx context.Context, n *Node, mark int) error) error {
	return e.RestartNodes(ctx, e.nodes, changes, timeout, then)
}

// RestartNodes is RollingRestart on the given nodes only, in the order given: a
// setting one node's behaviour depends on (its client port's backlog, its own
// limits) changed where it is measured.
func (e *Ensemble) RestartNodes(ctx context.Context, nodes []*Node, changes map[string]string, timeout time.Duration,
	then func(ctx context.Context, n *Node, mark int) error) error {
	keys := slices.Sorted(maps.Keys(changes))
	for _, n := range nodes {
		for _, k := range keys {
			if err := n.SetConfig(ctx, k, changes[k]); err != nil {
				return err
			}
		}
		mark, err := n.LogMark(ctx)
		if err != nil {
			return err
		}
		if err := n.Restart(ctx); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, timeout)
		err = e.WaitServing(wctx)
		if err != nil {
			err = fmt.Errorf("rolling restart: after %s: %w", n, err)
		} else if then != nil {
			err = then(wctx, n, mark)
		}
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// ClientAddrs lists every node's client address (container IP:2181).
func (e *Ensemble) ClientAddrs() []string {
	out := make([]string, 0, len(e.nodes))
	for _, n := range e.nodes {
		out = append(out, n.ClientAddr())
	}
	return out
}

// Connect opens a go-zookeeper session to the ensemble (any node), through the
// ensemble's reach, and waits until it has a session.
func (e *Ensemble) Connect(ctx context.Context) (*zk.Conn, error) {
	return connect(ctx, e.ClientAddrs(), e.ZKDialer(), "ensemble "+e.ID)
}

func connect(ctx context.Context, addrs []string, dialer zk.Dialer, who string) (*zk.Conn, error) {
	conn, events, err := zk.Connect(addrs, 10*time.Second, zk.WithLogger(quietLogger{}), zk.WithDialer(dialer))
	if err != nil {
		return nil, fmt.Errorf("%s: connect: %w", who, err)
	}
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return conn, nil
			}
		case <-ctx.Done():
			conn.Close()
			return nil, fmt.Errorf("%s: connect %v: no session: %w", who, addrs, ctx.Err())
		}
	}
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// Terminate removes every container and the network, also after a cancelled
// context (it uses its own bounded one), joining all errors.
func (e *Ensemble) Terminate(ctx context.Context) error {
	if e == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	e.mu.Lock()
	watchers := e.watchers
	e.watchers = nil
	e.mu.Unlock()
	for _, stop := range watchers {
		stop()
	}
	err := e.parallel(ctx, (*Node).remove)
	if e.route != nil {
		err = errors.Join(err, e.route.close(ctx))
	}
	e.mu.Lock()
	clients := e.clients
	e.mu.Unlock()
	for _, c := range clients {
		err = errors.Join(err, c.Stop(ctx))
	}
	if e.networkID != "" {
		cli, cerr := Docker(ctx)
		if cerr == nil {
			_, cerr = cli.NetworkRemove(ctx, e.networkID, client.NetworkRemoveOptions{})
		}
		if cerr != nil && !isNotFound(cerr) {
			err = errors.Join(err, fmt.Errorf("ensemble %s: remove network %s: %w", e.ID, e.Network, cerr))
		}
	}
	e.progressf("terminated")
	return err
}

// WriteLogs writes every node's whole server log to w, node by node (artifacts).
func (e *Ensemble) WriteLogs(ctx context.Context, w io.Writer) {
	for _, n := range e.nodes {
		logs, err := n.Logs(ctx)
		fmt.Fprintf(w, "===== %s (myid %d, %s) =====\n", n.Name, n.MyID, n.IP())
		if err != nil {
			fmt.Fprintf(w, "(logs unavailable: %v)\n", err)
			continue
		}
		io.WriteString(w, logs)
	}
}

func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }
