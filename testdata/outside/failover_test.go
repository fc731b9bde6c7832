// Package outside is a module of its own that uses zkchaos as a library, as
// another project's tests would: the README's failover example, as written there.
// make outside-module runs it against the real engine.
package outside

import (
	"context"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkchaos/zkchaos/harness"
)

func TestLeaderFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	ens, err := harness.Run(ctx,
		harness.WithVersion("3.9.3"),
		harness.WithNodes(3))
	harness.CleanupEnsemble(t, ens) // logs, zoo.cfg, mntr kept if the test fails; then removed
	if err != nil {
		t.Fatal(err)
	}

	leader, err := ens.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := leader.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	// The two survivors serve again, with one leader among them.
	if err := ens.WaitServing(ctx, ens.Others(leader)...); err != nil {
		t.Fatal(err)
	}
	next, err := ens.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if next == leader {
		t.Fatalf("%s still leads after it was killed", leader)
	}

	conn, err := next.Connect(ctx) // go-zookeeper, through the harness's reach
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Create("/after-failover", []byte("ok"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("write after the failover: %v", err)
	}
	t.Logf("%s took over from %s; this process reached the nodes via %s (%s)", next, leader, ens.Reach(), ens.DialStats())
}
