package load

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// fakeServer answers ZooKeeper's handshake, pings, exists and closeSession on
// 127.0.0.1 (the only place besides the harness's own containers that load may go).
// refuse > 0 closes every connection after the first `refuse` without answering, as
// a server at maxClientCnxns does.
func fakeServer(t testing.TB, refuse int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		accepted := 0
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted++
			if refuse > 0 && accepted > refuse {
				c.Close()
				continue
			}
			go serve(c, int64(accepted))
		}
	}()
	return ln.Addr().String()
}

func serve(c net.Conn, id int64) {
	defer c.Close()
	var lenb [4]byte
	if _, err := io.ReadFull(c, lenb[:]); err != nil {
		return
	}
	req := make([]byte, binary.BigEndian.Uint32(lenb[:]))
	if _, err := io.ReadFull(c, req); err != nil {
		return
	}
	timeout := binary.BigEndian.Uint32(req[12:16])
	resp := make([]byte, 4, 40)
	resp = binary.BigEndian.AppendUint32(resp, 0) // protocolVersion
	resp = binary.BigEndian.AppendUint32(resp, timeout)
	resp = binary.BigEndian.AppendUint64(resp, uint64(id))
	resp = binary.BigEndian.AppendUint32(resp, 16)
	resp = append(resp, make([]byte, 16)...)
	binary.BigEndian.PutUint32(resp, uint32(len(resp)-4))
	if _, err := c.Write(resp); err != nil {
		return
	}
	for {
		if _, err := io.ReadFull(c, lenb[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(lenb[:]))
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		xid := binary.BigEndian.Uint32(body[:4])
		op := int32(binary.BigEndian.Uint32(body[4:8]))
		reply := make([]byte, 4, 100)
		reply = binary.BigEndian.AppendUint32(reply, xid)
		reply = binary.BigEndian.AppendUint64(reply, 1) // zxid
		reply = binary.BigEndian.AppendUint32(reply, 0) // err
		if op == 3 {
			reply = append(reply, make([]byte, 68)...) // a Stat
		}
		binary.BigEndian.PutUint32(reply, uint32(len(reply)-4))
		if _, err := c.Write(reply); err != nil || op == -11 {
			return
		}
	}
}

func TestDialAndRefusal(t *testing.T) {
	addr := fakeServer(t, 2)
	r := HoldSessions(withTimeout(t, 2*time.Second), addr, 3, time.Second, io.Discard, nil)
	if fmt.Sprint(r.Accepted, r.Refused, r.Failed) != "[1 2] [3] []" {
		t.Fatalf("accepted %v refused %v failed %v (%v)", r.Accepted, r.Refused, r.Failed, r.Errors)
	}
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestFloodCountsEachOutcome(t *testing.T) {
	addr := fakeServer(t, 50)
	r := Flood(context.Background(), FloodConfig{Target: addr, Rate: 1000, Duration: 200 * time.Millisecond, CloseSession: true})
	if r.Attempts != 200 {
		t.Fatalf("attempts %d, want 200", r.Attempts)
	}
	// The server closes without reading the ConnectRequest: the kernel answers with
	// RST (a reset) or, if the request was not sent yet, a FIN (closed).
	if r.OK != 50 || r.Closed+r.Resets != 150 || r.OK+r.Failures()+r.Skipped+r.Late != r.Attempts {
		t.Fatalf("ok %d closed %d resets %d failures %d: %+v", r.OK, r.Closed, r.Resets, r.Failures(), r)
	}
	// Nothing listens on a closed port of 127.0.0.1: every SYN is answered by RST.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	r = Flood(context.Background(), FloodConfig{Target: dead, Rate: 1000, Duration: 100 * time.Millisecond})
	if r.Refused != r.Sent || r.OK != 0 {
		t.Fatalf("refused %d of %d sent: %+v", r.Refused, r.Sent, r)
	}
}

// A schedule this process cannot keep up with ends at Duration all the same:
// 100,000 attempts due within 1 ms cannot all be launched in it, and those not
// launched are counted as scheduled and late, never sent afterwards.
func TestFloodEndsAtItsDuration(t *testing.T) {
	addr := fakeServer(t, 0)
	r := Flood(context.Background(), FloodConfig{Target: addr, Rate: 100_000_000, Duration: time.Millisecond, MaxInFlight: 64})
	if r.Attempts != 100_000 || r.Late == 0 || r.Sent+r.Skipped+r.Late != r.Attempts || r.OK+r.Failures() != r.Sent {
		t.Fatalf("%+v", r)
	}
}

func TestReuseCarriesTheRateOnFewConnections(t *testing.T) {
	addr := fakeServer(t, 0)
	r := Reuse(context.Background(), ReuseConfig{Target: addr, Rate: 2000, Duration: 250 * time.Millisecond, Sessions: 4})
	if r.Connected != 4 || r.Requests != 500 || r.OK+r.Failed+r.Dropped != r.Requests || r.Failed != 0 {
		t.Fatalf("%+v", r)
	}
}

// BenchmarkFlood measures what one generator process reaches against a fake server
// on 127.0.0.1 (target: ≥ 8,000 connect attempts/s on this 2-core machine).
//
//	go test -run='^$' -bench=Flood -benchtime=1x ./harness/load
func BenchmarkFlood(b *testing.B) {
	addr := fakeServer(b, 0)
	for range b.N {
		r := Flood(context.Background(), FloodConfig{Target: addr, Rate: 12000, Duration: 3 * time.Second, CloseSession: true})
		b.ReportMetric(r.Achieved, "attempts/s")
		b.ReportMetric(float64(r.OK)/r.ElapsedS, "handshakes/s")
		b.ReportMetric(r.MaxLagMs, "max-lag-ms")
		fmt.Printf("flood generator vs 127.0.0.1: target 12000/s, achieved %.0f attempts/s, %d/%d handshakes ok, p99 connect %.2f ms, max schedule lag %.1f ms\n",
			r.Achieved, r.OK, r.Attempts, r.P99Ms, r.MaxLagMs)
	}
}
