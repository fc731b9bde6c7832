package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	mobynet "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Node is one ZooKeeper server of an ensemble, in its own container.
type Node struct {
	// MyID is the server id (the myid file, the N of server.N).
	MyID int
	// Name is the node's host name on the ensemble network ("zk1").
	Name string

	ens *Ensemble
	ip  netip.Addr

	mu      sync.Mutex
	ctr     testcontainers.Container
	config  config
	version Version
	// retired are the containers of earlier versions (Upgrade): stopped, kept until
	// Terminate because the current container mounts their data volume.
	retired []testcontainers.Container
}

// Version is the ZooKeeper version the node runs now (Upgrade changes it).
func (n *Node) Version() Version {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.version
}

// ContainerName is the Docker name of the node's container (after an Upgrade, the
// version is part of it).
func (n *Node) ContainerName() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.retired) > 0 {
		return fmt.Sprintf("zkchaos-%s-%s-%s", n.ens.ID, n.Name, n.version.Version)
	}
	return fmt.Sprintf("zkchaos-%s-%s", n.ens.ID, n.Name)
}

// IP is the node's container address on the ensemble's network: what its peers,
// the client hosts and the generators use. This process reaches it through the
// ensemble's reach (Dial, FourLetter, Connect), never by dialling it itself.
func (n *Node) IP() string { return n.addr().String() }

// ClientAddr is ip:2181.
func (n *Node) ClientAddr() string { return netip.AddrPortFrom(n.addr(), ClientPort).String() }

func (n *Node) String() string { return fmt.Sprintf("node %d (%s)", n.MyID, n.addr()) }

func (n *Node) addr() netip.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ip
}

// errorf names the node and the action, e.g. "node 3 (10.199.4.13): restart: ...".
func (n *Node) errorf(action string, err error) error {
	return fmt.Errorf("%s: %s: %w", n, action, err)
}

func (n *Node) create(ctx context.Context) error {
	return n.createFrom(ctx, "")
}

// createFrom creates the node's container; with volumesFrom set, its data volume is
// that container's (an upgrade keeps the dataDir).
func (n *Node) createFrom(ctx context.Context, volumesFrom string) error {
	s := n.ens.settings
	myid := []byte(strconv.Itoa(n.MyID) + "\n")
	n.mu.Lock()
	image, _ := s.imageFor(n.version)
	body := n.config.render()
	n.mu.Unlock()
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:          image,
			Name:           n.ContainerName(),
			Labels:         runLabels(n.ens.ID),
			Networks:       []string{n.ens.Network},
			NetworkAliases: map[string][]string{n.ens.Network: {n.Name}},
			Env:            map[string]string{"ZKCHAOS_PEER_WAIT_MS": strconv.FormatInt(s.peerWait.Milliseconds(), 10)},
			ConfigModifier: func(c *container.Config) { c.Hostname = n.Name },
			HostConfigModifier: func(hc *container.HostConfig) {
				// NET_ADMIN: iptables inside the node's own namespace (partitions, drops).
				hc.CapAdd = append(hc.CapAdd, "NET_ADMIN")
				hc.Tmpfs = s.tmpfs
				hc.Sysctls = s.sysctls
				if volumesFrom != "" {
					hc.VolumesFrom = []string{volumesFrom}
				} else if _, ok := s.tmpfs["/data"]; !ok {
					// The dataDir on an anonymous volume (removed with the container), not
					// on the container's fuse-overlayfs layer, whose fsyncs stall the
					// quorum under a write load.
					hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeVolume, Target: "/data"})
				}
			},
			EndpointSettingsModifier: func(eps map[string]*mobynet.EndpointSettings) {
				if ep := eps[n.ens.Network]; ep != nil {
					ep.IPAMConfig = &mobynet.EndpointIPAMConfig{IPv4Address: n.ip}
				}
			},
		},
		Logger:  quietTC{},
		Started: false,
	}
	ctr, err := testcontainers.GenericContainer(ctx, req)
	n.mu.Lock()
	n.ctr = ctr
	n.mu.Unlock()
	if err != nil {
		return n.errorf("create", hintReaper(err))
	}
	// zoo.cfg and myid in one archive, not one copy each (testcontainers' Files).
	return n.writeConf(ctx, "create: copy zoo.cfg and myid", tarEntry{"zoo.cfg", 0o644, body}, tarEntry{"myid", 0o644, myid})
}

// writeConf writes files into the container's /conf in one copy: each copy
// into a container costs the engine a mount of its root file system and a
// re-execution of dockerd to unpack, about a quarter of a CPU-second on a
// fuse-overlayfs engine.
func (n *Node) writeConf(ctx context.Context, action string, files ...tarEntry) error {
	conf, err := tarOf(files...)
	if err != nil {
		return n.errorf(action, err)
	}
	return n.dockerOp(ctx, action, func(cli *testcontainers.DockerClient, id string) error {
		_, err := cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/conf", Content: conf})
		return err
	})
}

func (n *Node) container() (testcontainers.Container, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ctr == nil {
		return nil, fmt.Errorf("%s: no container", n)
	}
	return n.ctr, nil
}

func (n *Node) id() (string, error) {
	c, err := n.container()
	if err != nil {
		return "", err
	}
	return c.GetContainerID(), nil
}

// Start starts the node's container (ZooKeeper starts from its zoo.cfg).
func (n *Node) Start(ctx context.Context) error {
	c, err := n.container()
	if err == nil {
		err = c.Start(ctx)
	}
	if err != nil {
		return n.errorf("start", err)
	}
	return nil
}

// Stop stops the node gracefully (SIGTERM, then SIGKILL after 10 s).
func (n *Node) Stop(ctx context.Context) error {
	c, err := n.container()
	if err == nil {
		timeout := 10 * time.Second
		err = c.Stop(ctx, &timeout)
	}
	if err != nil {
		return n.errorf("stop", err)
	}
	return nil
}

// Restart stops and starts the node.
func (n *Node) Restart(ctx context.Context) error {
	if err := n.Stop(ctx); err != nil {
		return err
	}
	return n.Start(ctx)
}

// Kill sends SIGKILL and waits until the container is no longer running.
func (n *Node) Kill(ctx context.Context) error {
	return n.dockerOp(ctx, "kill", func(cli *testcontainers.DockerClient, id string) error {
		wait := cli.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
		if _, err := cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
			return err
		}
		select {
		case <-wait.Result:
			return nil
		case err := <-wait.Error:
			return err
		}
	})
}

// Pause freezes every process of the node (SIGSTOP-like, via the cgroup freezer):
// the process holds its sockets but accepts nothing, as in a long GC pause.
//
// On a cgroup v1 engine a busy container may not freeze within runc's own retries
// ("unable to freeze"; runc thaws it again and leaves the retry to its caller,
// opencontainers/runc#4388), so Pause tries up to pauseAttempts times.
func (n *Node) Pause(ctx context.Context) error {
	return n.dockerOp(ctx, "pause", func(cli *testcontainers.DockerClient, id string) error {
		var err error
		for i := 0; i < pauseAttempts; i++ {
			if _, err = cli.ContainerPause(ctx, id, client.ContainerPauseOptions{}); err == nil || !strings.Contains(err.Error(), "unable to freeze") {
				return err
			}
		}
		return fmt.Errorf("%w (%d attempts)", err, pauseAttempts)
	})
}

// pauseAttempts bounds Pause's retries of a freeze the engine gave up on.
const pauseAttempts = 5

// Unpause thaws a paused node and returns once the engine reports it running
// unpaused. The engine sets its state on unpause, but the event of a pause
// moments before may still be on its way and mark the container paused again
// until the resume's own event follows (seen in make test: a pause healed
// 0.23 s after it began read "paused" right after a successful unpause), so
// Unpause waits for that, bounded by unpauseSettle.
func (n *Node) Unpause(ctx context.Context) error {
	err := n.dockerOp(ctx, "unpause", func(cli *testcontainers.DockerClient, id string) error {
		_, err := cli.ContainerUnpause(ctx, id, client.ContainerUnpauseOptions{})
		return err
	})
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, unpauseSettle)
	defer cancel()
	var paused bool
	var perr error
	if pollUntil(wctx, 20*time.Millisecond, 250*time.Millisecond, func() bool {
		paused, perr = n.Paused(wctx)
		return perr == nil && !paused
	}) == nil {
		return nil
	}
	if perr == nil {
		perr = errors.New("the engine still reports it paused")
	}
	return n.errorf("unpause", fmt.Errorf("%w (%s after the unpause)", perr, unpauseSettle))
}

// unpauseSettle bounds how long Unpause waits for the engine's state to show
// the thaw.
const unpauseSettle = 10 * time.Second

func (n *Node) dockerOp(ctx context.Context, action string, op func(*testcontainers.DockerClient, string) error) error {
	cli, err := Docker(ctx)
	if err != nil {
		return n.errorf(action, err)
	}
	id, err := n.id()
	if err == nil {
		err = op(cli, id)
	}
	if err != nil {
		return n.errorf(action, err)
	}
	return nil
}

// Running reports whether the node's container is running (not paused counts as running).
func (n *Node) Running(ctx context.Context) (bool, error) {
	st, err := n.inspect(ctx)
	if err != nil {
		return false, err
	}
	return st.Running, nil
}

// inspect reads the container's state from the engine (Running, Paused, Exited).
func (n *Node) inspect(ctx context.Context) (*container.State, error) {
	c, err := n.container()
	if err != nil {
		return nil, err
	}
	st, err := c.State(ctx)
	if err != nil {
		return nil, n.errorf("inspect", err)
	}
	return st, nil
}

// Exec runs cmd inside the node. A non-zero exit is returned as an error too,
// with the result, so callers that expect one can look at ExitCode.
func (n *Node) Exec(ctx context.Context, cmd ...string) (ExecResult, error) {
	id, err := n.id()
	if err != nil {
		return ExecResult{}, err
	}
	res, err := execIn(ctx, id, cmd)
	action := "exec " + strings.Join(cmd, " ")
	if err != nil {
		return res, n.errorf(action, err)
	}
	if res.ExitCode != 0 {
		return res, n.errorf(action, fmt.Errorf("exit %d: %s", res.ExitCode, strings.TrimSpace(res.Stderr)))
	}
	return res, nil
}

// State probes the node with `srvr` on its client port; it never fails: a node that
// does not answer is ModeDown (State.Err says why).
func (n *Node) State(ctx context.Context) State {
	return probeState(ctx, n.dialClient)
}

func (n *Node) dialClient(ctx context.Context) (net.Conn, error) { return n.Dial(ctx, ClientPort) }

// FourLetter sends a four-letter word (mntr, cons, conf, …) to the node and
// returns its whole answer (within ctx, and 15 s at most).
func (n *Node) FourLetter(ctx context.Context, word string) (string, error) {
	out, err := fourLetterVia(ctx, n.dialClient, word, 5*time.Second, 15*time.Second)
	if err != nil {
		return "", n.errorf(word, err)
	}
	return out, nil
}

// Logs returns the node's whole server log (every start of the container).
func (n *Node) Logs(ctx context.Context) (string, error) {
	c, err := n.container()
	if err != nil {
		return "", err
	}
	rc, err := c.Logs(ctx)
	if err != nil {
		return "", n.errorf("logs", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return string(b), n.errorf("logs", err)
	}
	return string(b), nil
}

// Config returns the node's zoo.cfg as rendered.
func (n *Node) Config() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return string(n.config.render())
}

// SetConfig changes one zoo.cfg key of this node; it takes effect at the next start.
func (n *Node) SetConfig(ctx context.Context, key, value string) error {
	if _, err := n.container(); err != nil {
		return err
	}
	n.mu.Lock()
	n.config.set(key, value)
	body := n.config.render()
	n.mu.Unlock()
	return n.writeConf(ctx, "set config "+key, tarEntry{"zoo.cfg", 0o644, body})
}

// Connect opens a go-zookeeper session to this node only, through the ensemble's reach.
func (n *Node) Connect(ctx context.Context) (*zk.Conn, error) {
	return connect(ctx, []string{n.ClientAddr()}, n.ens.ZKDialer(), n.String())
}

func (n *Node) remove(ctx context.Context) error {
	n.mu.Lock()
	// The current container first: it mounts the retired ones' volume.
	cs := append([]testcontainers.Container{n.ctr}, n.retired...)
	n.mu.Unlock()
	var errs []error
	for _, c := range cs {
		if c == nil {
			continue
		}
		if err := c.Terminate(ctx, testcontainers.StopTimeout(0)); err != nil && !isNotFound(err) {
			errs = append(errs, n.errorf("remove", err))
		}
	}
	return errors.Join(errs...)
}

// Upgrade replaces the node's server by another version on the same dataDir, address
// and name: it stops the container (SIGTERM), creates one from the other version's
// image that mounts the same data volume, and starts it. zoo.cfg keeps the node's
// keys, plus what the new version needs (4lw whitelist, AdminServer off). Any
// version may follow any other: a downgrade is the same operation.
func (n *Node) Upgrade(ctx context.Context, to Version) error {
	if err := n.ens.settings.checkNodeImage(ctx, to); err != nil {
		return err
	}
	if _, ok := n.ens.settings.tmpfs["/data"]; ok {
		return n.errorf("upgrade", fmt.Errorf("the dataDir is a tmpfs: it would not survive the container"))
	}
	if err := n.Stop(ctx); err != nil {
		return err
	}
	oldID, err := n.id()
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.retired = append(n.retired, n.ctr)
	n.version = to
	if to.FourLetterWhitelist {
		n.config.set("4lw.commands.whitelist", "*")
	}
	if to.AdminServer {
		n.config.set("admin.enableServer", "false")
	}
	n.mu.Unlock()
	if err := n.createFrom(ctx, oldID); err != nil {
		return n.errorf("upgrade to "+to.Version, err)
	}
	return n.Start(ctx)
}

// Exited reports whether the node's container stopped by itself or was stopped, and
// with which exit code (ZooKeeper exits with 10 on a "Severe unrecoverable error").
func (n *Node) Exited(ctx context.Context) (exited bool, code int, err error) {
	st, err := n.inspect(ctx)
	if err != nil {
		return false, 0, err
	}
	return !st.Running, st.ExitCode, nil
}

// Paused reports whether the node's container is paused (Pause).
func (n *Node) Paused(ctx context.Context) (bool, error) {
	st, err := n.inspect(ctx)
	if err != nil {
		return false, err
	}
	return st.Paused, nil
}

// LogMark is the current end of the node's log; LogSince and WaitLog take it to look
// only at what the node wrote afterwards (the log spans every start of the container).
func (n *Node) LogMark(ctx context.Context) (int, error) {
	logs, err := n.Logs(ctx)
	return len(logs), err
}

// LogSince returns what the node logged after mark.
func (n *Node) LogSince(ctx context.Context, mark int) (string, error) {
	logs, err := n.Logs(ctx)
	if err != nil {
		return "", err
	}
	if mark > len(logs) {
		return logs, nil
	}
	return logs[mark:], nil
}

// WaitLog polls the node's log after mark until it contains text: first after
// 100 ms, then at longer intervals up to 1 s (each poll reads the whole log from
// the engine).
func (n *Node) WaitLog(ctx context.Context, mark int, text string) error {
	err := pollUntil(ctx, 100*time.Millisecond, time.Second, func() bool {
		logs, err := n.LogSince(ctx, mark)
		return err == nil && strings.Contains(logs, text)
	})
	if err != nil {
		return n.errorf(fmt.Sprintf("wait for %q in the log", text), err)
	}
	return nil
}

// MoveIP gives a stopped node another address on the ensemble's network (host part
// last, e.g. 21 → 10.199.X.21), keeping its name: Docker's DNS answers the new
// address at once, while peers that resolved the old one keep dialling it — the
// stale-address trigger of F4 (docs/F4.md).
func (n *Node) MoveIP(ctx context.Context, last byte) error {
	running, err := n.Running(ctx)
	if err != nil {
		return err
	}
	if running {
		return n.errorf("move ip", fmt.Errorf("the node must be stopped first"))
	}
	ip := n.ens.Subnet.Addr().As4()
	ip[3] = last
	addr := netip.AddrFrom4(ip)
	return n.dockerOp(ctx, "move ip to "+addr.String(), func(cli *testcontainers.DockerClient, id string) error {
		if _, err := cli.NetworkDisconnect(ctx, n.ens.networkID, client.NetworkDisconnectOptions{Container: id, Force: true}); err != nil {
			return err
		}
		_, err := cli.NetworkConnect(ctx, n.ens.networkID, client.NetworkConnectOptions{Container: id, EndpointConfig: &mobynet.EndpointSettings{
			IPAMConfig: &mobynet.EndpointIPAMConfig{IPv4Address: addr},
			Aliases:    []string{n.Name},
		}})
		if err != nil {
			return err
		}
		n.mu.Lock()
		n.ip = addr
		n.mu.Unlock()
		return nil
	})
}
