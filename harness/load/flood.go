package load

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// FloodConfig is a short-connection flood: what an SDK used from every web request
// does (F5, docs/F5.md: connect, handshake, close, 6–8K times a second).
type FloodConfig struct {
	Target   string        // ip:port of one server
	Rate     int           // attempts per second, open loop (default 8000)
	Duration time.Duration // how long to keep scheduling (default 5 s, at most 5 min)
	// Timeout bounds one attempt: TCP connect plus handshake (default 5 s).
	Timeout time.Duration
	// CloseSession sends closeSession before closing, as a well-behaved SDK does
	// (otherwise every session lingers until it expires).
	CloseSession bool
	// MaxInFlight bounds concurrent attempts (default 20000); attempts scheduled
	// while it is reached are counted as Skipped, never queued.
	MaxInFlight int
}

func (c *FloodConfig) defaults() {
	if c.Rate <= 0 {
		c.Rate = 8000
	}
	if c.Duration <= 0 {
		c.Duration = 5 * time.Second
	}
	c.Duration = min(c.Duration, 5*time.Minute)
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 20000
	}
}

// FloodResult counts each kind of outcome separately.
type FloodResult struct {
	Target   string `json:"target"`
	TargetHz int    `json:"target_rate"`
	// Attempts are the attempts scheduled; Sent those actually started (the
	// others were Skipped at the in-flight limit or Late, and never reached the
	// wire).
	Attempts int64 `json:"attempts"`
	Sent     int64 `json:"sent"`
	// Achieved is connections started per second: Sent over the scheduled time.
	Achieved float64 `json:"achieved_rate"`
	MaxLagMs float64 `json:"max_schedule_lag_ms"`
	Skipped  int64   `json:"skipped_in_flight_limit"`
	// Late were due before Duration ended but not launched by then (the
	// client host could not keep up): never sent, counted as scheduled.
	Late      int64   `json:"not_sent_late"`
	OK        int64   `json:"handshakes_ok"`
	ConnectTO int64   `json:"connect_timeouts"` // SYN never answered within Timeout
	Refused   int64   `json:"connect_refused"`  // RST to the SYN
	Resets    int64   `json:"resets"`           // reset after connect
	Closed    int64   `json:"closed_by_server"` // EOF before the answer (e.g. maxClientCnxns)
	ShakeTO   int64   `json:"handshake_timeouts"`
	Other     int64   `json:"other_errors"`
	P50Ms     float64 `json:"connect_p50_ms"`
	P90Ms     float64 `json:"connect_p90_ms"`
	P99Ms     float64 `json:"connect_p99_ms"`
	MaxMs     float64 `json:"connect_max_ms"`
	ElapsedS  float64 `json:"elapsed_s"`
	LastError string  `json:"last_error,omitempty"`
}

// Failures is every attempt that did not complete a handshake.
func (r FloodResult) Failures() int64 {
	return r.ConnectTO + r.Refused + r.Resets + r.Closed + r.ShakeTO + r.Other
}

// Flood runs an open-loop flood: attempts are started on schedule whether or not
// earlier ones finished, so a slow server does not slow the attacker. It stops by
// itself after Duration (plus at most Timeout for the last attempts) or at ctx's end.
func Flood(ctx context.Context, cfg FloodConfig) FloodResult {
	cfg.defaults()
	res := FloodResult{Target: cfg.Target, TargetHz: cfg.Rate}
	total := int(float64(cfg.Rate) * cfg.Duration.Seconds())
	latencies := make([]int64, total) // µs, -1 when the connect failed
	var (
		inFlight                                          atomic.Int64
		ok, connTO, refused, resets, closed, shakeTO, oth atomic.Int64
		lastErr                                           atomic.Value
		wg                                                sync.WaitGroup
	)
	dialer := net.Dialer{Timeout: cfg.Timeout}
	attempt := func(i int) {
		defer wg.Done()
		defer inFlight.Add(-1)
		actx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		t0 := time.Now()
		conn, err := dialer.DialContext(actx, "tcp", cfg.Target)
		if err != nil {
			latencies[i] = -1
			switch {
			case errors.Is(err, syscall.ECONNREFUSED):
				refused.Add(1)
			case closedByServer(err):
				resets.Add(1)
			case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
				connTO.Add(1)
			default:
				oth.Add(1)
				lastErr.Store(err.Error())
			}
			return
		}
		latencies[i] = time.Since(t0).Microseconds()
		defer conn.Close()
		_ = conn.SetDeadline(t0.Add(cfg.Timeout))
		s, err := handshake(conn, 30*time.Second)
		switch {
		case err == nil:
			ok.Add(1)
			if cfg.CloseSession {
				_ = s.Close()
			}
		case closedByServer(err):
			resets.Add(1)
		case errors.Is(err, ErrRefused):
			closed.Add(1)
		case isTimeout(err):
			shakeTO.Add(1)
		default:
			oth.Add(1)
			lastErr.Store(err.Error())
		}
	}

	start := time.Now()
	interval := time.Second / time.Duration(cfg.Rate)
	var maxLag time.Duration
	launched := 0
	// The schedule ends at Duration even when this process cannot keep up (a
	// starved client host): what was due and not launched by then is counted
	// as scheduled and not sent, never sent late.
	deadline := start.Add(cfg.Duration)
	for launched < total && ctx.Err() == nil && time.Now().Before(deadline) {
		due := start.Add(time.Duration(launched) * interval)
		if wait := time.Until(due); wait > 0 {
			// Sleep in ≥1 ms steps and then catch up with a batch: per-attempt sleeps
			// of 125 µs are below the timer's resolution.
			time.Sleep(max(wait, time.Millisecond))
		}
		now := time.Now()
		maxLag = max(maxLag, now.Sub(due))
		// Every attempt whose time has come starts now.
		for launched < total && !start.Add(time.Duration(launched)*interval).After(now) {
			if launched%256 == 0 && !time.Now().Before(deadline) {
				break
			}
			res.Attempts++
			if inFlight.Load() >= int64(cfg.MaxInFlight) {
				res.Skipped++
				latencies[launched] = -2
				launched++
				continue
			}
			inFlight.Add(1)
			wg.Add(1)
			go attempt(launched)
			launched++
		}
	}
	scheduled := time.Since(start)
	if ctx.Err() == nil {
		// Due within Duration, not launched in time: scheduled, not sent.
		res.Attempts += int64(total - launched)
		res.Late = int64(total - launched)
	}
	wg.Wait()
	res.ElapsedS = time.Since(start).Seconds()
	res.Sent = res.Attempts - res.Skipped - res.Late
	res.Achieved = float64(res.Sent) / scheduled.Seconds()
	res.MaxLagMs = float64(maxLag.Microseconds()) / 1000
	res.OK, res.ConnectTO, res.Refused, res.Resets = ok.Load(), connTO.Load(), refused.Load(), resets.Load()
	res.Closed, res.ShakeTO, res.Other = closed.Load(), shakeTO.Load(), oth.Load()
	if e, ok := lastErr.Load().(string); ok {
		res.LastError = e
	}
	var lat []int64
	for _, l := range latencies[:launched] {
		if l >= 0 {
			lat = append(lat, l)
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1000
	}
	res.P50Ms, res.P90Ms, res.P99Ms, res.MaxMs = pct(0.50), pct(0.90), pct(0.99), pct(1)
	return res
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
