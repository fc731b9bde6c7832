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

// WriteZnodes creates n znodes of size bytes under parent (created if missing) with
// `workers` concurrent requests on one session, and stops after n, at ctx's end, or
// after maxFailures failed creates (a dead quorum must not be hammered forever).
func WriteZnodes(ctx context.Context, conn *zk.Conn, parent string, n, size, workers, maxFailures int) WriteResult {
	start := time.Now()
	if _, err := conn.Create(parent, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
		return WriteResult{Failed: 1, Errors: []string{fmt.Sprintf("create %s: %v", parent, err)}, Duration: time.Since(start)}
	}
	data := make([]byte, size)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	var next, written, failed atomic.Int64
	var mu sync.Mutex
	var errs []string
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for ctx.Err() == nil && failed.Load() < int64(maxFailures) {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if _, err := conn.Create(Path(parent, i), data, 0, zk.WorldACL(zk.PermAll)); err != nil {
					failed.Add(1)
					mu.Lock()
					if len(errs) < 5 {
						errs = append(errs, fmt.Sprintf("create %s: %v", Path(parent, i), err))
					}
					mu.Unlock()
					continue
				}
				written.Add(1)
			}
		})
	}
	wg.Wait()
	return WriteResult{Written: int(written.Load()), Failed: int(failed.Load()), Errors: errs, Duration: time.Since(start)}
}
