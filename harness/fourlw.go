package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
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
	// Zxid as printed by srvr, e.g. "0x100000002" ("" when not serving).
	Zxid string
	// Raw is srvr's whole answer (or the error that replaced it).
	Raw string
}

const notServing = "This ZooKeeper instance is not currently serving requests"

// FourLetter sends a four-letter word to addr (ip:port) and returns the whole answer.
func FourLetter(ctx context.Context, addr, word string) (string, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	deadline := time.Now().Add(3 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	if _, err := io.WriteString(conn, word); err != nil {
		return "", err
	}
	// Answers are a few KiB; bound them anyway.
	b, err := io.ReadAll(io.LimitReader(conn, 1<<20))
	if err != nil && len(b) == 0 {
		return "", err
	}
	return string(b), nil
}

// parseSrvr turns srvr's answer into a State.
func parseSrvr(answer string) State {
	st := State{Mode: ModeNotServing, Raw: answer}
	if strings.Contains(answer, notServing) {
		return st
	}
	sc := bufio.NewScanner(strings.NewReader(answer))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Mode":
			switch Mode(v) {
			case ModeLeader, ModeFollower, ModeObserver, ModeStandalone:
				st.Mode = Mode(v)
			}
		case "Zxid":
			st.Zxid = v
		}
	}
	return st
}

// probeState is the one readiness probe: `srvr` to the node's container IP.
func probeState(ctx context.Context, addr string) State {
	answer, err := FourLetter(ctx, addr, "srvr")
	if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) || errors.Is(err, context.DeadlineExceeded) {
			return State{Mode: ModeDown, Raw: err.Error()}
		}
		return State{Mode: ModeDown, Raw: fmt.Sprintf("srvr: %v", err)}
	}
	if answer == "" {
		// Accepted and closed without a word: the server is starting or in election
		// on versions that drop 4lw connections while not serving.
		return State{Mode: ModeNotServing, Raw: "(empty srvr answer)"}
	}
	return parseSrvr(answer)
}
