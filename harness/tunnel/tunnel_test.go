package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// start runs Serve and a Client over two in-memory pipes, as `docker exec` joins
// them in real use.
func start(t *testing.T, allow Allow) *Client {
	t.Helper()
	toFar, fromNear := io.Pipe()
	toNear, fromFar := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Serve(toFar, fromFar, allow)
		fromFar.Close()
	}()
	c, err := NewClient(toNear, fromNear, func() error { toNear.Close(); return fromNear.Close() })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not end when the client closed the pipe")
		}
	})
	return c
}

var loopback = AllowPrefixes(netip.MustParsePrefix("127.0.0.0/8"))

// listen serves each connection with fn on 127.0.0.1.
func listen(t *testing.T, fn func(net.Conn)) netip.AddrPort {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); fn(c) }()
		}
	}()
	return netip.MustParseAddrPort(l.Addr().String())
}

// A four-letter word: the server reads the word, answers and closes; the client
// reads to the end.
func TestFourLetterWordArrivesWhole(t *testing.T) {
	answer := strings.Repeat("Zookeeper version: 3.9.3\nMode: follower\n", 5000) // > yamux's window
	addr := listen(t, func(c net.Conn) {
		word := make([]byte, 4)
		if _, err := io.ReadFull(c, word); err != nil || string(word) != "srvr" {
			return
		}
		io.WriteString(c, answer)
	})
	cl := start(t, loopback)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := cl.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.RemoteAddr().String() != addr.String() {
		t.Errorf("RemoteAddr %v, want %v", c.RemoteAddr(), addr)
	}
	io.WriteString(c, "srvr")
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != answer {
		t.Fatalf("got %d bytes, want %d", len(got), len(answer))
	}
}

// Many streams at once, each an echo with its own bytes.
func TestConcurrentStreams(t *testing.T) {
	addr := listen(t, func(c net.Conn) { io.Copy(c, c) })
	cl := start(t, loopback)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := cl.Dial(ctx, addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			msg := strings.Repeat(string(rune('a'+i)), 1000+i)
			go io.WriteString(c, msg)
			buf := make([]byte, len(msg))
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != msg {
				t.Errorf("stream %d: %v", i, err)
			}
		})
	}
	wg.Wait()
}

func TestRefusedIsECONNREFUSED(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(l.Addr().String())
	l.Close()
	cl := start(t, loopback)
	_, err = cl.Dial(context.Background(), addr)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("err %v, want ECONNREFUSED", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Addr.String() != addr.String() {
		t.Fatalf("err %v should be a *net.OpError naming %v", err, addr)
	}
}

// The relay dials only what it is allowed to: the network rule holds at the far end.
func TestForbiddenAddressIsNotDialled(t *testing.T) {
	cl := start(t, AllowPrefixes(netip.MustParsePrefix("10.199.7.0/24")))
	addr := listen(t, func(c net.Conn) { t.Error("the relay dialled a forbidden address") })
	_, err := cl.Dial(context.Background(), addr)
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("err %v, want ErrForbidden", err)
	}
}

func TestDialAfterThePipeEndedFails(t *testing.T) {
	cl := start(t, loopback)
	cl.Close()
	if !cl.Closed() {
		t.Fatal("Closed() false after Close")
	}
	_, err := cl.Dial(context.Background(), netip.MustParseAddrPort("127.0.0.1:1"))
	if err == nil || errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("err %v: want a tunnel error, not a refusal", err)
	}
}

func TestCancelledContextStopsTheDial(t *testing.T) {
	// A far end that never answers: the stream's request is read by nobody.
	toFar, fromNear := io.Pipe()
	toNear, _ := io.Pipe()
	go io.Copy(io.Discard, toFar)
	cl, err := NewClient(toNear, fromNear, func() error { toNear.Close(); return fromNear.Close() })
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = cl.Dial(ctx, netip.MustParseAddrPort("127.0.0.1:2181"))
	if err == nil {
		t.Fatal("dial succeeded without a far end")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("dial took %v after its context ended", d)
	}
}

func TestParseRequest(t *testing.T) {
	addr, d, err := parseRequest("dial 10.199.3.11:2181 3000\n")
	if err != nil || addr.String() != "10.199.3.11:2181" || d != 3*time.Second {
		t.Fatalf("%v %v %v", addr, d, err)
	}
	if _, d, _ := parseRequest("dial 10.199.3.11:2181 999999\n"); d != MaxDialTimeout {
		t.Fatalf("timeout not bounded: %v", d)
	}
	for _, bad := range []string{"", "dial\n", "dial zk1:2181 100\n", "dial 10.0.0.1:1 -5\n", "connect 10.0.0.1:1 5\n"} {
		if _, _, err := parseRequest(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A silent server (a paused node): Close unblocks a pending Read, as net.Conn
// promises, and the relay ends with the pipe although the server never answers.
func TestCloseUnblocksReadAndServeEndsWithASilentServer(t *testing.T) {
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) }) // runs last: the server stays silent while Serve must end
	addr := listen(t, func(c net.Conn) { <-hold })
	cl := start(t, loopback) // its cleanup fails the test if Serve does not end
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := cl.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the Read block (nothing to wait for: a silent server)
	c.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Read returned data from a silent server")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Read still blocked 2 s after Close")
	}
}

func TestReason(t *testing.T) {
	for err, want := range map[error]string{
		&net.OpError{Err: syscall.ECONNREFUSED}: "refused",
		&net.OpError{Err: syscall.ECONNRESET}:   "reset",
		syscall.EPIPE:                           "reset",
		errors.New("no route to host"):          "other",
	} {
		if got := reason(err); got != want {
			t.Errorf("reason(%v) = %q, want %q", err, got, want)
		}
	}
}
