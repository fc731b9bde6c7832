package fle

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The two votes quoted in docs/F1.md (a 3.3 log): leader 3 LEADING at round 831
// and node 2 FOLLOWING at round 832.
var quotedLeader = Notification{State: Leading, Leader: 3, Zxid: 73014444480, Round: 831, PeerEpoch: 0x11}

func TestNotificationRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		format string
		size   int
	}{{Format28, 28}, {Format40, 40}, {FormatV2, 44 + len("server.1=a:1:2:participant\nversion=0")}} {
		n := quotedLeader
		if tc.format == FormatV2 {
			n.Config = "server.1=a:1:2:participant\nversion=0"
		}
		p, err := n.Encode(tc.format)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != tc.size {
			t.Fatalf("%s: %d bytes, want %d", tc.format, len(p), tc.size)
		}
		got, err := DecodeNotification(p)
		if err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		if got.State != n.State || got.Leader != 3 || got.Zxid != n.Zxid || got.Round != 831 || got.Config != n.Config {
			t.Fatalf("%s: decoded %v, want %v", tc.format, got, n)
		}
	}
	// 28 bytes: the peer epoch comes from the zxid, as 3.4+ receivers derive it.
	p, _ := Notification{State: Following, Leader: 3, Zxid: 77309411648, Round: 832}.Encode(Format28)
	got, _ := DecodeNotification(p)
	if got.PeerEpoch != 0x12 {
		t.Fatalf("28-byte peer epoch 0x%x, want 0x12 (zxid 77309411648 >> 32)", got.PeerEpoch)
	}
}

func TestDecodeRejects(t *testing.T) {
	if _, err := DecodeNotification(make([]byte, 27)); err != ErrShort {
		t.Fatalf("27 bytes: %v", err)
	}
	if _, err := DecodeNotification(make([]byte, 30)); err == nil {
		t.Fatal("30 bytes accepted")
	}
	p, _ := Notification{Config: "x"}.Encode(FormatV2)
	binary.BigEndian.PutUint32(p[40:], 99)
	if _, err := DecodeNotification(p); err == nil {
		t.Fatal("config length past the end accepted")
	}
}

func TestHandshake(t *testing.T) {
	b, _ := EncodeHandshake(HandshakeSID, 7, "")
	if len(b) != 8 {
		t.Fatalf("3.4 handshake %d bytes", len(b))
	}
	h, err := ReadHandshake(bytes.NewReader(b))
	if err != nil || h.SID != 7 || h.Protocol != 0 {
		t.Fatalf("%+v %v", h, err)
	}
	b, _ = EncodeHandshake(HandshakeV1, 2, "fle:3888")
	if len(b) != 20+len("fle:3888") {
		t.Fatalf("v1 handshake %d bytes", len(b))
	}
	h, err = ReadHandshake(bytes.NewReader(b))
	if err != nil || h.SID != 2 || h.Protocol != ProtocolVersionV1 || len(h.Addrs) != 1 || h.Addrs[0] != "fle:3888" {
		t.Fatalf("%+v %v", h, err)
	}
	var bad bytes.Buffer
	_ = binary.Write(&bad, binary.BigEndian, int64(-5))
	if _, err := ReadHandshake(&bad); err == nil {
		t.Fatal("protocol version -5 accepted")
	}
	if _, err := EncodeHandshake(HandshakeV1, 2, ""); err == nil {
		t.Fatal("v1 without an address")
	}
}

// followerInfo builds the packet Learner.registerWithLeader writes.
func followerInfo(sid int64, dataLen int32) []byte {
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.BigEndian, v) }
	w(PacketFollowerInfo)
	w(int64(0x12) << 32)
	w(dataLen)
	w(sid)
	w(int32(0x10000))
	if dataLen == 20 {
		w(int64(0))
	}
	w(int32(-1))
	return b.Bytes()
}

func TestReadFollowerInfo(t *testing.T) {
	for _, dl := range []int32{12, 20} {
		p := followerInfo(1, dl)
		fi, err := ReadFollowerInfo(bytes.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.SID != 1 || fi.AcceptedEpoch != 0x12 || fi.ProtocolVersion != 0x10000 || fi.Size != len(p) {
			t.Fatalf("%d: %+v", dl, fi)
		}
	}
	if _, err := ReadFollowerInfo(bytes.NewReader(followerInfo(1, 13))); err == nil {
		t.Fatal("13-byte LearnerInfo accepted")
	}
}

// TestReplayAgainstFakeServer runs two peers against an in-process stand-in for a
// LOOKING server on 127.0.0.1: it reads each peer's handshake, sends one v2 LOOKING
// vote, expects the peer's answer in v2 with its own config echoed, then follows
// "leader 3" by sending FOLLOWERINFO to the leader's quorum port.
func TestReplayAgainstFakeServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	quorum, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	qaddr := quorum.Addr().String()
	quorum.Close() // the leader peer listens there

	const cfg = "server.1=zk1:2888:3888:participant\nversion=0"
	answers := make(chan Notification, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := ReadHandshake(c); err != nil {
					return
				}
				p, _ := Notification{State: Looking, Leader: 1, Zxid: 0, Round: 1, PeerEpoch: 0, Config: cfg}.Encode(FormatV2)
				_ = WriteFrame(c, p)
				reply, err := ReadFrame(c)
				if err != nil {
					return
				}
				n, _ := DecodeNotification(reply)
				answers <- n
			}()
		}
	}()
	var mu sync.Mutex
	var events []Event
	r := Replay{
		Target: ln.Addr().String(), TargetSID: 1, Handshake: HandshakeV1, Format: FormatAuto,
		Duration: 5 * time.Second,
		Peers: []Peer{
			{SID: 2, Advertise: "fle:3888", Vote: Notification{State: Following, Leader: 3, Zxid: 77309411648, Round: 832, PeerEpoch: 0x12}},
			{SID: 3, Advertise: "fle:3889", QuorumListen: qaddr, Vote: Notification{State: Leading, Leader: 3, Zxid: 73014444480, Round: 831, PeerEpoch: 0x12}},
		},
		Event: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	got := map[int64]Notification{}
	for len(got) < 2 {
		select {
		case n := <-answers:
			got[n.Leader*10+int64(n.State)] = n
			if n.Version != 2 || n.Config != cfg || n.Leader != 3 {
				t.Fatalf("answer %v: want v2 with the server's config echoed, leader 3", n)
			}
		case <-time.After(4 * time.Second):
			t.Fatalf("answers: %v", got)
		}
	}
	var qc net.Conn
	for i := 0; i < 50; i++ {
		if qc, err = net.Dial("tcp", qaddr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	_, _ = qc.Write(followerInfo(1, 20))
	deadline := time.Now().Add(3 * time.Second)
	for {
		mu.Lock()
		var fi *FollowerInfo
		for _, e := range events {
			if e.Kind == "followerinfo" {
				fi = e.FollowerInfo
			}
		}
		mu.Unlock()
		if fi != nil {
			if fi.SID != 1 {
				t.Fatalf("followerinfo %+v", fi)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no followerinfo event")
		}
		time.Sleep(20 * time.Millisecond)
	}
	qc.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	ok := Replay{Target: "zk1:3888", TargetSID: 1, Handshake: HandshakeSID, Format: Format40, Duration: time.Second,
		Peers: []Peer{{SID: 2}}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Replay){
		"own sid":      func(r *Replay) { r.Peers = []Peer{{SID: 1}} },
		"smaller sid":  func(r *Replay) { r.TargetSID = 5 },
		"unbounded":    func(r *Replay) { r.Duration = 0 },
		"format":       func(r *Replay) { r.Format = "41" },
		"v1 no addr":   func(r *Replay) { r.Handshake = HandshakeV1 },
		"bad target":   func(r *Replay) { r.Target = "zk1" },
		"no peers":     func(r *Replay) { r.Peers = nil },
		"twice the id": func(r *Replay) { r.Peers = []Peer{{SID: 2}, {SID: 2}} },
	} {
		r := ok
		mod(&r)
		if err := r.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, format := range []string{Format28, Format40, FormatV2} {
		p, _ := quotedLeader.Encode(format)
		f.Add(p)
	}
	f.Add(followerInfo(1, 12))
	f.Fuzz(func(t *testing.T, b []byte) {
		if n, err := DecodeNotification(b); err == nil {
			if n.Size != len(b) || len(n.Config) > len(b) {
				t.Fatalf("%v from %d bytes", n, len(b))
			}
		}
		_, _ = ReadHandshake(bytes.NewReader(b))
		_, _ = ReadFollowerInfo(bytes.NewReader(b))
		_, _ = ReadFrame(bytes.NewReader(b))
	})
}

// TestCapturedFrames decodes the notifications real servers sent to the fake peers
// (fixtures/captured/fle, recorded by `zkchaos capture-fixtures --case f1-replay-stuck`):
// 3.4.13 sends 40-byte version-1 votes, 3.8.0 and 3.9.3 version-2 votes with their config.
func TestCapturedFrames(t *testing.T) {
	want := map[string]struct {
		version int32
		config  bool
	}{"3.4.13": {1, false}, "3.8.0": {2, true}, "3.9.3": {2, true}}
	for v, w := range want {
		b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "captured", "fle", v+"-received.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		for _, l := range lines {
			var e Event
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatal(err)
			}
			raw, err := hex.DecodeString(e.Hex)
			if err != nil {
				t.Fatal(err)
			}
			n, err := DecodeNotification(raw)
			if err != nil {
				t.Fatalf("%s: %v", v, err)
			}
			if n != *e.Notification || n.Version != w.version || (n.Config != "") != w.config || n.Leader != 1 || n.Round < 1 {
				t.Errorf("%s: decoded %v, recorded %v", v, n, e.Notification)
			}
			if w.config && !strings.Contains(n.Config, "server.1=zk1:2888:3888:participant") {
				t.Errorf("%s: config %q", v, n.Config)
			}
			// What the server sends, the fake peers can send back byte for byte.
			format := Format40
			if w.config {
				format = FormatV2
			}
			again, _ := n.Encode(format)
			if !bytes.Equal(again, raw) {
				t.Errorf("%s: re-encoded %x, server sent %x", v, again, raw)
			}
		}
		if len(lines) < 2 {
			t.Errorf("%s: %d frames", v, len(lines))
		}
	}
}
