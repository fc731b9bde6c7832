package harness_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
	"github.com/zkchaos/zkchaos/harness/load"
)

// Start three nodes, kill the leader, and wait until the two others have elected a
// new one. (Needs a Docker engine and the images: go run
// github.com/zkchaos/zkchaos/cmd/zkchaos images.)
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ens, err := harness.Run(ctx, harness.WithVersion("3.9.3"), harness.WithNodes(3))
	defer ens.Terminate(ctx) // also after an error: Run returns what it built
	if err != nil {
		fmt.Println(err)
		return
	}
	leader, err := ens.Leader(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := leader.Kill(ctx); err != nil {
		fmt.Println(err)
		return
	}
	// The survivors serve again, with one leader among them.
	if err := ens.WaitServing(ctx, ens.Others(leader)...); err != nil {
		fmt.Println(err)
		return
	}
	next, err := ens.Leader(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("old leader:", leader.State(ctx).Mode)
	fmt.Println("new leader elected:", next != leader)
	fmt.Println("followers:", len(ens.Followers(ctx)))
	// Output:
	// old leader: down
	// new leader elected: true
	// followers: 1
}

// Inject a fault: freeze a follower as a long GC pause would. The quorum goes on
// serving without it, and it rejoins once thawed.
func ExampleNode_Pause() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ens, err := harness.Run(ctx, harness.WithVersion("3.9.3"), harness.WithNodes(3))
	defer ens.Terminate(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	follower := ens.Followers(ctx)[0]
	if err := follower.Pause(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("paused follower answers:", follower.State(ctx).Mode)
	fmt.Println("the others serve:", ens.Serving(ctx, ens.Others(follower)...) == nil)
	if err := follower.Unpause(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("all serve again:", ens.WaitServing(ctx) == nil)
	// Output:
	// paused follower answers: down
	// the others serve: true
	// all serve again: true
}

// Run a detector on a node's log: one client host opens more sessions than
// maxClientCnxns allows, and the F3 detector names the limit.
func ExampleNode_Logs() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ens, err := harness.Run(ctx, harness.WithVersion("3.9.3"), harness.WithConfig("maxClientCnxns", "2"))
	defer ens.Terminate(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	zk1 := ens.Node(1)
	accepted, refused := 0, 0
	for range 4 {
		conn, err := zk1.Dial(ctx, harness.ClientPort) // through the harness's reach
		if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
			refused++ // a server at its limit may close the connection before the dial returns
			continue
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		s, err := load.Open(ctx, conn, 10*time.Second)
		switch {
		case errors.Is(err, load.ErrRefused):
			refused++
		case err != nil:
			fmt.Println(err)
			return
		default:
			accepted++
			defer s.Close()
		}
	}
	fmt.Printf("sessions accepted: %d, refused: %d\n", accepted, refused)

	// The server logs a refusal as it closes the connection; wait until the
	// line is in the log (under load it can trail the closed socket).
	if err := zk1.WaitLog(ctx, 0, "Too many connections"); err != nil {
		fmt.Println(err)
		return
	}
	logs, err := zk1.Logs(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	nl, err := detect.ScanLog(zk1.Name, strings.NewReader(logs))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range detect.Detect(detect.Observations{Logs: []*detect.NodeLog{nl}}) {
		fmt.Printf("%s on %s, names the limit: %v\n", f.Failure, f.Node, strings.Contains(strings.Join(f.Evidence, " "), "max is 2"))
	}
	// Output:
	// sessions accepted: 2, refused: 2
	// F3 on zk1, names the limit: true
}
