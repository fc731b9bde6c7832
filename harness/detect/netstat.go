package detect

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The kernel counters of F5 (the `netstat -s | grep -i listen` quoted in docs/F5.md).
const (
	ListenOverflows = "TcpExt:ListenOverflows" // "N times the listen queue of a socket overflowed"
	ListenDrops     = "TcpExt:ListenDrops"     // "N SYNs to LISTEN sockets ignored"
)

// NetstatSnapshot is one reading of the TCP counters of a network namespace,
// from /proc/net/netstat, `netstat -s` or `nstat -az`.
type NetstatSnapshot struct {
	Time     time.Time         // when a timestamp line preceded it, else zero
	Counters map[string]int64  // "TcpExt:ListenOverflows" -> 591
	Lines    map[string]string // the line each counter came from (evidence)
}

// Listener is one line of `ss -ltn`: for a listening socket Recv-Q is the
// current accept queue and Send-Q the backlog (50 on ZooKeeper's client port).
type Listener struct {
	Local string // "0.0.0.0:2181", "*:2181", "[::]:2181"
	Port  int
	RecvQ int64
	SendQ int64
	Line  string
}

// NetObservation is what one node's network namespace showed: counter
// snapshots in time order and the listening sockets.
type NetObservation struct {
	Node      string
	Snapshots []NetstatSnapshot
	Listeners []Listener
}

// maxSnapshots bounds the snapshots kept: the first and the latest matter.
const maxSnapshots = 1024

// netstat -s sentences for the two counters (Linux net-tools).
var netstatSentences = []struct{ text, key string }{
	{"times the listen queue of a socket overflowed", ListenOverflows},
	{"SYNs to LISTEN sockets ignored", ListenDrops},
	{"SYNs to LISTEN sockets dropped", ListenDrops},
}

// ParseNet reads any mix of /proc/net/netstat dumps, `netstat -s`, `nstat`
// and `ss -ltn` output, in the order they were taken: a counter seen a second
// time starts a new snapshot. A line with a timestamp dates the next snapshot.
func ParseNet(node string, r io.Reader) (NetObservation, error) {
	obs := NetObservation{Node: node}
	var cur *NetstatSnapshot
	var pendingTime time.Time
	var header []string // the names line of a /proc "TcpExt:" pair
	var headerPrefix string
	put := func(key string, v int64, line []byte) {
		if cur != nil {
			if _, dup := cur.Counters[key]; dup {
				cur = nil
			}
		}
		if cur == nil {
			if len(obs.Snapshots) >= maxSnapshots {
				obs.Snapshots = append(obs.Snapshots[:1], obs.Snapshots[2:]...)
			}
			obs.Snapshots = append(obs.Snapshots, NetstatSnapshot{Time: pendingTime, Counters: map[string]int64{}, Lines: map[string]string{}})
			cur = &obs.Snapshots[len(obs.Snapshots)-1]
			pendingTime = time.Time{}
		}
		if len(cur.Counters) < maxKeys {
			cur.Counters[key] = v
			cur.Lines[key] = printable(line)
		}
	}
	err := eachLine(r, func(line []byte) error {
		t := bytes.TrimSpace(line)
		if len(t) == 0 {
			return nil
		}
		// /proc/net/netstat: "TcpExt: Name1 Name2 ..." then "TcpExt: 1 2 ..."
		if c := bytes.IndexByte(t, ':'); c > 0 && c < 16 && isIdent(t[:c]) {
			prefix := string(t[:c])
			fields := strings.Fields(string(t[c+1:]))
			if len(fields) > 0 && isNumber(fields[0]) {
				if header != nil && headerPrefix == prefix && len(fields) == len(header) {
					for i, f := range fields {
						if v, err := strconv.ParseInt(f, 10, 64); err == nil && interesting(prefix, header[i]) {
							put(prefix+":"+header[i], v, []byte(prefix+": "+header[i]+" "+f))
						}
					}
				}
				header = nil
				return nil
			}
			if len(fields) > 0 && !isNumber(fields[0]) && allIdents(fields) {
				header, headerPrefix = fields, prefix
				return nil
			}
		}
		header = nil
		// netstat -s
		for _, s := range netstatSentences {
			if i := bytes.Index(t, []byte(s.text)); i > 0 {
				if v, ok := leadingInt(t); ok {
					put(s.key, v, t)
				}
				return nil
			}
		}
		// nstat: "TcpExtListenOverflows   591   0.0"
		if bytes.HasPrefix(t, []byte("TcpExtListen")) {
			f := strings.Fields(string(t))
			if len(f) >= 2 {
				if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					put("TcpExt:"+strings.TrimPrefix(f[0], "TcpExt"), v, t)
				}
			}
			return nil
		}
		// ss -ltn: "LISTEN 0 50 *:2181 *:*" (State may be absent with some options)
		if l, ok := parseSSLine(t); ok {
			if len(obs.Listeners) < maxConns {
				obs.Listeners = append(obs.Listeners, l)
			}
			return nil
		}
		if ts, ok := FindTimestamp(t); ok {
			pendingTime = ts
			cur = nil
		}
		return nil
	})
	return obs, err
}

// interesting keeps the counters a report needs, not all ~120 of TcpExt.
func interesting(prefix, name string) bool {
	return prefix == "TcpExt" && (strings.HasPrefix(name, "Listen") || strings.HasPrefix(name, "TCPBacklog") ||
		strings.HasPrefix(name, "Syncookies") || name == "TCPReqQFullDrop" || name == "TCPReqQFullDoCookies")
}

func isIdent(b []byte) bool {
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return len(b) > 0
}

func allIdents(f []string) bool {
	for _, s := range f {
		if !isIdent([]byte(s)) {
			return false
		}
	}
	return true
}

func isNumber(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

func parseSSLine(t []byte) (Listener, bool) {
	f := strings.Fields(string(t))
	if len(f) > 0 && (f[0] == "LISTEN" || f[0] == "tcp" || f[0] == "tcp6") {
		if f[0] != "LISTEN" && len(f) > 1 && f[1] == "LISTEN" {
			f = f[2:] // "tcp LISTEN 0 50 ..." (ss -ltn without -H with netid)
		} else {
			f = f[1:]
		}
	} else {
		return Listener{}, false
	}
	if len(f) < 3 {
		return Listener{}, false
	}
	rq, err1 := strconv.ParseInt(f[0], 10, 64)
	sq, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return Listener{}, false
	}
	local := f[2]
	k := strings.LastIndexByte(local, ':')
	if k < 0 {
		return Listener{}, false
	}
	port, err := strconv.Atoi(local[k+1:])
	if err != nil {
		return Listener{}, false
	}
	return Listener{Local: local, Port: port, RecvQ: rq, SendQ: sq, Line: printable(t)}, true
}

// ParseNetstat reads the counter snapshots of a /proc/net/netstat, `netstat -s`
// or `nstat` text (one or several, oldest first).
func ParseNetstat(r io.Reader) ([]NetstatSnapshot, error) {
	o, err := ParseNet("", r)
	return o.Snapshots, err
}

// ParseSS reads `ss -ltn` output.
func ParseSS(r io.Reader) ([]Listener, error) {
	o, err := ParseNet("", r)
	return o.Listeners, err
}

// Delta is the growth of one counter between two snapshots.
type Delta struct {
	Key           string
	Before, After int64
}

func (d Delta) Growth() int64 { return d.After - d.Before }

func (d Delta) String() string {
	return fmt.Sprintf("%s %d -> %d (%+d)", d.Key, d.Before, d.After, d.Growth())
}

// Deltas compares two snapshots on the counters both have, sorted by key.
func Deltas(before, after NetstatSnapshot) []Delta {
	var out []Delta
	for _, k := range []string{ListenOverflows, ListenDrops} {
		b, ok1 := before.Counters[k]
		a, ok2 := after.Counters[k]
		if ok1 && ok2 {
			out = append(out, Delta{Key: k, Before: b, After: a})
		}
	}
	return out
}
