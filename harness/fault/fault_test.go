package fault_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/fault"
)

func TestSumDropped(t *testing.T) {
	// `iptables -L ZKCHAOS-1 -v -n -x` in a 3.9.3 node (iptables-nft).
	listing := `Chain ZKCHAOS-1 (1 references)
    pkts      bytes target     prot opt in     out     source               destination
      37     2220 DROP       all  --  *      *       10.199.7.12          0.0.0.0/0
       5      300 DROP       all  --  *      *       10.199.7.13          0.0.0.0/0
`
	if got := fault.SumDropped(listing); got != 42 {
		t.Fatalf("SumDropped = %d, want 42", got)
	}
}

func TestQdiscSent(t *testing.T) {
	out := `qdisc netem 8001: root refcnt 2 limit 1000 delay 100ms  20ms
 Sent 12345 bytes 87 pkt (dropped 0, overlimits 0 requeues 0)
 backlog 0b 0p requeues 0
`
	if got := fault.QdiscSent(out, "netem"); got != 87 {
		t.Fatalf("QdiscSent = %d, want 87", got)
	}
	if got := fault.QdiscSent("qdisc noqueue 0: root refcnt 2\n Sent 5 bytes 1 pkt\n", "netem"); got != 0 {
		t.Fatalf("QdiscSent of another qdisc = %d, want 0", got)
	}
}

func TestParseKinds(t *testing.T) {
	ks, err := fault.ParseKinds("partition, kill,partition")
	if err != nil || len(ks) != 2 || ks[0] != fault.Partition || ks[1] != fault.Kill {
		t.Fatalf("ParseKinds = %v, %v", ks, err)
	}
	if _, err := fault.ParseKinds("partition,meteor"); err == nil {
		t.Fatal("an unknown kind was accepted")
	}
	if all, _ := fault.ParseKinds("all"); len(all) != len(fault.Kinds) {
		t.Fatalf("all = %v", all)
	}
}

// TestEngineFaults applies every fault of the library to a real 3-node
// ensemble, one at a time: each must show its evidence, heal with the heal
// checked, and leave an ensemble that serves again.
func TestEngineFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a Docker engine and the images (make examples)")
	}
	version := os.Getenv("ZKCHAOS_TEST_VERSION")
	if version == "" {
		version = harness.DefaultVersion
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	start := func(opts ...harness.Option) *harness.Ensemble {
		ens, err := harness.Run(ctx, append(opts, harness.WithVersion(version))...)
		t.Cleanup(func() {
			if err := ens.Terminate(context.WithoutCancel(ctx)); err != nil {
				t.Error(err)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return ens
	}
	// Durable dataDirs for the faults that restart nodes; the full disk on an
	// ensemble of its own, whose dataDirs are a tmpfs (never the engine's disk).
	durable, small := start(), start(harness.WithTmpfs("/data", "64m"))
	specs := []fault.Spec{
		{Kind: fault.Partition, Groups: [][]int{{1, 2}, {3}}},
		{Kind: fault.Isolate, Nodes: []int{2}},
		// One-way drop from the leader (two followers exchange nothing
		// between elections, so a drop between them would see no packets).
		{Kind: fault.Drop, Nodes: []int{1}},
		{Kind: fault.Loss, Nodes: []int{3}, Loss: 0.5},
		{Kind: fault.Delay, Nodes: []int{1}, Delay: 100 * time.Millisecond, Jitter: 20 * time.Millisecond},
		{Kind: fault.Pause, Nodes: []int{2}},
		{Kind: fault.Kill, Nodes: []int{3}},
		{Kind: fault.StopLeader},
		{Kind: fault.DiskFull, Nodes: []int{1}},
		{Kind: fault.ClientCut, Nodes: []int{2}},
	}
	for _, spec := range specs {
		ens := durable
		if spec.Kind == fault.DiskFull {
			ens = small
		}
		t.Run(string(spec.Kind), func(t *testing.T) {
			f, err := fault.Apply(ctx, ens, spec)
			if errors.Is(err, fault.ErrUnsupported) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Heal(context.WithoutCancel(ctx))
			// Traffic that the fault acts on: the peers talk every tick; a
			// client-cut needs a client (a srvr probe from this process).
			wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
			defer wcancel()
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for !f.Took && wctx.Err() == nil {
				if spec.Kind == fault.ClientCut {
					ens.Node(2).State(wctx)
				}
				if err := f.Probe(wctx); err != nil && wctx.Err() == nil {
					t.Fatal(err)
				}
				select {
				case <-wctx.Done():
				case <-tick.C:
				}
			}
			t.Logf("%s", f)
			if !f.Took {
				t.Fatalf("%s: no evidence that it took effect: %s", spec, f.Evidence)
			}
			if err := f.Heal(ctx); err != nil {
				t.Fatal(err)
			}
			t.Logf("healed: %s", f.HealEvidence)
			if !f.Healed {
				t.Fatalf("not healed: %s", f.HealEvidence)
			}
			sctx, scancel := context.WithTimeout(ctx, 60*time.Second)
			defer scancel()
			if err := ens.WaitServing(sctx); err != nil {
				t.Fatalf("after healing %s: %v", spec, err)
			}
		})
	}
}

// Cut a follower off from the rest for a while: its firewall counters prove
// the partition took effect, Heal removes the rules and checks they are gone,
// and the ensemble serves again. (Needs a Docker engine and the images: go run
// github.com/zkchaos/zkchaos/cmd/zkchaos images.)
func ExampleApply() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ens, err := harness.Run(ctx, harness.WithVersion("3.9.3"))
	defer ens.Terminate(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := fault.Apply(ctx, ens, fault.Spec{Kind: fault.Isolate, Nodes: []int{3}})
	if err != nil {
		fmt.Println(err)
		return
	}
	// zk3 loses its quorum: it stops serving until the partition heals.
	for ens.Node(3).State(ctx).Mode.Serving() && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond) // polling zk3's state, not waiting a fixed time
	}
	if err := f.Heal(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("took effect:", f.Took, "packets dropped:", f.Packets > 0)
	fmt.Println("healed:", f.Healed)
	fmt.Println("serving again:", ens.WaitServing(ctx) == nil)
	// Output:
	// took effect: true packets dropped: true
	// healed: true
	// serving again: true
}
