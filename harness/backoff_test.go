package harness

import (
	"testing"
	"time"
)

func TestBackoffDoublesUpToItsLimit(t *testing.T) {
	b := newBackoff(time.Millisecond, 4*time.Millisecond)
	defer b.Stop()
	var waits []time.Duration
	for range 5 {
		waits = append(waits, b.wait)
		start := time.Now()
		<-b.Next()
		if got := time.Since(start); got < waits[len(waits)-1] {
			t.Fatalf("fired after %s, before its wait %s", got, waits[len(waits)-1])
		}
	}
	want := []time.Duration{1, 2, 4, 4, 4}
	for i, w := range want {
		if waits[i] != w*time.Millisecond {
			t.Fatalf("waits %v, want 1, 2, 4, 4, 4 ms", waits)
		}
	}
}
