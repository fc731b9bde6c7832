package load

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ReuseConfig is the client-side fix of F5 (docs/F5.md): the same request rate,
// carried by a pool of long-lived sessions instead of a new connection per request.
type ReuseConfig struct {
	Target   string
	Rate     int           // requests per second, open loop (default 8000)
	Duration time.Duration // default 5 s, at most 5 min
	Sessions int           // pool size (default 32)
	Timeout  time.Duration // per request (default 5 s)
}

// ReuseResult counts the requests.
type ReuseResult struct {
	Target    string  `json:"target"`
	Sessions  int     `json:"sessions"`
	Connected int     `json:"sessions_connected"`
	Requests  int64   `json:"requests"`
	Achieved  float64 `json:"achieved_rate"`
	OK        int64   `json:"ok"`
	Failed    int64   `json:"failed"`
	Dropped   int64   `json:"dropped_pool_busy"` // scheduled while every session's queue was full
	P50Ms     float64 `json:"request_p50_ms"`
	P99Ms     float64 `json:"request_p99_ms"`
	LastError string  `json:"last_error,omitempty"`
}

// existsRequest is `exists /` (OpCode 3, no watch), framed, with the given xid.
func existsRequest(xid int32) []byte {
	b := make([]byte, 4, 4+4+4+4+1+1)
	b = binary.BigEndian.AppendUint32(b, uint32(xid))
	b = binary.BigEndian.AppendUint32(b, 3) // exists
	b = binary.BigEndian.AppendUint32(b, 1) // path length
	b = append(b, '/', 0)                   // path "/", watch=false
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// Reuse opens the pool, sends `exists /` requests at Rate spread over the sessions
// for Duration, closes the sessions, and reports.
func Reuse(ctx context.Context, cfg ReuseConfig) ReuseResult {
	if cfg.Rate <= 0 {
		cfg.Rate = 8000
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 5 * time.Second
	}
	cfg.Duration = min(cfg.Duration, 5*time.Minute)
	if cfg.Sessions <= 0 {
		cfg.Sessions = 32
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	res := ReuseResult{Target: cfg.Target, Sessions: cfg.Sessions}
	var ok, failed atomic.Int64
	var lastErr atomic.Value
	var mu sync.Mutex
	var lat []int64
	var queues []chan struct{}
	var wg sync.WaitGroup
	for range cfg.Sessions {
		dctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		s, err := Dial(dctx, cfg.Target, 20*time.Second)
		cancel()
		if err != nil {
			lastErr.Store(fmt.Sprintf("open session: %v", err))
			continue
		}
		res.Connected++
		q := make(chan struct{}, 256)
		queues = append(queues, q)
		wg.Go(func() {
			defer s.Close()
			var mine []int64
			xid := int32(1)
			var hdr [16]byte
			for range q {
				t0 := time.Now()
				_ = s.conn.SetDeadline(t0.Add(cfg.Timeout))
				err := func() error {
					if _, err := s.conn.Write(existsRequest(xid)); err != nil {
						return err
					}
					// Reply: length, then xid, zxid, err and the body (a Stat).
					if _, err := io.ReadFull(s.conn, hdr[:4]); err != nil {
						return err
					}
					n := binary.BigEndian.Uint32(hdr[:4])
					if n < 16 || n > 1<<20 {
						return fmt.Errorf("reply length %d", n)
					}
					if _, err := io.ReadFull(s.conn, hdr[:16]); err != nil {
						return err
					}
					if code := int32(binary.BigEndian.Uint32(hdr[12:16])); code != 0 {
						return fmt.Errorf("exists /: error code %d", code)
					}
					_, err := io.CopyN(io.Discard, s.conn, int64(n)-16)
					return err
				}()
				xid++
				if err != nil {
					failed.Add(1)
					lastErr.Store(err.Error())
					if errors.Is(err, io.EOF) {
						return
					}
					continue
				}
				ok.Add(1)
				mine = append(mine, time.Since(t0).Microseconds())
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	start := time.Now()
	total := int(float64(cfg.Rate) * cfg.Duration.Seconds())
	interval := time.Second / time.Duration(cfg.Rate)
	sent := 0
	for sent < total && ctx.Err() == nil && len(queues) > 0 {
		if wait := time.Until(start.Add(time.Duration(sent) * interval)); wait > 0 {
			time.Sleep(max(wait, time.Millisecond))
		}
		now := time.Now()
		for sent < total && !start.Add(time.Duration(sent)*interval).After(now) {
			res.Requests++
			select {
			case queues[sent%len(queues)] <- struct{}{}:
			default:
				res.Dropped++
			}
			sent++
		}
	}
	// Dropped requests never reached a session: only those queued count.
	res.Achieved = float64(res.Requests-res.Dropped) / time.Since(start).Seconds()
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	res.OK, res.Failed = ok.Load(), failed.Load()
	if e, ok := lastErr.Load().(string); ok {
		res.LastError = e
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		res.P50Ms = float64(lat[len(lat)/2]) / 1000
		res.P99Ms = float64(lat[min(len(lat)-1, len(lat)*99/100)]) / 1000
	}
	return res
}
