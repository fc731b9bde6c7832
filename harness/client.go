package harness

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
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
// `zkchaos <args...>` from ClientImage (built by `zkchaos images`). Client hosts get
// addresses .101, .102, … in start order.
func (e *Ensemble) StartClient(ctx context.Context, name string, args ...string) (*Client, error) {
	if err := checkClientImage(ctx); err != nil {
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
			Image:          ClientImage,
			Name:           fmt.Sprintf("zkchaos-%s-client-%s", e.ID, name),
			Labels:         runLabels(e.ID),
			Networks:       []string{e.Network},
			NetworkAliases: map[string][]string{e.Network: {name}},
			Entrypoint:     append([]string{"/usr/local/bin/zkchaos"}, args...),
			ConfigModifier: func(cfg *container.Config) { cfg.Hostname = name },
			EndpointSettingsModifier: func(eps map[string]*mobynet.EndpointSettings) {
				if ep := eps[e.Network]; ep != nil {
					ep.IPAMConfig = &mobynet.EndpointIPAMConfig{IPv4Address: c.ip}
				}
			},
		},
		Logger:  quietTC{},
		Started: true,
	}
	var err error
	c.ctr, err = testcontainers.GenericContainer(ctx, req)
	if err != nil {
		return c, fmt.Errorf("%s: start: %w", c, hintReaper(err))
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

// WaitOutput polls the client's output until it contains text: first after 50 ms,
// then at longer intervals up to 500 ms.
func (c *Client) WaitOutput(ctx context.Context, text string) (string, error) {
	var out string
	err := pollUntil(ctx, 50*time.Millisecond, 500*time.Millisecond, func() bool {
		var err error
		out, err = c.Output(ctx)
		return err == nil && strings.Contains(out, text)
	})
	if err != nil {
		return out, fmt.Errorf("%s: waiting for %q: %w (output so far: %s)", c, text, err, out)
	}
	return out, nil
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
