package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
)

// WriteResult is what a bounded writer did.
type WriteResult struct {
	Written  int // znodes created
	Failed   int
	Errors   []string // the first few distinct errors
	Duration time.Duration
}

// OpsPerSec is the achieved create rate.
func (r WriteResult) OpsPerSec() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Written) / r.Duration.Seconds()
}

// Path is the znode the writer creates as number i (0-based) under parent.
func Path(parent string, i int) string { return fmt.Sprintf("%s/n-%07d", parent, i) }

// Writer creates N znodes of Size bytes under Parent with Workers concurrent
// requests on one session. It stops after N, at ctx's end, or after MaxFailures
// failed creates (a dead quorum must not be hammered forever).
type Writer struct {
	Parent                        string
	N, Size, Workers, MaxFailures int
	// Backoff paces a worker after a failed create, so that a client reconnecting to
	// another server (which fails every request in flight at once) does not burn
	// through MaxFailures in milliseconds.
	Backoff time.Duration

	// Written counts successful creates while Run goes on (read it from a monitor).
	Written atomic.Int64
}

// Run writes and returns what happened.
func (w *Writer) Run(ctx context.Context, conn *zk.Conn) WriteResult {
	start := time.Now()
	if _, err := conn.Create(w.Parent, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
		return WriteResult{Failed: 1, Errors: []string{fmt.Sprintf("create %s: %v", w.Parent, err)}, Duration: time.Since(start)}
	}
	data := make([]byte, w.Size)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	var next, failed atomic.Int64
	var mu sync.Mutex
	var errs []string
	var wg sync.WaitGroup
	for range max(w.Workers, 1) {
		wg.Go(func() {
			for ctx.Err() == nil && failed.Load() < int64(max(w.MaxFailures, 1)) {
				i := int(next.Add(1) - 1)
				if i >= w.N {
					return
				}
				if _, err := conn.Create(Path(w.Parent, i), data, 0, zk.WorldACL(zk.PermAll)); err != nil {
					failed.Add(1)
					mu.Lock()
					if len(errs) < 5 {
						errs = append(errs, fmt.Sprintf("create %s: %v", Path(w.Parent, i), err))
					}
					mu.Unlock()
					if w.Backoff > 0 {
						select {
						case <-ctx.Done():
						case <-time.After(w.Backoff):
						}
					}
					continue
				}
				w.Written.Add(1)
			}
		})
	}
	wg.Wait()
	return WriteResult{Written: int(w.Written.Load()), Failed: int(failed.Load()), Errors: errs, Duration: time.Since(start)}
}
