package harness

import (
	"errors"
	"fmt"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
)

func TestSweepSkipsWhatItsRunRemovedMeanwhile(t *testing.T) {
	for _, tc := range []struct {
		err  error
		gone bool
	}{
		{fmt.Errorf("Error response from daemon: No such container: b528e138917e: %w", cerrdefs.ErrNotFound), true},
		{errors.New("Error response from daemon: removal of container b528e138917e is already in progress"), true},
		{errors.New("Error response from daemon: error while removing network: network zkchaos-1 has active endpoints"), false},
		{errors.New("Error response from daemon: cannot remove container: device or resource busy"), false},
	} {
		if got := goneMeanwhile(tc.err); got != tc.gone {
			t.Errorf("goneMeanwhile(%q) = %v, want %v", tc.err, got, tc.gone)
		}
	}
}
