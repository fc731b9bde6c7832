package harness

import (
	"cmp"
	"context"
	"io"
	"net"
	"strings"
	"time"

	"github.com/zkchaos/zkchaos/harness/detect"
)

// Mode is what a node is doing, as seen from outside.
type Mode string

const (
	ModeLeader     Mode = "leader"
	ModeFollower   Mode = "follower"
	ModeObserver   Mode = "observer"
	ModeStandalone Mode = "standalone"
	// ModeNotServing: the process answers but is in election or syncing
	// ("This ZooKeeper instance is not currently serving requests").
	ModeNotServing Mode = "not-serving"
	// ModeDown: nothing accepts connections on the client port.
	ModeDown Mode = "down"
)

// Serving reports whether a node in this mode serves clients.
func (m Mode) Serving() bool {
	return m == ModeLeader || m == ModeFollower || m == ModeObserver || m == ModeStandalone
}

// State is a node's answer to `srvr`, parsed.
type State struct {
	Mode Mode
	// Zxid as reported by srvr (-1 when not serving).
	Zxid int64
	// Raw is srvr's whole answer (or the error that replaced it).
	Raw string
	// Err is why the probe got no answer (ModeDown): a refusal (nothing listens,
	// syscall.ECONNREFUSED), a *ReachError (this process could not get there), or
	// a time-out (a paused or overloaded server).
	Err error `json:"-"`
}

// MaxFourLetterAnswer bounds what one four-letter word may send back.
const MaxFourLetterAnswer = 8 << 20

// FourLetter sends a four-letter word to addr (ip:port), dialled from this process,
// and returns the whole answer, within ctx's deadline (3 s when it has none). It is
// for servers outside the harness (zkchaos diagnose --servers); a harness node's
// words go through its ensemble's reach (Node.FourLetter).
func FourLetter(ctx context.Context, addr, word string) (string, error) {
	return fourLetterVia(ctx, func(ctx context.Context) (net.Conn, error) {
		d := net.Dialer{}
		return d.DialContext(ctx, "tcp", addr)
	}, word, 0, 0)
}

// fourLetterVia sends word on a connection from dial and reads the answer to its
// end, within ctx and at most dialMax to connect and totalMax in all (a zero bound:
// ctx's deadline alone, or 2 s and 3 s when ctx has none). A probe must be bounded
// by itself: a paused node accepts the connection and never answers.
func fourLetterVia(ctx context.Context, dial func(context.Context) (net.Conn, error), word string, dialMax, totalMax time.Duration) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		dialMax, totalMax = cmp.Or(dialMax, 2*time.Second), cmp.Or(totalMax, 3*time.Second)
	}
	if totalMax > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, totalMax)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	dctx := ctx
	if dialMax > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, dialMax)
		defer cancel()
	}
	conn, err := dial(dctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	if _, err := io.WriteString(conn, word); err != nil {
		return "", err
	}
	// Answers are a few KiB (cons on a busy server: MiBs); bound them anyway.
	b, err := io.ReadAll(io.LimitReader(conn, MaxFourLetterAnswer))
	if err != nil && len(b) == 0 {
		return "", err
	}
	return string(b), nil
}

// parseSrvr turns srvr's answer into a State (detect.ParseSrvr is the one parser).
func parseSrvr(answer string) State {
	st := State{Mode: ModeNotServing, Zxid: -1, Raw: answer}
	srvr, err := detect.ParseSrvr(strings.NewReader(answer))
	if err != nil {
		// "This ZooKeeper instance is not currently serving requests"
		return st
	}
	switch m := Mode(srvr.Mode); m {
	case ModeLeader, ModeFollower, ModeObserver, ModeStandalone:
		st.Mode = m
	}
	st.Zxid = srvr.Zxid
	return st
}

// A readiness probe's bounds, whatever ctx allows: probes poll often.
const (
	probeDialMax = 2 * time.Second
	probeMax     = 3 * time.Second
)

// probeState is the one readiness probe: `srvr` on a connection from dial (the
// node's client port through its ensemble's reach).
func probeState(ctx context.Context, dial func(context.Context) (net.Conn, error)) State {
	answer, err := fourLetterVia(ctx, dial, "srvr", probeDialMax, probeMax)
	if err != nil {
		return State{Mode: ModeDown, Zxid: -1, Raw: err.Error(), Err: err}
	}
	if answer == "" {
		// Accepted and closed without a word: the server is starting or in election
		// on versions that drop 4lw connections while not serving.
		return State{Mode: ModeNotServing, Zxid: -1, Raw: "(empty srvr answer)"}
	}
	return parseSrvr(answer)
}
