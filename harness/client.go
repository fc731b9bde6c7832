package harness

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
)

// Client is a client host: a container with its own IP on the ensemble's network,
// running zkchaos's own load generator as its only process. The generator's output
// is the container log; stopping the container ends its sessions.
type Client struct {
	Name string

	ens *Ensemble
	ip  netip.Addr
	ctr testcontainers.Container
}

// IP is the client host's address, the source address servers see.
func (c *Client) IP() string { return c.ip.String() }

func (c *Client) String() string { return fmt.Sprintf("client %s (%s)", c.Name, c.ip) }

// StartClient starts a client host on the ensemble's network running
// `zkchaos <args...>`. Client hosts get addresses .101, .102, … in start order.
func (e *Ensemble) StartClient(ctx context.Context, name string, args ...string) (*Client, error) {
	bin, err := ClientBinary(ctx)
	if err != nil {
		return nil, err
	}
	body, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	ip := e.Subnet.Addr().As4()
	ip[3] = byte(101 + len(e.clients))
	c := &Client{Name: name, ens: e, ip: netip.AddrFrom4(ip)}
	e.clients = append(e.clients, c)
	e.mu.Unlock()

	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			// The newest node image has every tool a client host needs; no other image exists here.
			Image:          Versions[len(Versions)-1].Image(),
			Name:           fmt.Sprintf("zkchaos-%s-client-%s", e.ID, name),
			Labels:         runLabels(e.ID),
			Networks:       []string{e.Network},
			NetworkAliases: map[string][]string{e.Network: {name}},
			Entrypoint:     append([]string{"/usr/local/bin/zkchaos"}, args...),
			Files: []testcontainers.ContainerFile{
				{Reader: bytes.NewReader(body), ContainerFilePath: "/usr/local/bin/zkchaos", FileMode: 0o755},
			},
			ConfigModifier: func(cfg *container.Config) { cfg.Hostname = name },
			EndpointSettingsModifier: func(eps map[string]*mobynet.EndpointSettings) {
				if ep := eps[e.Network]; ep != nil {
					ep.IPAMConfig = &mobynet.EndpointIPAMConfig{IPv4Address: c.ip}
				}
			},
		},
		Started: true,
	}
	c.ctr, err = testcontainers.GenericContainer(ctx, req)
	if err != nil {
		return c, fmt.Errorf("%s: start: %w", c, err)
	}
	return c, nil
}

// Output returns what the client's generator printed so far.
func (c *Client) Output(ctx context.Context) (string, error) {
	rc, err := c.ctr.Logs(ctx)
	if err != nil {
		return "", fmt.Errorf("%s: logs: %w", c, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

// WaitOutput polls the client's output until it contains text.
func (c *Client) WaitOutput(ctx context.Context, text string) (string, error) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		out, err := c.Output(ctx)
		if err == nil && strings.Contains(out, text) {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return out, fmt.Errorf("%s: waiting for %q: %w (output so far: %s)", c, text, ctx.Err(), out)
		case <-t.C:
		}
	}
}

// Stop ends the client's generator (SIGTERM: it closes its sessions) and removes the host.
func (c *Client) Stop(ctx context.Context) error {
	if c.ctr == nil {
		return nil
	}
	if err := c.ctr.Terminate(ctx, testcontainers.StopTimeout(5*time.Second)); err != nil && !isNotFound(err) {
		return fmt.Errorf("%s: stop: %w", c, err)
	}
	return nil
}

var (
	clientBinOnce sync.Once
	clientBin     string
	clientBinErr  error
)

// ClientBinary is a static zkchaos binary for client containers: ZKCHAOS_CLIENT_BINARY
// if set, else built once per process with `go build` (CGO off, so it runs on any
// Debian suite's image).
func ClientBinary(ctx context.Context) (string, error) {
	clientBinOnce.Do(func() {
		if p := os.Getenv("ZKCHAOS_CLIENT_BINARY"); p != "" {
			clientBin = p
			return
		}
		if self := staticSelf(); self != "" {
			clientBin = self
			return
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "zkchaos")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			clientBinErr = err
			return
		}
		// Built under a private name and renamed: parallel suite processes share the cache.
		tmp := filepath.Join(dir, fmt.Sprintf("zkchaos-client.%d", os.Getpid()))
		out := filepath.Join(dir, "zkchaos-client")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp, "github.com/zkchaos/zkchaos/cmd/zkchaos")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			clientBinErr = fmt.Errorf("build the client binary (set ZKCHAOS_CLIENT_BINARY to a static zkchaos to skip): %w: %s", err, b)
			return
		}
		if err := os.Rename(tmp, out); err != nil {
			clientBinErr = err
			return
		}
		clientBin = out
	})
	return clientBin, clientBinErr
}

// staticSelf is this process's executable when it is a zkchaos built without cgo
// (`make build`): it runs in any client container as it is.
func staticSelf() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	info, err := buildinfo.ReadFile(exe)
	if err != nil || info.Path != "github.com/zkchaos/zkchaos/cmd/zkchaos" {
		return ""
	}
	for _, kv := range info.Settings {
		if kv.Key == "CGO_ENABLED" && kv.Value == "0" {
			return exe
		}
	}
	return ""
}
