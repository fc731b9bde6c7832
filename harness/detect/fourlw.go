package detect

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
)

// Answers a four-letter word can give instead of data.
var (
	// ErrNotServing: the server is in an election (or starting) and answers
	// "This ZooKeeper instance is not currently serving requests".
	ErrNotServing = errors.New("not currently serving requests")
	// ErrNotWhitelisted: 3.5.3+ answer only srvr unless 4lw.commands.whitelist lists the word.
	ErrNotWhitelisted = errors.New("four-letter word not in 4lw.commands.whitelist")
)

func fourLetterRefusal(line []byte) error {
	switch {
	case bytes.Contains(line, []byte("not currently serving requests")):
		return ErrNotServing
	case bytes.Contains(line, []byte("is not executed because it is not in the whitelist")):
		return ErrNotWhitelisted
	}
	return nil
}

// Mntr is the answer to `mntr`: "zk_key<TAB>value" lines.
type Mntr map[string]string

// Int returns a numeric mntr value.
func (m Mntr) Int(key string) (int64, bool) {
	v, ok := m[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if ferr != nil {
			return 0, false
		}
		return int64(f), true
	}
	return n, true
}

// maxKeys bounds the maps the small parsers build.
const maxKeys = 4096

// ParseMntr reads a `mntr` answer. Keys are zk_*; 3.8+ have zk_connection_rejected.
func ParseMntr(r io.Reader) (Mntr, error) {
	m := Mntr{}
	var refused error
	err := eachLine(r, func(line []byte) error {
		if e := fourLetterRefusal(line); e != nil {
			refused = e
			return nil
		}
		line = bytes.TrimSpace(line)
		i := bytes.IndexAny(line, "\t ")
		if i <= 0 || !bytes.HasPrefix(line, []byte("zk_")) || len(m) >= maxKeys {
			return nil
		}
		m[string(line[:i])] = string(printableBytes(bytes.TrimSpace(line[i+1:]), 1024))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(m) == 0 && refused != nil {
		return nil, refused
	}
	return m, nil
}

// Srvr is the answer to `srvr` (and the first part of `stat`).
type Srvr struct {
	Version     string // "3.4.13-2d71af4d..., built on ..."
	Mode        string // leader, follower, observer, standalone, read-only
	Zxid        int64
	Connections int64
	Fields      map[string]string
}

// ParseSrvr reads a `srvr` answer ("Key: value" lines).
func ParseSrvr(r io.Reader) (*Srvr, error) {
	s := &Srvr{Fields: map[string]string{}, Zxid: -1, Connections: -1}
	var refused error
	err := eachLine(r, func(line []byte) error {
		if e := fourLetterRefusal(line); e != nil {
			refused = e
			return nil
		}
		i := bytes.Index(line, []byte(": "))
		if i <= 0 || len(s.Fields) >= maxKeys {
			return nil
		}
		k := string(printableBytes(bytes.TrimSpace(line[:i]), 128))
		v := string(printableBytes(bytes.TrimSpace(line[i+2:]), 1024))
		s.Fields[k] = v
		switch k {
		case "Zookeeper version":
			s.Version = v
		case "Mode":
			s.Mode = v
		case "Zxid":
			if n, err := parseNum([]byte(v)); err == nil {
				s.Zxid = n
			}
		case "Connections":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				s.Connections = n
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(s.Fields) == 0 {
		if refused != nil {
			return nil, refused
		}
		return nil, errors.New("srvr: no fields")
	}
	return s, nil
}

// Conn is one client connection of a `cons` answer.
type Conn struct {
	IP   string
	Port int
	Line string
}

// maxConns bounds a cons answer kept in memory.
const maxConns = 100000

// ParseCons reads a `cons` answer: " /172.17.0.1:43210[1](queued=0,recved=1,...)".
func ParseCons(r io.Reader) ([]Conn, error) {
	var out []Conn
	var refused error
	err := eachLine(r, func(line []byte) error {
		if e := fourLetterRefusal(line); e != nil {
			refused = e
			return nil
		}
		line = bytes.TrimSpace(line)
		if len(line) < 2 || line[0] != '/' || len(out) >= maxConns {
			return nil
		}
		end := bytes.IndexByte(line, '[')
		if end < 0 {
			return nil
		}
		host, port, err := net.SplitHostPort(string(line[1:end]))
		if err != nil {
			// IPv6 without brackets: split at the last colon
			a := string(line[1:end])
			k := strings.LastIndexByte(a, ':')
			if k <= 0 {
				return nil
			}
			host, port = a[:k], a[k+1:]
		}
		p, err := strconv.Atoi(port)
		if err != nil || host == "" {
			return nil
		}
		out = append(out, Conn{IP: string(printableBytes([]byte(host), 128)), Port: p, Line: printable(line)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil && refused != nil {
		return nil, refused
	}
	return out, nil
}

// ConnsByIP counts connections per client IP.
func ConnsByIP(conns []Conn) map[string]int {
	m := map[string]int{}
	for _, c := range conns {
		m[c.IP]++
	}
	return m
}

// ParseConf reads a `conf` answer ("key=value" lines; 3.5+ add "membership:"
// and server.N lines). It is the same shape as zoo.cfg.
func ParseConf(r io.Reader) (*Config, error) {
	c, err := ParseConfig(r)
	if err != nil {
		return nil, err
	}
	if len(c.Values) == 0 {
		return nil, errors.New("conf: no settings")
	}
	return c, nil
}
