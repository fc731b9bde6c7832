// Package load is zkchaos's traffic: raw ZooKeeper sessions opened at the wire level
// (what a short-lived SDK client does), piles of connections from one host, floods.
// Every generator is bounded in count and time and stops by itself.
package load

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// Session is one raw client connection that completed ZooKeeper's handshake.
type Session struct {
	ID      int64
	Timeout time.Duration // negotiated session timeout
	conn    net.Conn
}

// ErrRefused means the server accepted TCP and then closed before answering the
// ConnectRequest — what a server does when maxClientCnxns is reached for this IP.
var ErrRefused = errors.New("connection closed by server before the handshake answer")

// connectRequest is ZooKeeper's ConnectRequest (jute): protocolVersion, lastZxidSeen,
// timeOut, sessionId, passwd, readOnly — framed by a 4-byte length.
func connectRequest(timeout time.Duration) []byte {
	b := make([]byte, 4, 4+4+8+4+8+4+16+1)
	b = binary.BigEndian.AppendUint32(b, 0)                              // protocolVersion
	b = binary.BigEndian.AppendUint64(b, 0)                              // lastZxidSeen
	b = binary.BigEndian.AppendUint32(b, uint32(timeout.Milliseconds())) // timeOut
	b = binary.BigEndian.AppendUint64(b, 0)                              // sessionId: new
	b = binary.BigEndian.AppendUint32(b, 16)                             // passwd length
	b = append(b, make([]byte, 16)...)                                   // passwd
	b = append(b, 0)                                                     // readOnly=false
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// Dial opens a TCP connection to addr (ip:port) and performs the ZooKeeper
// handshake, all within ctx. A server that closes the connection before answering
// yields ErrRefused.
func Dial(ctx context.Context, addr string, sessionTimeout time.Duration) (*Session, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if closedByServer(err) {
			// The server accepted and closed at once, before connect() returned
			// (seen on 3.8.0 at maxClientCnxns as "connect: broken pipe").
			return nil, fmt.Errorf("%w: %w", ErrRefused, err)
		}
		return nil, err
	}
	return Open(ctx, conn, sessionTimeout)
}

// Open performs the ZooKeeper handshake on a connection opened elsewhere (a
// harness node's Dial, which works wherever the engine runs), within ctx. The
// session owns conn from then on; on error conn is closed.
func Open(ctx context.Context, conn net.Conn, sessionTimeout time.Duration) (*Session, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	s, err := handshake(conn, sessionTimeout)
	if err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return s, nil
}

func handshake(conn net.Conn, sessionTimeout time.Duration) (*Session, error) {
	if _, err := conn.Write(connectRequest(sessionTimeout)); err != nil {
		if closedByServer(err) {
			return nil, fmt.Errorf("%w: %w", ErrRefused, err)
		}
		return nil, err
	}
	var hdr [4]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || closedByServer(err) {
			return nil, fmt.Errorf("%w: %w", ErrRefused, err)
		}
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 4+4+8+4 || n > 1024 {
		return nil, fmt.Errorf("handshake: unexpected ConnectResponse length %d", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(conn, body); err != nil {
		return nil, err
	}
	timeout := time.Duration(binary.BigEndian.Uint32(body[4:8])) * time.Millisecond
	id := int64(binary.BigEndian.Uint64(body[8:16]))
	if timeout == 0 && id == 0 {
		// The server answers a session it will not create (e.g. not serving) with zeros.
		return nil, fmt.Errorf("handshake: server rejected the session (timeout 0)")
	}
	return &Session{ID: id, Timeout: timeout, conn: conn}, nil
}

// closedByServer: the peer reset or closed the connection (not "nothing listens",
// which is ECONNREFUSED).
func closedByServer(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// Abandon closes the TCP connection without closing the session (a crashed client):
// the server expires the session after its timeout.
func (s *Session) Abandon() error { return s.conn.Close() }

// Close ends the session the way a well-behaved SDK does (closeSession request,
// xid 1, type -11), then closes the connection.
func (s *Session) Close() error {
	req := make([]byte, 4, 12)
	req = binary.BigEndian.AppendUint32(req, 1)                  // xid
	req = binary.BigEndian.AppendUint32(req, uint32(0xfffffff5)) // OpCode closeSession = -11
	binary.BigEndian.PutUint32(req, uint32(len(req)-4))
	_ = s.conn.SetDeadline(time.Now().Add(2 * time.Second))
	_, werr := s.conn.Write(req)
	if werr == nil {
		var hdr [4]byte
		_, _ = io.ReadFull(s.conn, hdr[:]) // the reply, or the server's close
	}
	return errors.Join(werr, s.conn.Close())
}

// KeepAlive pings the server every third of the session timeout until ctx ends or
// the connection fails, as every client library does; without it an idle session
// expires. It drains the server's replies.
func (s *Session) KeepAlive(ctx context.Context) {
	go func() { _, _ = io.Copy(io.Discard, s.conn) }()
	ping := make([]byte, 4, 12)
	ping = binary.BigEndian.AppendUint32(ping, uint32(0xfffffffe)) // xid -2: ping
	ping = binary.BigEndian.AppendUint32(ping, 11)                 // OpCode ping
	binary.BigEndian.PutUint32(ping, 8)
	t := time.NewTicker(max(s.Timeout/3, 100*time.Millisecond))
	go func() {
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = s.conn.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := s.conn.Write(ping); err != nil {
					return
				}
			}
		}
	}()
}
