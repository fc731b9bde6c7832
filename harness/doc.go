// Package harness runs real Apache ZooKeeper ensembles in containers for tests,
// breaks them, and observes them.
//
// An ensemble is started with Run and functional options, and removed with
// Terminate (or CleanupEnsemble in a test, which also keeps each node's log,
// zoo.cfg and mntr when the test failed):
//
//	ens, err := harness.Run(ctx, harness.WithVersion("3.9.3"), harness.WithNodes(3))
//	harness.CleanupEnsemble(t, ens)
//	if err != nil {
//		t.Fatal(err)
//	}
//	leader, _ := ens.Leader(ctx)
//	_ = leader.Kill(ctx)
//	_ = ens.WaitServing(ctx, ens.Others(leader)...) // a new leader among the others
//
// Each ensemble has a Docker network of its own (10.199.X.0/24) and each node a
// fixed address on it, the same across restarts. Nodes (Node) are stopped, killed,
// paused, restarted, reconfigured (SetConfig, RollingRestart), moved (MoveIP),
// upgraded to another version on the same data (Upgrade), and observed: State (the
// srvr answer), FourLetter, Logs, LogSince/WaitLog, Exec. Client hosts
// (StartClient) are containers of their own on the network running zkchaos's
// bounded load generators; fault tools run inside the containers (iptables in a
// node's own namespace).
//
// # Reaching the nodes
//
// Everything this process sends to a node — readiness probes, four-letter words,
// go-zookeeper sessions (Connect, ZKDialer), the history workload — goes through
// one seam, the ensemble's Reach: ReachDirect dials the container addresses where
// this host holds an address on the ensemble's network (a Linux host with a local
// engine); ReachTunnel carries each connection through the engine's API, over a
// `docker exec` into a small gateway container on the network, which works on
// Docker Desktop, in Docker-in-Docker jobs and with a remote DOCKER_HOST alike.
// ReachAuto (the default) chooses; WithReach and $ZKCHAOS_REACH override it.
// DialStats and ProcessDialStats count the connections per path. A node whose
// container runs but cannot be reached is reported as such ("running, not
// reachable from this process via direct: …"), not as down.
//
// # Images
//
// The node images (zkchaos/zookeeper:<version>) are built from Debian's packages,
// and ClientImage holds a static zkchaos binary for client hosts and gateways;
// no registry is needed and no test builds anything. From a module that uses the
// harness, build them once with
//
//	go run github.com/zkchaos/zkchaos/cmd/zkchaos images
//
// (through the engine where it has debian:<suite>, else with debootstrap:
// BuildImagesWith; SaveImages and LoadImages carry them to another engine).
// WithImage, or $ZKCHAOS_IMAGE_<version>, runs a version's nodes from another
// image; Run first checks it against the contract of docs/images.md
// (CheckImageContract) and names what is missing.
//
// # Process-wide state
//
// Importing the package changes nothing in the process: no environment variable,
// no logger. testcontainers-go's reaper (Ryuk) stays as the user configured it;
// where its image cannot be pulled, set TESTCONTAINERS_RYUK_DISABLED=true — every
// container and network the harness makes carries the labels LabelManaged,
// LabelRun, LabelPID and LabelHost, and Terminate and Sweep remove them.
package harness
