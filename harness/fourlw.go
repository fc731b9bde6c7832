package harness

import (
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
}

// MaxFourLetterAnswer bounds what one four-letter word may send back.
const MaxFourLetterAnswer = 8 << 20

// FourLetter sends a four-letter word to addr (ip:port) and returns the whole
// answer, within ctx's deadline (3 s when it has none). zkchaos diagnose and the
// harness's probes both use it.
func FourLetter(ctx context.Context, addr, word string) (string, error) {
	// Without a deadline in ctx: 2 s to connect, 3 s in all (probes poll often).
	deadline, ok := ctx.Deadline()
	if !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		deadline, _ = ctx.Deadline()
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	if ok {
		d.Timeout = 0 // ctx's deadline bounds the dial
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
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

// probeState is the one readiness probe: `srvr` to the node's container IP.
func probeState(ctx context.Context, addr string) State {
	answer, err := FourLetter(ctx, addr, "srvr")
	if err != nil {
		return State{Mode: ModeDown, Zxid: -1, Raw: err.Error()}
	}
	if answer == "" {
		// Accepted and closed without a word: the server is starting or in election
		// on versions that drop 4lw connections while not serving.
		return State{Mode: ModeNotServing, Zxid: -1, Raw: "(empty srvr answer)"}
	}
	return parseSrvr(answer)
}
