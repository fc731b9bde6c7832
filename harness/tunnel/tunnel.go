// Package tunnel carries TCP connections over one byte stream, the way
// `kubectl port-forward` carries them over the API server: many streams are
// multiplexed (yamux) over a single pipe, and each stream asks the far end to dial
// one address and then splices bytes both ways.
//
// zkchaos uses it where this process cannot route to the containers' addresses
// (Docker Desktop, Docker-in-Docker, a remote engine): the far end is `zkchaos
// relay`, started by `docker exec` in a gateway container on the ensemble's network,
// and the pipe is the exec's standard input and output, so the only thing this
// process talks to is the engine's API. The package knows nothing of Docker: Serve
// and NewClient take any reader and writer, and the tests run both ends in memory.
package tunnel

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/yamux"
)

// MaxDialTimeout bounds how long the far end tries one dial.
const MaxDialTimeout = 10 * time.Second

// Reasons a dial failed at the far end; Client.Dial maps them to errors that
// errors.Is recognises. A refused dial is syscall.ECONNREFUSED and a reset one
// syscall.ECONNRESET, as they are for net.Dial: the far end reached the address.
var (
	// ErrForbidden: the address is not on a network the far end may dial.
	ErrForbidden = errors.New("address not allowed by the relay")
	// ErrTimeout: the far end's dial did not complete in time.
	ErrTimeout = errors.New("dial timed out")
)

func config() *yamux.Config {
	c := yamux.DefaultConfig()
	c.LogOutput = io.Discard
	c.KeepAliveInterval = 10 * time.Second
	c.StreamOpenTimeout = 15 * time.Second
	c.StreamCloseTimeout = 30 * time.Second
	return c
}

// pipe joins a reader and a writer into the ReadWriteCloser yamux runs on.
type pipe struct {
	io.Reader
	io.Writer
	close func() error
}

func (p pipe) Close() error {
	if p.close != nil {
		return p.close()
	}
	return nil
}

// Allow decides whether the far end may dial addr.
type Allow func(addr netip.AddrPort) error

// AllowPrefixes allows addresses inside any of the given prefixes.
func AllowPrefixes(prefixes ...netip.Prefix) Allow {
	return func(addr netip.AddrPort) error {
		for _, p := range prefixes {
			if p.Contains(addr.Addr()) {
				return nil
			}
		}
		return fmt.Errorf("%w: %s is outside %v", ErrForbidden, addr, prefixes)
	}
}

// LocalPrefixes lists the IPv4 networks of this host's interfaces, loopback
// excluded: a relay in a container on an ensemble's network dials that network
// and nothing else.
func LocalPrefixes() ([]netip.Prefix, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		p, err := netip.ParsePrefix(ipn.String())
		if err != nil || !p.Addr().Is4() || p.Addr().IsLoopback() {
			continue
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Serve is the far end: it accepts streams on in/out until in ends, dials the
// address each stream names (if allow lets it) and splices the bytes.
func Serve(in io.Reader, out io.Writer, allow Allow) error {
	sess, err := yamux.Server(pipe{Reader: in, Writer: out}, config())
	if err != nil {
		return err
	}
	// The connections to the nodes: closed when the pipe ends, or a node that
	// never answers (paused, dropping packets) would keep the relay alive.
	up := &upstreams{conns: map[net.Conn]struct{}{}}
	var wg sync.WaitGroup
	defer func() {
		sess.Close()
		up.closeAll()
		wg.Wait()
	}()
	for {
		st, err := sess.Accept()
		if err != nil {
			// The near end closed the pipe: the normal end.
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, yamux.ErrSessionShutdown) {
				return nil
			}
			return err
		}
		wg.Go(func() { serveStream(st, allow, up) })
	}
}

type upstreams struct {
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// add registers c; false when the pipe has ended already (then c is closed).
func (u *upstreams) add(c net.Conn) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		c.Close()
		return false
	}
	u.conns[c] = struct{}{}
	return true
}

func (u *upstreams) remove(c net.Conn) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.conns, c)
}

func (u *upstreams) closeAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closed = true
	for c := range u.conns {
		c.Close()
	}
}

// The request line: "dial <ip:port> <timeout ms>\n"; the answer: "ok\n" or
// "err <refused|timeout|forbidden|other> <message>\n".
func serveStream(st net.Conn, allow Allow, up *upstreams) {
	defer st.Close()
	_ = st.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReaderSize(st, 256).ReadString('\n')
	if err != nil {
		return
	}
	_ = st.SetReadDeadline(time.Time{})
	addr, timeout, err := parseRequest(line)
	if err != nil {
		fmt.Fprintf(st, "err other %v\n", err)
		return
	}
	if err := allow(addr); err != nil {
		fmt.Fprintf(st, "err forbidden %v\n", err)
		return
	}
	c, err := net.DialTimeout("tcp", addr.String(), timeout)
	if err != nil {
		fmt.Fprintf(st, "err %s %v\n", reason(err), err)
		return
	}
	defer c.Close()
	if !up.add(c) {
		return
	}
	defer up.remove(c)
	if _, err := io.WriteString(st, "ok\n"); err != nil {
		return
	}
	splice(st, c.(*net.TCPConn))
}

func parseRequest(line string) (netip.AddrPort, time.Duration, error) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "dial" {
		return netip.AddrPort{}, 0, fmt.Errorf("bad request %q", strings.TrimSpace(line))
	}
	addr, err := netip.ParseAddrPort(f[1])
	if err != nil {
		return netip.AddrPort{}, 0, err
	}
	ms, err := strconv.Atoi(f[2])
	if err != nil || ms <= 0 {
		return netip.AddrPort{}, 0, fmt.Errorf("bad timeout %q", f[2])
	}
	return addr, min(time.Duration(ms)*time.Millisecond, MaxDialTimeout), nil
}

func reason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "other"
}

// splice copies both ways; each side's end of input is passed on as a half-close,
// so a four-letter word's "answer, then close" arrives whole.
func splice(st net.Conn, c *net.TCPConn) {
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := io.Copy(c, st); err != nil {
			// Not an end of input but a broken stream: drop the node's side too.
			_ = c.Close()
			return
		}
		_ = c.CloseWrite()
	})
	_, _ = io.Copy(st, c)
	_ = st.Close() // yamux: a half-close (FIN); reading on goes on
	wg.Wait()
}

// Client is the near end of one pipe.
type Client struct {
	sess *yamux.Session
}

// NewClient runs the near end over r (what the far end writes) and w (what it
// reads); closeFn, if not nil, is called when the client is closed.
func NewClient(r io.Reader, w io.Writer, closeFn func() error) (*Client, error) {
	sess, err := yamux.Client(pipe{Reader: r, Writer: w, close: closeFn}, config())
	if err != nil {
		return nil, err
	}
	return &Client{sess: sess}, nil
}

// Closed reports whether the pipe has ended (then every Dial fails).
func (c *Client) Closed() bool { return c.sess.IsClosed() }

// Close ends the pipe and every stream on it.
func (c *Client) Close() error { return c.sess.Close() }

// Dial opens a stream and asks the far end to dial addr (ip:port). The error says
// whether the pipe failed or the far end's dial did (refused, timed out,
// forbidden).
func (c *Client) Dial(ctx context.Context, addr netip.AddrPort) (net.Conn, error) {
	timeout := 3 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
		if timeout <= 0 {
			return nil, opError(addr, context.DeadlineExceeded)
		}
	}
	timeout = min(timeout, MaxDialTimeout)
	st, err := c.sess.OpenStream()
	if err != nil {
		return nil, opError(addr, fmt.Errorf("tunnel: %w", err))
	}
	_ = st.SetDeadline(time.Now().Add(timeout + 2*time.Second))
	stop := context.AfterFunc(ctx, func() { _ = st.SetDeadline(time.Now()) })
	defer stop()
	if _, err := fmt.Fprintf(st, "dial %s %d\n", addr, max(timeout.Milliseconds(), 1)); err != nil {
		st.Close()
		return nil, opError(addr, fmt.Errorf("tunnel: %w", err))
	}
	// Read the answer byte by byte: what follows it is the connection's own data.
	var line []byte
	one := make([]byte, 1)
	for len(line) < 1024 {
		if _, err := io.ReadFull(st, one); err != nil {
			st.Close()
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return nil, opError(addr, fmt.Errorf("tunnel: no answer: %w", err))
		}
		if one[0] == '\n' {
			break
		}
		line = append(line, one[0])
	}
	if !stop() && ctx.Err() != nil {
		st.Close()
		return nil, opError(addr, ctx.Err())
	}
	_ = st.SetDeadline(time.Time{})
	answer := string(line)
	if answer == "ok" {
		return &conn{Stream: st, remote: net.TCPAddrFromAddrPort(addr)}, nil
	}
	st.Close()
	kind, msg, _ := strings.Cut(strings.TrimPrefix(answer, "err "), " ")
	switch kind {
	case "refused":
		return nil, opError(addr, fmt.Errorf("%w (%s)", syscall.ECONNREFUSED, msg))
	case "reset":
		return nil, opError(addr, fmt.Errorf("%w (%s)", syscall.ECONNRESET, msg))
	case "timeout":
		return nil, opError(addr, fmt.Errorf("%w: %s", ErrTimeout, msg))
	case "forbidden":
		return nil, opError(addr, fmt.Errorf("%w: %s", ErrForbidden, msg))
	}
	return nil, opError(addr, errors.New(answer))
}

func opError(addr netip.AddrPort, err error) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(addr), Err: err}
}

// conn is a stream that names its real peer.
type conn struct {
	*yamux.Stream
	remote net.Addr
}

func (c *conn) RemoteAddr() net.Addr { return c.remote }

// Close ends the connection as net.Conn promises: a Read blocked in another
// goroutine returns at once (yamux's Close alone is a half-close that waits for
// the far end's FIN).
func (c *conn) Close() error {
	err := c.Stream.Close()
	_ = c.Stream.SetDeadline(time.Now())
	return err
}
