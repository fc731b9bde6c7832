package fle

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Peer is one fake election participant: it answers the real server's votes with
// a fixed vote of its own, as a running FOLLOWING or LEADING member does.
type Peer struct {
	SID int64
	// ElectionListen accepts the real server's election connections (":3888").
	// Being the larger id, the peer drops them and dials back, as QuorumCnxManager does.
	ElectionListen string
	// QuorumListen, for the announced leader: accepts the follower's connection to
	// the leader's quorum port and reads its FOLLOWERINFO (":2889"). Empty: none.
	QuorumListen string
	// Advertise is this peer's election address in a V1 handshake ("fle:3888").
	Advertise string
	// Vote is what the peer answers; Config is filled in when Format is FormatAuto.
	Vote Notification
}

// FormatAuto answers in the real server's own format: v2 echoing the config it
// sent (3.5+), else the 40-byte v1 message (3.4.6+).
const FormatAuto = "auto"

// Replay is a set of fake peers talking to one real server.
type Replay struct {
	// Target is the real server's election address ("zk1:3888") and TargetSID its myid.
	Target    string
	TargetSID int64
	// Handshake is HandshakeSID (3.4) or HandshakeV1 (3.5+).
	Handshake string
	// Format of the peers' notifications: Format28, Format40, FormatV2 or FormatAuto.
	Format string
	Peers  []Peer
	// Duration bounds the whole replay; it stops by itself.
	Duration time.Duration
	// Event receives everything that happens, in order per peer (called concurrently).
	Event func(Event)
}

// Event is one thing a fake peer saw or did.
type Event struct {
	At   float64 `json:"at"` // seconds since the replay started
	Peer int64   `json:"peer"`
	// Kind: listen, accepted, handshake-in, dropped, connected, sent, received,
	// followerinfo, error, done.
	Kind         string        `json:"kind"`
	Text         string        `json:"text,omitempty"`
	Handshake    *Handshake    `json:"handshake,omitempty"`
	Notification *Notification `json:"notification,omitempty"`
	FollowerInfo *FollowerInfo `json:"followerInfo,omitempty"`
	// Hex is the raw payload received, for fixtures.
	Hex string `json:"hex,omitempty"`
}

// Validate checks a replay before it runs.
func (r *Replay) Validate() error {
	if _, _, err := net.SplitHostPort(r.Target); err != nil {
		return fmt.Errorf("fle: target %q: %w", r.Target, err)
	}
	if r.Handshake != HandshakeSID && r.Handshake != HandshakeV1 {
		return fmt.Errorf("fle: handshake %q: want %s or %s", r.Handshake, HandshakeSID, HandshakeV1)
	}
	switch r.Format {
	case Format28, Format40, FormatV2, FormatAuto:
	default:
		return fmt.Errorf("fle: format %q: want %s, %s, %s or %s", r.Format, Format28, Format40, FormatV2, FormatAuto)
	}
	if r.Duration <= 0 || r.Duration > 10*time.Minute {
		return fmt.Errorf("fle: duration %s: want (0, 10m]", r.Duration)
	}
	if len(r.Peers) == 0 {
		return errors.New("fle: no peers")
	}
	seen := map[int64]bool{r.TargetSID: true}
	for _, p := range r.Peers {
		if seen[p.SID] {
			return fmt.Errorf("fle: sid %d used twice (never reuse the real server's own)", p.SID)
		}
		seen[p.SID] = true
		if p.SID <= r.TargetSID {
			return fmt.Errorf("fle: peer sid %d must be larger than the target's %d: only a larger id keeps a connection", p.SID, r.TargetSID)
		}
		if r.Handshake == HandshakeV1 && p.Advertise == "" {
			return fmt.Errorf("fle: peer %d: a V1 handshake needs an advertised address", p.SID)
		}
	}
	return nil
}

// Run runs the replay until Duration has passed or ctx ends.
func (r *Replay) Run(ctx context.Context) error {
	if err := r.Validate(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, r.Duration)
	defer cancel()
	start := time.Now()
	var emu sync.Mutex
	emit := func(e Event) {
		e.At = time.Since(start).Seconds()
		if r.Event != nil {
			emu.Lock()
			r.Event(e)
			emu.Unlock()
		}
	}
	var wg sync.WaitGroup
	var lns []net.Listener
	for i := range r.Peers {
		p := &peerRun{Peer: r.Peers[i], r: r, emit: emit, redial: make(chan struct{}, 1)}
		for _, l := range []struct {
			addr  string
			serve func(context.Context, net.Conn)
		}{{p.ElectionListen, p.serveElection}, {p.QuorumListen, p.serveQuorum}} {
			if l.addr == "" {
				continue
			}
			ln, err := net.Listen("tcp", l.addr)
			if err != nil {
				for _, ln := range lns {
					ln.Close()
				}
				return fmt.Errorf("fle: peer %d: %w", p.SID, err)
			}
			lns = append(lns, ln)
			emit(Event{Peer: p.SID, Kind: "listen", Text: ln.Addr().String()})
			wg.Add(1)
			go func() { defer wg.Done(); accept(ctx, ln, l.serve) }()
		}
		wg.Add(1)
		go func() { defer wg.Done(); p.dialLoop(ctx) }()
	}
	<-ctx.Done()
	for _, ln := range lns {
		ln.Close()
	}
	wg.Wait()
	emit(Event{Kind: "done", Text: fmt.Sprintf("after %.1f s", time.Since(start).Seconds())})
	return nil
}

func accept(ctx context.Context, ln net.Listener, serve func(context.Context, net.Conn)) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			stop := context.AfterFunc(ctx, func() { c.Close() })
			defer stop()
			serve(ctx, c)
		}()
	}
}

type peerRun struct {
	Peer
	r      *Replay
	emit   func(Event)
	redial chan struct{}

	mu   sync.Mutex
	conn net.Conn
	last Notification // the target's last notification
}

// serveElection takes an election connection from the real server: the smaller
// id's connection is dropped and dialled back (QuorumCnxManager.handleConnection).
func (p *peerRun) serveElection(_ context.Context, c net.Conn) {
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	h, err := ReadHandshake(c)
	if err != nil {
		p.emit(Event{Peer: p.SID, Kind: "error", Text: "incoming handshake: " + err.Error()})
		return
	}
	p.emit(Event{Peer: p.SID, Kind: "handshake-in", Handshake: &h, Text: "from " + c.RemoteAddr().String()})
	if h.SID < p.SID {
		p.emit(Event{Peer: p.SID, Kind: "dropped", Text: fmt.Sprintf("sid %d < %d: connection dropped, dialling back", h.SID, p.SID)})
		select {
		case p.redial <- struct{}{}:
		default:
		}
	}
}

// serveQuorum is the announced leader's quorum port: it reads the follower's first
// packet, which proves the real server decided to follow this peer.
func (p *peerRun) serveQuorum(_ context.Context, c net.Conn) {
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	fi, err := ReadFollowerInfo(c)
	if err != nil {
		p.emit(Event{Peer: p.SID, Kind: "error", Text: "quorum port: " + err.Error()})
		return
	}
	p.emit(Event{Peer: p.SID, Kind: "followerinfo", FollowerInfo: &fi,
		Text: fmt.Sprintf("server %d connected to the leader's quorum port from %s and registered (accepted epoch 0x%x)", fi.SID, c.RemoteAddr(), fi.AcceptedEpoch)})
}

// dialLoop keeps one election connection to the target: dial, handshake, send the
// vote, answer every LOOKING notification; redial on loss or on a dropped
// incoming connection.
func (p *peerRun) dialLoop(ctx context.Context) {
	for ctx.Err() == nil {
		if err := p.session(ctx); err != nil && ctx.Err() == nil {
			p.emit(Event{Peer: p.SID, Kind: "error", Text: err.Error()})
		}
		select {
		case <-ctx.Done():
		case <-p.redial:
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (p *peerRun) session(ctx context.Context) error {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", p.r.Target)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	hs, err := EncodeHandshake(p.r.Handshake, p.SID, p.Advertise)
	if err != nil {
		return err
	}
	if _, err := c.Write(hs); err != nil { // one write: receivers read the address with one read
		return err
	}
	p.emit(Event{Peer: p.SID, Kind: "connected", Text: fmt.Sprintf("dialled %s, handshake %s sent (%d bytes)", p.r.Target, p.r.Handshake, len(hs))})
	// A redial request from now on is about an older connection.
	select {
	case <-p.redial:
	default:
	}
	if p.r.Format != FormatAuto {
		if err := p.send(c); err != nil {
			return err
		}
	}
	for {
		payload, err := ReadFrame(c)
		if err != nil {
			return fmt.Errorf("election connection: %w", err)
		}
		n, err := DecodeNotification(payload)
		p.emit(Event{Peer: p.SID, Kind: "received", Notification: &n, Hex: hex.EncodeToString(payload), Text: errText(err)})
		if err != nil {
			continue
		}
		p.mu.Lock()
		p.last = n
		p.mu.Unlock()
		// A running member answers a LOOKING server with its current vote.
		if n.State == Looking {
			if err := p.send(c); err != nil {
				return err
			}
		}
	}
}

func (p *peerRun) send(c net.Conn) error {
	v, format := p.Vote, p.r.Format
	if format == FormatAuto {
		p.mu.Lock()
		last := p.last
		p.mu.Unlock()
		format = Format40
		if last.Version >= 2 {
			format, v.Config = FormatV2, last.Config
		}
	}
	payload, err := v.Encode(format)
	if err != nil {
		return err
	}
	if err := WriteFrame(c, payload); err != nil {
		return err
	}
	v.Size = len(payload)
	p.emit(Event{Peer: p.SID, Kind: "sent", Notification: &v, Text: "format " + format})
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
