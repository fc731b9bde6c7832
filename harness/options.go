package harness

import (
	"fmt"
	"io"
	"time"
)

// Option configures an ensemble started by Run.
type Option func(*settings) error

type settings struct {
	version      string
	nodes        int
	config       config
	nodeConfig   map[int]config
	progress     io.Writer
	startTimeout time.Duration
	wait         bool
	tmpfs        map[string]string
	sysctls      map[string]string
	peerWait     time.Duration
	reach        Reach
	images       map[string]string // version → image (WithImage)
}

func defaultSettings() settings {
	return settings{
		version:      DefaultVersion,
		nodes:        3,
		nodeConfig:   map[int]config{},
		progress:     io.Discard,
		startTimeout: 60 * time.Second,
		wait:         true,
		tmpfs:        map[string]string{},
		sysctls:      map[string]string{},
		peerWait:     10 * time.Second,
		reach:        ReachAuto,
		images:       map[string]string{},
	}
}

// WithVersion chooses the ZooKeeper version (one of VersionNames()).
func WithVersion(version string) Option {
	return func(s *settings) error { s.version = version; return nil }
}

// WithNodes sets the number of nodes (myid 1..n).
func WithNodes(n int) Option {
	return func(s *settings) error {
		if n < 1 || n > 9 {
			return fmt.Errorf("WithNodes(%d): want 1..9 nodes", n)
		}
		s.nodes = n
		return nil
	}
}

// WithConfig sets a zoo.cfg key on every node (overrides the harness's defaults).
func WithConfig(key, value string) Option {
	return func(s *settings) error { s.config.set(key, value); return nil }
}

// WithNodeConfig sets a zoo.cfg key on one node only, e.g. a different server.N
// line as that node alone sees it.
func WithNodeConfig(myid int, key, value string) Option {
	return func(s *settings) error {
		c := s.nodeConfig[myid]
		c.set(key, value)
		s.nodeConfig[myid] = c
		return nil
	}
}

// WithProgress sends progress lines of long steps to w (GinkgoWriter, os.Stderr…).
func WithProgress(w io.Writer) Option {
	return func(s *settings) error {
		if w != nil {
			s.progress = w
		}
		return nil
	}
}

// WithStartTimeout bounds Run's wait for every node to serve (default 60 s).
func WithStartTimeout(d time.Duration) Option {
	return func(s *settings) error { s.startTimeout = d; return nil }
}

// WithoutWait returns from Run once the containers started, without waiting for
// the nodes to serve (for scenarios whose point is that they do not).
func WithoutWait() Option {
	return func(s *settings) error { s.wait = false; return nil }
}

// WithTmpfs mounts a tmpfs of the given size (e.g. "150m") at path in every node,
// e.g. a small disk for the dataDir.
func WithTmpfs(path, size string) Option {
	return func(s *settings) error { s.tmpfs[path] = "size=" + size; return nil }
}

// WithSysctl sets a namespaced sysctl (e.g. net.core.somaxconn) in every node.
func WithSysctl(key, value string) Option {
	return func(s *settings) error { s.sysctls[key] = value; return nil }
}

// WithPeerWait bounds how long a starting node waits for its peers' names to
// resolve before it starts ZooKeeper anyway (default 10 s; 0 disables the wait).
func WithPeerWait(d time.Duration) Option {
	return func(s *settings) error { s.peerWait = d; return nil }
}

// config is an ordered zoo.cfg: keys keep their first position, later sets win.
type config struct{ keys, values []string }

func (c *config) set(key, value string) {
	for i, k := range c.keys {
		if k == key {
			c.values[i] = value
			return
		}
	}
	c.keys = append(c.keys, key)
	c.values = append(c.values, value)
}

func (c config) get(key string) (string, bool) {
	for i, k := range c.keys {
		if k == key {
			return c.values[i], true
		}
	}
	return "", false
}

func (c config) merge(o config) config {
	var out config
	for i := range c.keys {
		out.set(c.keys[i], c.values[i])
	}
	for i := range o.keys {
		out.set(o.keys[i], o.values[i])
	}
	return out
}

func (c config) render() []byte {
	var b []byte
	for i := range c.keys {
		b = fmt.Appendf(b, "%s=%s\n", c.keys[i], c.values[i])
	}
	return b
}
