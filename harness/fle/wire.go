// Package fle speaks ZooKeeper's fast-leader-election wire protocol on the
// election port — the initial sid handshake of QuorumCnxManager and the
// notification frames of FastLeaderElection — and the first packet a follower
// sends to its leader's quorum port. It is what fake election peers need to replay
// recorded votes to one real server, as ZooKeeper's own election tests do.
//
// Byte layouts and the rules each version applies were read from ZooKeeper's
// source (QuorumCnxManager, FastLeaderElection) at release-3.4.13,
// release-3.8.0-1 and release-3.9.3. All
// integers are big-endian, as Java's DataOutputStream writes them.
package fle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Handshake formats: what an initiator sends first on the election port.
const (
	// HandshakeSID is 3.4's: the sender's sid alone (8 bytes). 3.8/3.9 accept it too.
	HandshakeSID = "sid"
	// HandshakeV1 is 3.5+'s: protocol version -65536, sid, and the sender's election
	// address "host:port" (3.8/3.9 dial that address back).
	HandshakeV1 = "v1"
)

// ProtocolVersionV1 and V2 are QuorumCnxManager's PROTOCOL_VERSION_V1/V2.
const (
	ProtocolVersionV1 int64 = -65536
	ProtocolVersionV2 int64 = -65535
	// MaxAddressLen is QuorumCnxManager.maxBuffer.
	MaxAddressLen = 2048
	// MaxFrame is QuorumCnxManager.PACKETMAXSIZE.
	MaxFrame = 512 * 1024
)

// Handshake is the initial message of an election connection.
type Handshake struct {
	// Protocol is 0 for the 3.4 sid-only form, else ProtocolVersionV1/V2.
	Protocol int64
	SID      int64
	// Addrs are the advertised election addresses (V1: one; V2: split on "|").
	Addrs []string
}

// EncodeHandshake renders the initial message in the given format; addr is the
// sender's own election address (ignored by HandshakeSID).
func EncodeHandshake(format string, sid int64, addr string) ([]byte, error) {
	var b bytes.Buffer
	switch format {
	case HandshakeSID:
		_ = binary.Write(&b, binary.BigEndian, sid)
	case HandshakeV1:
		if addr == "" || len(addr) > MaxAddressLen {
			return nil, fmt.Errorf("fle: handshake address %q: length must be 1..%d", addr, MaxAddressLen)
		}
		_ = binary.Write(&b, binary.BigEndian, ProtocolVersionV1)
		_ = binary.Write(&b, binary.BigEndian, sid)
		_ = binary.Write(&b, binary.BigEndian, int32(len(addr)))
		b.WriteString(addr)
	default:
		return nil, fmt.Errorf("fle: unknown handshake format %q (want %s or %s)", format, HandshakeSID, HandshakeV1)
	}
	return b.Bytes(), nil
}

// ReadHandshake reads an initial message as a 3.8/3.9 receiver parses it
// (QuorumCnxManager.handleConnection and InitialMessage.parse): a non-negative
// first long is a 3.4 sid; a negative one must be V1 or V2 and is followed by the
// sid and a length-prefixed address list.
func ReadHandshake(r io.Reader) (Handshake, error) {
	var first int64
	if err := binary.Read(r, binary.BigEndian, &first); err != nil {
		return Handshake{}, fmt.Errorf("fle: handshake: %w", err)
	}
	if first >= 0 {
		return Handshake{SID: first}, nil
	}
	h := Handshake{Protocol: first}
	if first != ProtocolVersionV1 && first != ProtocolVersionV2 {
		return h, fmt.Errorf("fle: handshake: unrecognized protocol version %d", first)
	}
	var n int32
	if err := binary.Read(r, binary.BigEndian, &h.SID); err != nil {
		return h, fmt.Errorf("fle: handshake sid: %w", err)
	}
	if err := binary.Read(r, binary.BigEndian, &n); err != nil {
		return h, fmt.Errorf("fle: handshake length: %w", err)
	}
	if n <= 0 || n > MaxAddressLen {
		return h, fmt.Errorf("fle: handshake: unreasonable buffer length %d", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return h, fmt.Errorf("fle: handshake address: %w", err)
	}
	h.Addrs = strings.Split(string(buf), "|")
	return h, nil
}

// State is a server's election state, as its ordinal goes on the wire.
type State int32

// ServerState ordinals.
const (
	Looking   State = 0
	Following State = 1
	Leading   State = 2
	Observing State = 3
)

func (s State) String() string {
	switch s {
	case Looking:
		return "LOOKING"
	case Following:
		return "FOLLOWING"
	case Leading:
		return "LEADING"
	case Observing:
		return "OBSERVING"
	}
	return fmt.Sprintf("State(%d)", int32(s))
}

// ParseState reads LOOKING/FOLLOWING/LEADING/OBSERVING (any case).
func ParseState(s string) (State, error) {
	for _, st := range []State{Looking, Following, Leading, Observing} {
		if strings.EqualFold(s, st.String()) {
			return st, nil
		}
	}
	return 0, fmt.Errorf("fle: unknown state %q", s)
}

// Notification formats, by payload size (FastLeaderElection.buildMsg and
// WorkerReceiver.run in ZooKeeper's source).
const (
	// Format28 is the pre-3.4 message (3.3, as in docs/F1.md): state, leader,
	// zxid, round; receivers derive the peer epoch from the zxid's high 32 bits.
	Format28 = "28"
	// Format40 is 3.4.6+'s version-1 message (40 bytes, no config).
	Format40 = "40"
	// FormatV2 is 3.5+'s: version 2 and the sender's quorum config as text.
	FormatV2 = "v2"
)

// Notification is one election vote on the wire.
type Notification struct {
	State     State  `json:"state"`
	Leader    int64  `json:"leader"`
	Zxid      int64  `json:"zxid"`
	Round     int64  `json:"round"` // electionEpoch
	PeerEpoch int64  `json:"peerEpoch"`
	Version   int32  `json:"version"`
	Config    string `json:"config,omitempty"`
	// Size is the payload length it was read from (0 when built here).
	Size int `json:"size,omitempty"`
}

func (n Notification) String() string {
	return fmt.Sprintf("%s leader %d zxid 0x%x round 0x%x peerEpoch 0x%x (v%d, %d bytes)",
		n.State, n.Leader, n.Zxid, n.Round, n.PeerEpoch, n.Version, n.Size)
}

// Encode renders the notification payload (no frame length) in a format.
func (n Notification) Encode(format string) ([]byte, error) {
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.BigEndian, v) }
	w(int32(n.State))
	w(n.Leader)
	w(n.Zxid)
	w(n.Round)
	switch format {
	case Format28:
	case Format40:
		w(n.PeerEpoch)
		w(int32(1))
	case FormatV2:
		w(n.PeerEpoch)
		w(int32(2))
		w(int32(len(n.Config)))
		b.WriteString(n.Config)
	default:
		return nil, fmt.Errorf("fle: unknown notification format %q (want %s, %s or %s)", format, Format28, Format40, FormatV2)
	}
	return b.Bytes(), nil
}

// ErrShort is a payload too short for any notification format (< 28 bytes).
var ErrShort = errors.New("fle: notification shorter than 28 bytes")

// DecodeNotification reads a payload the way a 3.8/3.9 WorkerReceiver does, with one
// difference: a 40-byte message keeps its version field (3.8/3.9 read it as 0).
func DecodeNotification(p []byte) (Notification, error) {
	n := Notification{Size: len(p)}
	if len(p) < 28 {
		return n, ErrShort
	}
	be := binary.BigEndian
	n.State = State(int32(be.Uint32(p[0:])))
	n.Leader = int64(be.Uint64(p[4:]))
	n.Zxid = int64(be.Uint64(p[12:]))
	n.Round = int64(be.Uint64(p[20:]))
	if len(p) < 36 {
		n.PeerEpoch = int64(uint64(n.Zxid) >> 32)
		if len(p) != 28 {
			return n, fmt.Errorf("fle: malformed %d-byte notification", len(p))
		}
		return n, nil
	}
	n.PeerEpoch = int64(be.Uint64(p[28:]))
	if len(p) < 40 {
		return n, nil
	}
	n.Version = int32(be.Uint32(p[36:]))
	if n.Version < 2 || len(p) < 44 {
		return n, nil
	}
	cl := int32(be.Uint32(p[40:]))
	if cl < 0 || int(cl) > len(p)-44 {
		return n, fmt.Errorf("fle: invalid config length %d in a %d-byte notification", cl, len(p))
	}
	n.Config = string(p[44 : 44+int(cl)])
	return n, nil
}

// WriteFrame writes one length-prefixed message (SendWorker.send).
func WriteFrame(w io.Writer, payload []byte) error {
	b := make([]byte, 4+len(payload))
	binary.BigEndian.PutUint32(b, uint32(len(payload)))
	copy(b[4:], payload)
	_, err := w.Write(b)
	return err
}

// ReadFrame reads one length-prefixed message (RecvWorker.run's checks).
func ReadFrame(r io.Reader) ([]byte, error) {
	var n int32
	if err := binary.Read(r, binary.BigEndian, &n); err != nil {
		return nil, err
	}
	if n <= 0 || n > MaxFrame {
		return nil, fmt.Errorf("fle: received packet with invalid length %d", n)
	}
	p := make([]byte, n)
	_, err := io.ReadFull(r, p)
	return p, err
}

// FollowerInfo is the first packet a follower writes to its leader's quorum port
// (Learner.registerWithLeader): a jute QuorumPacket of type FOLLOWERINFO (11) or
// OBSERVERINFO (16) holding a LearnerInfo.
type FollowerInfo struct {
	Type int32 `json:"type"`
	// AcceptedEpoch is the packet's zxid >> 32.
	AcceptedEpoch   int64 `json:"acceptedEpoch"`
	SID             int64 `json:"sid"`
	ProtocolVersion int32 `json:"protocolVersion"`
	// ConfigVersion is present from 3.5 (data length 20 instead of 12).
	ConfigVersion int64 `json:"configVersion,omitempty"`
	Size          int   `json:"size"`
}

// Quorum packet types a fake leader may see first.
const (
	PacketFollowerInfo int32 = 11
	PacketObserverInfo int32 = 16
)

// ReadFollowerInfo reads the learner's first quorum packet (no outer length prefix).
func ReadFollowerInfo(r io.Reader) (FollowerInfo, error) {
	var hdr struct {
		Type    int32
		Zxid    int64
		DataLen int32
	}
	if err := binary.Read(r, binary.BigEndian, &hdr); err != nil {
		return FollowerInfo{}, fmt.Errorf("fle: quorum packet header: %w", err)
	}
	fi := FollowerInfo{Type: hdr.Type, AcceptedEpoch: int64(uint64(hdr.Zxid) >> 32), Size: 16}
	if hdr.Type != PacketFollowerInfo && hdr.Type != PacketObserverInfo {
		return fi, fmt.Errorf("fle: first quorum packet has type %d, not FOLLOWERINFO/OBSERVERINFO", hdr.Type)
	}
	if hdr.DataLen != 12 && hdr.DataLen != 20 {
		return fi, fmt.Errorf("fle: LearnerInfo of %d bytes (want 12 or 20)", hdr.DataLen)
	}
	data := make([]byte, hdr.DataLen)
	if _, err := io.ReadFull(r, data); err != nil {
		return fi, fmt.Errorf("fle: LearnerInfo: %w", err)
	}
	fi.Size += int(hdr.DataLen)
	fi.SID = int64(binary.BigEndian.Uint64(data))
	fi.ProtocolVersion = int32(binary.BigEndian.Uint32(data[8:]))
	if hdr.DataLen == 20 {
		fi.ConfigVersion = int64(binary.BigEndian.Uint64(data[12:]))
	}
	var auth int32
	if err := binary.Read(r, binary.BigEndian, &auth); err != nil {
		return fi, fmt.Errorf("fle: authinfo count: %w", err)
	}
	fi.Size += 4
	return fi, nil
}
