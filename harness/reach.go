package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/zkchaos/zkchaos/harness/tunnel"
)

// Reach is how this process reaches the ports of an ensemble's containers. Every
// connection the harness opens to a node — readiness probes, four-letter words,
// go-zookeeper sessions, the history workload, upgrades — goes through the
// ensemble's reach; nothing else in zkchaos dials a node.
type Reach string

const (
	// ReachAuto chooses ReachDirect where this host holds an address on the
	// ensemble's network (a Linux host whose engine is local), else ReachTunnel.
	ReachAuto Reach = "auto"
	// ReachDirect dials the containers' addresses.
	ReachDirect Reach = "direct"
	// ReachTunnel carries each connection through the engine's API: a gateway
	// container on the ensemble's network runs `zkchaos relay` under `docker exec`,
	// and the exec's standard input and output carry the multiplexed streams (as
	// `kubectl port-forward` does). It needs nothing but the engine's API, so it
	// works on Docker Desktop, in Docker-in-Docker jobs and with a remote engine.
	ReachTunnel Reach = "tunnel"
)

// EnvReach overrides ReachAuto for every ensemble of the process ("direct",
// "tunnel" or "auto"); WithReach overrides both.
const EnvReach = "ZKCHAOS_REACH"

// ParseReach reads "auto", "direct" or "tunnel".
func ParseReach(s string) (Reach, error) {
	switch r := Reach(strings.ToLower(strings.TrimSpace(s))); r {
	case "", ReachAuto:
		return ReachAuto, nil
	case ReachDirect, ReachTunnel:
		return r, nil
	}
	return "", fmt.Errorf("reach %q: want auto, direct or tunnel", s)
}

// WithReach chooses how this process reaches the nodes (default: ReachAuto, or
// $ZKCHAOS_REACH).
func WithReach(r Reach) Option {
	return func(s *settings) error {
		r, err := ParseReach(string(r))
		if err != nil {
			return err
		}
		s.reach = r
		return nil
	}
}

// DialStats counts the connections this process tried to open to containers, by
// path, at the seam: every attempt is counted, whether it connected or not.
type DialStats struct {
	// Direct: dials from this process to a container's address.
	Direct int64
	// Tunnel: connections asked of the tunnel through the engine's API.
	Tunnel int64
	// Failed: attempts (either path) that did not connect, including refusals
	// (a node not listening yet) and addresses off the ensemble's network.
	Failed int64
}

func (d DialStats) String() string {
	return fmt.Sprintf("%d direct, %d tunnelled, %d failed", d.Direct, d.Tunnel, d.Failed)
}

// dialCounters counts dial attempts by outcome (the indices below).
type dialCounters [3]atomic.Int64

const (
	dialedDirect = iota
	dialedTunnel
	dialFailed
)

func (c *dialCounters) snapshot() DialStats {
	return DialStats{Direct: c[dialedDirect].Load(), Tunnel: c[dialedTunnel].Load(), Failed: c[dialFailed].Load()}
}

// count adds one to the route's counter and to the process's.
func (r *route) count(which int) {
	r.counters[which].Add(1)
	processDials[which].Add(1)
}

// processDials counts every dial of every ensemble of this process.
var processDials dialCounters

// ProcessDialStats counts the connections to containers this process opened, over
// every ensemble and route, since it started.
func ProcessDialStats() DialStats { return processDials.snapshot() }

// ReachError says that a container runs but this process could not open a
// connection to it by the chosen path (as opposed to a refusal: nothing listens).
type ReachError struct {
	Reach Reach
	Addr  netip.AddrPort
	Err   error
}

func (e *ReachError) Error() string {
	return fmt.Sprintf("not reachable from this process via %s: %v", e.Reach, e.Err)
}

func (e *ReachError) Unwrap() error { return e.Err }

// route is one zkchaos network as this process reaches it.
type route struct {
	reach   Reach
	network string // Docker network name
	subnet  netip.Prefix
	// gateway container (ReachTunnel only): on the network, runs the relay.
	gwName   string
	gwIP     netip.Addr // zero: the engine chooses
	gwLabels map[string]string

	counters dialCounters

	mu      sync.Mutex
	gw      testcontainers.Container
	client  *tunnel.Client
	stderr  *tailBuffer
	opening chan struct{} // closed when the tunnel being opened is ready or failed
	openErr error
	closed  bool
}

// chooseReach resolves ReachAuto for a network whose bridge gateway is gw: direct
// when one of this host's interfaces holds gw (the bridge is here), else tunnel.
func chooseReach(want Reach, gw netip.Addr) Reach {
	if want == "" || want == ReachAuto {
		if env, err := ParseReach(os.Getenv(EnvReach)); err == nil && env != ReachAuto {
			return env
		}
		if hostHolds(gw) {
			return ReachDirect
		}
		return ReachTunnel
	}
	return want
}

func hostHolds(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if got, ok := netip.AddrFromSlice(ipn.IP); ok && got.Unmap() == ip {
				return true
			}
		}
	}
	return false
}

// describe says how this process reaches the network, for progress lines.
func (r *route) describe() string {
	if r.reach == ReachTunnel {
		return fmt.Sprintf("through the engine's API (tunnel via %s)", r.gwName)
	}
	return "directly (their addresses are routable from here)"
}

// dial opens a connection to addr, which must be on the route's network.
func (r *route) dial(ctx context.Context, addr netip.AddrPort) (net.Conn, error) {
	if !r.subnet.Contains(addr.Addr()) {
		// The network rule, enforced at the seam: only containers of our networks.
		r.count(dialFailed)
		return nil, fmt.Errorf("dial %s: not on network %s (%s): zkchaos dials only its own containers", addr, r.network, r.subnet)
	}
	var c net.Conn
	var err error
	switch r.reach {
	case ReachTunnel:
		c, err = r.dialTunnel(ctx, addr)
	default:
		c, err = r.dialDirect(ctx, addr)
	}
	if err != nil {
		r.count(dialFailed)
		return nil, err
	}
	return c, nil
}

func (r *route) dialDirect(ctx context.Context, addr netip.AddrPort) (net.Conn, error) {
	d := net.Dialer{}
	if _, ok := ctx.Deadline(); !ok {
		d.Timeout = 2 * time.Second
	}
	r.count(dialedDirect)
	c, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil && !answered(err) {
		return nil, &ReachError{Reach: ReachDirect, Addr: addr, Err: err}
	}
	return c, err
}

func (r *route) dialTunnel(ctx context.Context, addr netip.AddrPort) (net.Conn, error) {
	cl, err := r.tunnelClient(ctx)
	if err != nil {
		return nil, &ReachError{Reach: ReachTunnel, Addr: addr, Err: err}
	}
	r.count(dialedTunnel)
	c, err := cl.Dial(ctx, addr)
	if err != nil && !answered(err) {
		return nil, &ReachError{Reach: ReachTunnel, Addr: addr, Err: r.withStderr(err)}
	}
	return c, err
}

// answered: the node's own kernel answered the dial — nothing listens (refused),
// or the server accepted and closed at once (reset, broken pipe: what a server at
// its maxClientCnxns does on some versions). The path itself worked.
func answered(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// withStderr adds what the relay printed, if anything, to a tunnel error.
func (r *route) withStderr(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stderr != nil {
		if s := strings.TrimSpace(r.stderr.String()); s != "" {
			return fmt.Errorf("%w (relay: %s)", err, s)
		}
	}
	return err
}

// startGateway creates and starts the gateway container (ReachTunnel only). Its
// callers have checked the client image (checkClientImage) first.
func (r *route) startGateway(ctx context.Context) error {
	if r.reach != ReachTunnel {
		return nil
	}
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:      ClientImage,
			Name:       r.gwName,
			Labels:     r.gwLabels,
			Networks:   []string{r.network},
			Entrypoint: []string{"/usr/local/bin/zkchaos", "relay", "--idle", "--max", gatewayLifetime.String()},
			ConfigModifier: func(c *container.Config) {
				c.Hostname = "gateway"
			},
			EndpointSettingsModifier: func(eps map[string]*mobynet.EndpointSettings) {
				if ep := eps[r.network]; ep != nil && r.gwIP.IsValid() {
					ep.IPAMConfig = &mobynet.EndpointIPAMConfig{IPv4Address: r.gwIP}
				}
			},
		},
		Logger:  quietTC{},
		Started: true,
	}
	ctr, err := testcontainers.GenericContainer(ctx, req)
	r.mu.Lock()
	r.gw = ctr
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("gateway %s: start: %w", r.gwName, hintReaper(err))
	}
	return nil
}

// gatewayLifetime bounds a gateway that nobody removes (its process was killed).
const gatewayLifetime = 12 * time.Hour

// tunnelClient returns the open tunnel, opening it (again) when there is none.
// One caller opens it, in the background; every caller waits for it within its
// own ctx, so a slow engine never holds a dial past its deadline.
func (r *route) tunnelClient(ctx context.Context) (*tunnel.Client, error) {
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return nil, errors.New("ensemble terminated")
		}
		if r.client != nil && !r.client.Closed() {
			cl := r.client
			r.mu.Unlock()
			return cl, nil
		}
		if r.gw == nil {
			r.mu.Unlock()
			return nil, fmt.Errorf("no gateway container on %s", r.network)
		}
		if r.opening == nil {
			r.opening = make(chan struct{})
			r.openErr = nil
			go r.open(context.WithoutCancel(ctx), r.gw.GetContainerID(), r.opening)
		}
		opening := r.opening
		r.mu.Unlock()
		select {
		case <-opening:
			r.mu.Lock()
			err := r.openErr
			r.mu.Unlock()
			if err != nil {
				return nil, err
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("opening the tunnel: %w", ctx.Err())
		}
	}
}

// open runs `zkchaos relay` in the gateway and makes its standard input and
// output the tunnel; done is closed when it is ready or has failed (openErr).
func (r *route) open(ctx context.Context, id string, done chan struct{}) {
	cl, stderr, err := r.exec(ctx, id)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil && r.closed {
		_ = cl.Close()
		err = errors.New("ensemble terminated")
	}
	if err == nil {
		r.client, r.stderr = cl, stderr
	}
	r.openErr, r.opening = err, nil
	close(done)
}

func (r *route) exec(ctx context.Context, id string) (*tunnel.Client, *tailBuffer, error) {
	cli, err := Docker(ctx)
	if err != nil {
		return nil, nil, err
	}
	// The exec outlives this call: it carries every later connection (the engine's
	// client does not tie a hijacked connection to the context).
	octx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	created, err := cli.ExecCreate(octx, id, client.ExecCreateOptions{
		Cmd:         []string{"/usr/local/bin/zkchaos", "relay"},
		AttachStdin: true, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("exec relay in %s: %w", r.gwName, err)
	}
	att, err := cli.ExecAttach(octx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("attach relay in %s: %w", r.gwName, err)
	}
	pr, pw := io.Pipe()
	stderr := &tailBuffer{max: 4096}
	go func() {
		_, err := stdcopy.StdCopy(pw, stderr, att.Reader)
		if err == nil {
			err = io.EOF
		}
		pw.CloseWithError(err)
	}()
	cl, err := tunnel.NewClient(pr, att.Conn, func() error {
		att.Close()
		return pr.Close()
	})
	if err != nil {
		att.Close()
		return nil, nil, err
	}
	return cl, stderr, nil
}

// close ends the tunnel and removes the gateway container.
func (r *route) close(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	cl, gw := r.client, r.gw
	r.client, r.gw = nil, nil
	r.mu.Unlock()
	if cl != nil {
		_ = cl.Close()
	}
	if gw != nil {
		if err := gw.Terminate(ctx, testcontainers.StopTimeout(0)); err != nil && !isNotFound(err) {
			return fmt.Errorf("gateway %s: remove: %w", r.gwName, err)
		}
	}
	return nil
}

// zkDialer adapts the route to go-zookeeper's Dialer.
func (r *route) zkDialer() zk.Dialer {
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		addr, err := netip.ParseAddrPort(address)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", address, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return r.dial(ctx, addr)
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// quietTC keeps testcontainers' per-container log lines out of the caller's
// output without touching its process-wide default logger.
type quietTC struct{}

func (quietTC) Printf(string, ...any) {}

// Reach is the path this process uses to reach the ensemble's nodes (ReachDirect
// or ReachTunnel: ReachAuto is resolved when the ensemble starts).
func (e *Ensemble) Reach() Reach {
	if e.route == nil {
		return ""
	}
	return e.route.reach
}

// DialStats counts the connections this process opened to the ensemble's
// containers, by path.
func (e *Ensemble) DialStats() DialStats {
	if e.route == nil {
		return DialStats{}
	}
	return e.route.counters.snapshot()
}

// Dial opens a TCP connection from this process to addr (ip:port), which must be on
// the ensemble's network, through the ensemble's reach. A refusal (nothing
// listens) is syscall.ECONNREFUSED; a path that fails is a *ReachError.
func (e *Ensemble) Dial(ctx context.Context, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("ensemble %s: dial %q: %w", e.ID, addr, err)
	}
	return e.route.dial(ctx, ap)
}

// ZKDialer is the ensemble's reach as go-zookeeper's Dialer:
//
//	zk.Connect(ens.ClientAddrs(), 10*time.Second, zk.WithDialer(ens.ZKDialer()))
func (e *Ensemble) ZKDialer() zk.Dialer { return e.route.zkDialer() }

// Dial opens a TCP connection from this process to one of the node's ports
// (ClientPort, QuorumPort, ElectionPort…) through the ensemble's reach.
func (n *Node) Dial(ctx context.Context, port int) (net.Conn, error) {
	return n.ens.route.dial(ctx, netip.AddrPortFrom(n.addr(), uint16(port)))
}

// zkchaosNetworks holds every network the harness creates (10.199.X.0/24).
var zkchaosNetworks = netip.MustParsePrefix("10.199.0.0/16")

// Servers reaches servers named by address, for tools that take addresses from
// a user (zkchaos diagnose --servers). An address on a network a zkchaos run
// created — a harness ensemble's node — goes through that network's reach: directly
// where this host can route to it, else through a gateway container this process
// starts on the network and Close removes. Any other address (an operator's own
// server) is dialled from this process, as the user asked.
type Servers struct {
	routes []*route
}

// OpenServers prepares the routes for addrs (ip:port or host:port). The engine is
// consulted only for addresses inside 10.199.0.0/16, where zkchaos's networks are.
func OpenServers(ctx context.Context, addrs ...string) (*Servers, error) {
	s := &Servers{}
	for _, a := range addrs {
		ap, err := netip.ParseAddrPort(strings.TrimSpace(a))
		if err != nil || !zkchaosNetworks.Contains(ap.Addr()) || s.routeFor(ap) != nil {
			continue
		}
		r, err := networkRoute(ctx, ap.Addr())
		if err != nil {
			return s, err
		}
		if r == nil {
			continue
		}
		if r.reach == ReachTunnel {
			if err := checkClientImage(ctx); err != nil {
				return s, err
			}
		}
		if err := r.startGateway(ctx); err != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			_ = r.close(cctx)
			cancel()
			return s, err
		}
		s.routes = append(s.routes, r)
	}
	return s, nil
}

func (s *Servers) routeFor(ap netip.AddrPort) *route {
	for _, r := range s.routes {
		if r.subnet.Contains(ap.Addr()) {
			return r
		}
	}
	return nil
}

// networkRoute finds the zkchaos network holding ip (nil when none does).
func networkRoute(ctx context.Context, ip netip.Addr) (*route, error) {
	cli, err := Docker(ctx)
	if err != nil {
		return nil, nil // no engine here: the address is not one of ours
	}
	filter := make(client.Filters).Add("label", LabelManaged+"=1")
	list, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	if err != nil {
		return nil, fmt.Errorf("list zkchaos networks: %w", err)
	}
	for _, n := range list.Items {
		for _, c := range n.IPAM.Config {
			if !c.Subnet.IsValid() || !c.Subnet.Contains(ip) {
				continue
			}
			gw := c.Gateway
			if !gw.IsValid() {
				gw = c.Subnet.Addr().Next()
			}
			return &route{
				reach:    chooseReach(ReachAuto, gw),
				network:  n.Name,
				subnet:   c.Subnet,
				gwName:   fmt.Sprintf("%s-gateway-%s", n.Name, newID()),
				gwLabels: runLabels(""),
			}, nil
		}
	}
	return nil, nil
}

// Reach says how addr is reached: "direct" for an address outside zkchaos's
// networks too.
func (s *Servers) Reach(addr string) Reach {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		if r := s.routeFor(ap); r != nil {
			return r.reach
		}
	}
	return ReachDirect
}

// FourLetter sends a four-letter word to addr and returns the whole answer, within
// ctx (3 s when ctx has no deadline).
func (s *Servers) FourLetter(ctx context.Context, addr, word string) (string, error) {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		if r := s.routeFor(ap); r != nil {
			return fourLetterVia(ctx, func(ctx context.Context) (net.Conn, error) { return r.dial(ctx, ap) }, word, 0, 0)
		}
	}
	return FourLetter(ctx, addr, word)
}

// Close removes the gateways OpenServers started.
func (s *Servers) Close(ctx context.Context) error {
	var errs []error
	for _, r := range s.routes {
		errs = append(errs, r.close(ctx))
	}
	return errors.Join(errs...)
}

// ReachSource is the address the nodes see this process's connections come from:
// the bridge's own address on the ensemble's network (ReachDirect), or the
// gateway container's (ReachTunnel). A fault that cuts this process off from a node
// (iptables in the node's namespace) names it.
func (e *Ensemble) ReachSource() netip.Addr {
	if e.route != nil && e.route.reach == ReachTunnel {
		return e.route.gwIP
	}
	return e.Subnet.Addr().Next()
}
