package detect

import (
	"os"
	"strings"
	"testing"
	"time"
)

// endlessLog is a ZooKeeper log that never ends (a file still being written
// faster than it is read).
type endlessLog struct{}

func (endlessLog) Read(p []byte) (int, error) {
	const l = "2026-11-25 20:00:00,000 [myid:1] - INFO  [main:QuorumPeer@1] - ok\n"
	n := 0
	for n+len(l) <= len(p) {
		n += copy(p[n:], l)
	}
	return n, nil
}

// A read cut by the time bound returns and says so, as the size bound does.
func TestReadTimeBound(t *testing.T) {
	n := NewNodeLog("zk1")
	start := time.Now()
	if _, err := n.ReadFromLimited(endlessLog{}, Limits{Deadline: time.Now().Add(50 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s", d)
	}
	if !strings.Contains(n.Cut, "(time bound)") || n.Lines == 0 {
		t.Errorf("cut %q after %d lines", n.Cut, n.Lines)
	}
}

// One netstat -s reading stays suspected when ss lists the client port with
// room in its queue; only a full queue makes it found.
func TestF5OneReadingWithRoomInQueue(t *testing.T) {
	b, err := os.ReadFile("../../fixtures/seed/f5-netstat-s.txt")
	if err != nil {
		t.Fatal(err)
	}
	ss := "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\nLISTEN 3      50                 *:2181            *:*\n"
	obs, _ := ParseNet("m1", strings.NewReader(string(b)+ss))
	fs := Detect(Observations{Net: []NetObservation{obs}})
	if failures(fs) != "F5@m1" || fs[0].GradeOrFound() != Suspected {
		t.Fatalf("got %q %v", failures(fs), fs)
	}
}
