package scenarios_test

import (
	"context"
	"fmt"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"

	"github.com/zkchaos/zkchaos/harness"
)

// BeServing succeeds when the ensemble (all nodes) has one leader and every node
// serves. Use it with Eventually:
//
//	Eventually(ctx, servingOf(ens)).Should(Succeed())
func servingOf(ens *harness.Ensemble, nodes ...*harness.Node) func(context.Context) error {
	return func(ctx context.Context) error { return ens.Serving(ctx, nodes...) }
}

// modeOf polls a node's mode (srvr to its container IP).
func modeOf(n *harness.Node) func(context.Context) harness.Mode {
	return func(ctx context.Context) harness.Mode { return n.State(ctx).Mode }
}

// BeServingMode matches a Mode that serves clients (leader, follower, observer, standalone).
func BeServingMode() types.GomegaMatcher {
	return gcustom.MakeMatcher(func(m harness.Mode) (bool, error) {
		return m.Serving(), nil
	}).WithTemplate("Expected node mode {{.Actual}} {{.To}} be a serving mode (leader/follower)")
}

func describe(n *harness.Node) string { return fmt.Sprintf("%s (myid %d, %s)", n.Name, n.MyID, n.IP()) }
