package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// HoldResult is what HoldSessions saw, session by session.
type HoldResult struct {
	Accepted []int // 1-based numbers of the sessions the server accepted
	Refused  []int // closed by the server before the handshake answer
	Failed   []int // other errors (timeouts, resets before connect, …)
	Errors   []string
}

// HoldSessions opens count sessions to addr one at a time — each waits for its
// answer, as separate client processes starting one after another would, so the
// server's per-IP limit is reached deterministically — and keeps the accepted ones
// alive until ctx ends, then closes them the way an SDK does. Progress lines go to w.
// open is called once every session was tried, before holding.
func HoldSessions(ctx context.Context, addr string, count int, sessionTimeout time.Duration, w io.Writer, open func(HoldResult)) HoldResult {
	var res HoldResult
	var sessions []*Session
	for i := 1; i <= count; i++ {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err := Dial(dctx, addr, sessionTimeout)
		cancel()
		switch {
		case err == nil:
			res.Accepted = append(res.Accepted, i)
			sessions = append(sessions, s)
			s.KeepAlive(ctx)
			fmt.Fprintf(w, "session %d/%d: accepted, id 0x%x, timeout %s\n", i, count, s.ID, s.Timeout)
		case errors.Is(err, ErrRefused):
			res.Refused = append(res.Refused, i)
			fmt.Fprintf(w, "session %d/%d: refused: %v\n", i, count, err)
		default:
			res.Failed = append(res.Failed, i)
			res.Errors = append(res.Errors, err.Error())
			fmt.Fprintf(w, "session %d/%d: failed: %v\n", i, count, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if open != nil {
		open(res)
	}
	<-ctx.Done()
	for _, s := range sessions {
		_ = s.Close()
	}
	return res
}
