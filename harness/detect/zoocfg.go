package detect

import (
	"bytes"
	"io"
	"strconv"
	"strings"
)

// Config is a zoo.cfg (or a `conf` answer): the settings as written, with the
// defaults ZooKeeper applies when a key is absent.
type Config struct {
	Values  map[string]string
	Servers map[int64]ServerLine
}

// ServerLine is "server.N=host:quorumPort:electionPort[:role][;clientAddr]".
type ServerLine struct {
	ID           int64
	Host         string
	QuorumPort   int
	ElectionPort int
	Raw          string
}

// ParseConfig reads a zoo.cfg: Java properties, "key=value" (also "key:value"
// or "key value"), '#' and '!' comments. Unknown keys are kept: ZooKeeper turns
// them into ignored system properties, which matters when a fix names a key a
// version does not know (clientPortListenBacklog before 3.6).
func ParseConfig(r io.Reader) (*Config, error) {
	c := &Config{Values: map[string]string{}, Servers: map[int64]ServerLine{}}
	err := eachLine(r, func(line []byte) error {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' || line[0] == '!' || len(c.Values) >= maxKeys {
			return nil
		}
		i := bytes.IndexAny(line, "=:")
		var k, v []byte
		if sp := bytes.IndexAny(line, " \t"); sp >= 0 && (i < 0 || sp < i) {
			// "key value" or "key = value"
			k = line[:sp]
			v = bytes.TrimLeft(line[sp:], " \t")
			if len(v) > 0 && (v[0] == '=' || v[0] == ':') {
				v = v[1:]
			}
		} else if i > 0 {
			k, v = line[:i], line[i+1:]
		} else {
			return nil
		}
		key := string(printableBytes(bytes.TrimSpace(k), 256))
		val := string(printableBytes(bytes.TrimSpace(v), 4096))
		if key == "" {
			return nil
		}
		c.Values[key] = val
		if id, ok := strings.CutPrefix(key, "server."); ok {
			if n, err := strconv.ParseInt(id, 10, 64); err == nil {
				c.Servers[n] = parseServerLine(n, val)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func parseServerLine(id int64, v string) ServerLine {
	s := ServerLine{ID: id, Raw: v, QuorumPort: -1, ElectionPort: -1}
	addr := v
	if i := strings.IndexByte(addr, ';'); i >= 0 {
		addr = addr[:i]
	}
	// multiple addresses (3.6+, "a:1:2|b:1:2"): the first one
	if i := strings.IndexByte(addr, '|'); i >= 0 {
		addr = addr[:i]
	}
	var parts []string
	if strings.HasPrefix(addr, "[") {
		if j := strings.IndexByte(addr, ']'); j > 0 {
			parts = append([]string{addr[1:j]}, strings.Split(strings.TrimPrefix(addr[j+1:], ":"), ":")...)
		}
	} else {
		parts = strings.Split(addr, ":")
	}
	if len(parts) > 0 {
		s.Host = parts[0]
	}
	if len(parts) > 1 {
		s.QuorumPort, _ = strconv.Atoi(parts[1])
	}
	if len(parts) > 2 {
		s.ElectionPort, _ = strconv.Atoi(parts[2])
	}
	return s
}

func (c *Config) intValue(key string, def int64) int64 {
	if c == nil {
		return def
	}
	v, ok := c.Values[key]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return def
	}
	return n
}

// Has reports whether the config sets key.
func (c *Config) Has(key string) bool {
	if c == nil {
		return false
	}
	_, ok := c.Values[key]
	return ok
}

// ClientPort is clientPort (or the port of 3.5+'s ";clientAddr"), 2181 by default.
func (c *Config) ClientPort() int64 { return c.intValue("clientPort", 2181) }

// MaxClientCnxns is the per-client-IP connection limit: 60 unless set; 0 = none.
func (c *Config) MaxClientCnxns() int64 { return c.intValue("maxClientCnxns", 60) }

// SnapRetainCount is autopurge.snapRetainCount: 3 by default, and ZooKeeper
// raises anything smaller to 3 ("Invalid autopurge.snapRetainCount").
func (c *Config) SnapRetainCount() int64 {
	n := c.intValue("autopurge.snapRetainCount", 3)
	if n < 3 {
		n = 3
	}
	return n
}

// PurgeInterval is autopurge.purgeInterval in HOURS; 0 (the default) disables purging.
func (c *Config) PurgeInterval() int64 { return c.intValue("autopurge.purgeInterval", 0) }

// ListenBacklog is clientPortListenBacklog (ZOOKEEPER-974, 3.6.0+), -1 when unset.
func (c *Config) ListenBacklog() int64 { return c.intValue("clientPortListenBacklog", -1) }
