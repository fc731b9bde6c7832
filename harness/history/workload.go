package history

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
)

// Root is the znode under which the workload's keys live: Root/k0, Root/k1, …
const Root = "/zkchaos-h"

// Workload is a bounded client workload that records a History.
type Workload struct {
	// Servers is each client's server list: client i uses Servers[i%len(Servers)],
	// so a client can be pinned to one follower ({{"10.199.4.12:2181"}}) or
	// given the whole ensemble.
	Servers [][]string
	Clients int // default len(Servers)
	// PlainReaders of the Clients (the last ones) only read, with plain gets:
	// a pinned reader sees what its server holds, stale or not (ZooKeeper
	// promises plain reads only sequential consistency).
	PlainReaders int
	Keys         int // default 5
	// MaxOps bounds the operations of all clients together (0: only Duration
	// bounds them); Duration bounds the time operations are started in
	// (default 10 s). The workload stops at whichever comes first.
	MaxOps   int
	Duration time.Duration
	Seed     int64
	// SessionTimeout is each session's timeout (default 10 s). It also bounds
	// the wait for a first session and for operations in flight at the end:
	// after Duration + SessionTimeout every session is closed, and what is
	// still pending returns as unknown.
	SessionTimeout time.Duration
	// Pause is a client's wait between two operations (default none), to keep
	// the load modest.
	Pause time.Duration
	// Log gets a line per client session and a summary (nil: nothing).
	Log io.Writer
	// Dialer opens each session's connections. Against a harness ensemble it is
	// the ensemble's reach (Ensemble.ZKDialer), which works wherever the engine
	// runs; nil dials the addresses from this process.
	Dialer zk.Dialer
	// Started, when set, is closed when every session is open and the clock
	// starts (so that a caller starts its faults against a running workload).
	Started chan<- struct{}
}

func (w *Workload) defaults() error {
	if len(w.Servers) == 0 {
		return errors.New("history: workload without servers")
	}
	for i, s := range w.Servers {
		if len(s) == 0 {
			return fmt.Errorf("history: workload: server list %d is empty", i)
		}
	}
	if w.Clients <= 0 {
		w.Clients = len(w.Servers)
	}
	if w.Keys <= 0 {
		w.Keys = 5
	}
	if w.Duration <= 0 {
		w.Duration = 10 * time.Second
	}
	if w.SessionTimeout <= 0 {
		w.SessionTimeout = 10 * time.Second
	}
	if w.Log == nil {
		w.Log = io.Discard
	}
	return nil
}

// Key is the path of key i.
func Key(i int) string { return Root + "/k" + strconv.Itoa(i) }

// Run runs the workload: each client opens its own session and loops over a
// random mix of create, compare-and-set (expecting the version it last saw, so
// some fail with bad-version), sync+get and plain get on Keys keys, recording
// every operation's call and return on one monotonic clock, until MaxOps or
// Duration. Before the clock starts it creates Root and deletes the keys a
// previous run left, so every key starts absent.
//
// Errors: ZBADVERSION, ZNODEEXISTS and ZNONODE are definite answers; anything
// else (connection closed, session expired, no server, closing) is Unknown — for
// a write, applied or not; for a read, no answer. An error is returned only when
// the workload could not start (no session, setup failed); if ctx ends early
// the history so far is returned with ctx's error.
func Run(ctx context.Context, cfg Workload) (History, error) {
	if err := cfg.defaults(); err != nil {
		return History{}, err
	}
	clients := make([]*client, cfg.Clients)
	defer func() {
		var wg sync.WaitGroup
		for _, c := range clients {
			if c != nil {
				wg.Go(c.conn.Close)
			}
		}
		wg.Wait()
	}()
	for i := range clients {
		servers := cfg.Servers[i%len(cfg.Servers)]
		conn, err := connect(ctx, servers, cfg.SessionTimeout, cfg.Dialer)
		if err != nil {
			return History{}, fmt.Errorf("history: client %d: %w", i, err)
		}
		clients[i] = &client{id: i, conn: conn, keys: make([]known, cfg.Keys), reader: i >= cfg.Clients-cfg.PlainReaders,
			rng: rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(i)))}
		fmt.Fprintf(cfg.Log, "history: client %d: session 0x%x on %s (of %v)\n", i, conn.SessionID(), conn.Server(), servers)
	}
	if err := setup(clients[0].conn, cfg.Keys); err != nil {
		return History{}, err
	}

	h := History{Start: time.Now()}
	if cfg.Started != nil {
		close(cfg.Started)
	}
	since := func() time.Duration { return time.Since(h.Start) }
	var issued atomic.Int64
	// The watchdog: operations in flight when the time is up get SessionTimeout
	// to return, then their sessions are closed (they return unknown); the same
	// at once when ctx ends.
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTimer(cfg.Duration + cfg.SessionTimeout)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-done:
			return
		}
		for _, c := range clients {
			go c.conn.Close()
		}
	}()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			for ctx.Err() == nil && since() < cfg.Duration {
				if cfg.MaxOps > 0 && issued.Add(1) > int64(cfg.MaxOps) {
					return
				}
				c.ops = append(c.ops, c.do(since))
				if cfg.Pause > 0 {
					time.Sleep(cfg.Pause)
				}
			}
		})
	}
	wg.Wait()
	for _, c := range clients {
		h.Ops = append(h.Ops, c.ops...)
	}
	slices.SortStableFunc(h.Ops, func(a, b Op) int {
		return cmp.Or(cmp.Compare(a.Return, b.Return), cmp.Compare(a.Call, b.Call))
	})
	fmt.Fprintf(cfg.Log, "history: %d clients, %d keys, %v: %s\n", cfg.Clients, cfg.Keys, since().Round(time.Millisecond), h.Stats())
	return h, ctx.Err()
}

func connect(ctx context.Context, servers []string, timeout time.Duration, dialer zk.Dialer) (*zk.Conn, error) {
	if dialer == nil {
		dialer = net.DialTimeout
	}
	conn, events, err := zk.Connect(servers, timeout, zk.WithLogger(quietLogger{}), zk.WithLogInfo(false), zk.WithDialer(dialer))
	if err != nil {
		return nil, fmt.Errorf("connect %v: %w", servers, err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				// The events channel is buffered and dropped events are
				// fine: nothing reads it from now on.
				return conn, nil
			}
		case <-t.C:
			conn.Close()
			return nil, fmt.Errorf("connect %v: no session within %v", servers, timeout)
		case <-ctx.Done():
			conn.Close()
			return nil, fmt.Errorf("connect %v: no session: %w", servers, ctx.Err())
		}
	}
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// setup creates Root and deletes the keys, so that the model's initial state
// (every key absent) is true when the history starts.
func setup(conn *zk.Conn, keys int) error {
	if _, err := conn.Create(Root, nil, zk.FlagPersistent, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
		return fmt.Errorf("history: setup: create %s: %w", Root, err)
	}
	children, _, err := conn.Children(Root)
	if err != nil {
		return fmt.Errorf("history: setup: list %s: %w", Root, err)
	}
	for _, name := range children {
		if err := conn.Delete(Root+"/"+name, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
			return fmt.Errorf("history: setup: delete %s/%s: %w", Root, name, err)
		}
	}
	return nil
}

// known is what a client last saw of a key.
type known struct {
	exists  bool
	version int32
}

type client struct {
	id   int
	conn *zk.Conn
	rng  *rand.Rand
	keys []known
	seq  int
	ops  []Op
	// reader: plain gets only (Workload.PlainReaders).
	reader bool
}

// do picks, runs and records one operation.
func (c *client) do(now func() time.Duration) Op {
	k := c.rng.IntN(len(c.keys))
	kn := c.keys[k]
	op := Op{ClientID: c.id, Path: Key(k), Session: c.conn.SessionID()}
	switch r := c.rng.IntN(100); {
	case c.reader:
		op.Kind = Get
	case r < 10 || !kn.exists && r < 50:
		op.Kind = Create
	case r < 55:
		op.Kind = Set
		op.Input.Version = kn.version
	case r < 80:
		op.Kind = SyncGet
	default:
		op.Kind = Get
	}
	if op.Kind.Write() {
		c.seq++
		op.Input.Value = fmt.Sprintf("c%d-%d", c.id, c.seq)
	}

	op.Call = now()
	var err error
	switch op.Kind {
	case Create:
		_, err = c.conn.Create(op.Path, []byte(op.Input.Value), zk.FlagPersistent, zk.WorldACL(zk.PermAll))
	case Set:
		var st *zk.Stat
		if st, err = c.conn.Set(op.Path, []byte(op.Input.Value), op.Input.Version); err == nil {
			op.Output.Version = st.Version
		}
	case SyncGet:
		if _, err = c.conn.Sync(op.Path); err == nil {
			op.Output.Value, op.Output.Version, err = c.get(op.Path)
		}
	case Get:
		op.Output.Value, op.Output.Version, err = c.get(op.Path)
	}
	op.Return = now()
	op.Output.Class = classify(err)
	if op.Output.Class != OK {
		op.Output.Value, op.Output.Version = "", 0
	}
	if op.Output.Class == Unknown {
		op.Output.Err = err.Error()
	}

	switch op.Output.Class {
	case OK:
		c.keys[k] = known{exists: true, version: op.Output.Version}
	case NodeExists, BadVersion:
		c.keys[k].exists = true
	case NoNode:
		c.keys[k] = known{}
	}
	return op
}

func (c *client) get(path string) (string, int32, error) {
	b, st, err := c.conn.Get(path)
	if err != nil {
		return "", 0, err
	}
	return string(b), st.Version, nil
}

func classify(err error) Class {
	switch {
	case err == nil:
		return OK
	case errors.Is(err, zk.ErrBadVersion):
		return BadVersion
	case errors.Is(err, zk.ErrNodeExists):
		return NodeExists
	case errors.Is(err, zk.ErrNoNode):
		return NoNode
	}
	return Unknown
}

// Running is a workload started in the background by Go.
type Running struct {
	stop context.CancelFunc
	done chan struct{}
	h    History
	err  error
}

// Go starts the workload in the background and returns once every session is
// open and its clock runs — a caller's faults then meet a running workload — or
// with the error that ended it before that. Stop ends it early; Wait returns its
// history. Go sets w.Started itself.
func Go(ctx context.Context, w Workload) (*Running, error) {
	wctx, stop := context.WithCancel(ctx)
	r := &Running{stop: stop, done: make(chan struct{})}
	started := make(chan struct{})
	w.Started = started
	go func() {
		defer close(r.done)
		r.h, r.err = Run(wctx, w)
	}()
	select {
	case <-started:
		return r, nil
	case <-r.done:
		stop()
		return nil, fmt.Errorf("history: the workload did not start: %w", r.err)
	}
}

// Stop ends the workload (its operations in flight return unknown) and waits
// for it; Wait then returns its history.
func (r *Running) Stop() {
	r.stop()
	<-r.done
}

// Wait waits for the workload to end by itself (its Duration or MaxOps), by Stop
// or by the cancellation of Go's ctx, and returns its history. Ending by Stop or
// a cancellation is not an error; a deadline of ctx is.
func (r *Running) Wait() (History, error) {
	<-r.done
	r.stop()
	if errors.Is(r.err, context.Canceled) {
		return r.h, nil
	}
	return r.h, r.err
}
