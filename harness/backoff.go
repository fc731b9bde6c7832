package harness

import (
	"context"
	"time"
)

// backoff paces a poll: the first wait is first, each next one twice the last, up
// to limit. A condition that holds soon is seen soon; a long wait costs the
// servers and the engine few probes.
type backoff struct {
	wait, limit time.Duration
	t           *time.Timer
}

func newBackoff(first, limit time.Duration) *backoff {
	return &backoff{wait: first, limit: limit}
}

// Next returns a channel that fires after the current wait, and doubles the wait
// for the next call.
func (b *backoff) Next() <-chan time.Time {
	if b.t == nil {
		b.t = time.NewTimer(b.wait)
	} else {
		b.t.Reset(b.wait)
	}
	b.wait = min(2*b.wait, b.limit)
	return b.t.C
}

// Stop releases the timer.
func (b *backoff) Stop() {
	if b.t != nil {
		b.t.Stop()
	}
}

// pollUntil checks cond at once, then after each of the backoff's waits from
// first up to limit, until it holds (nil) or ctx ends (ctx.Err()).
func pollUntil(ctx context.Context, first, limit time.Duration, cond func() bool) error {
	b := newBackoff(first, limit)
	defer b.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-b.Next():
		}
	}
	return nil
}
