package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// EnvImage names the variable that runs a version's nodes from another image,
// e.g. ZKCHAOS_IMAGE_3_9_3=registry.example/zookeeper:3.9.3-patched. WithImage
// takes precedence over it.
func EnvImage(version string) string {
	return "ZKCHAOS_IMAGE_" + strings.NewReplacer(".", "_", "-", "_").Replace(version)
}

// WithImage runs the nodes of version from ref instead of the image `zkchaos
// images` builds (zkchaos/zookeeper:<version>); Node.Upgrade to that version too.
// The image must meet the contract of docs/images.md; Run checks it first (one
// short-lived container per image, once per process) and names what is missing.
// The harness never pulls it: it must be in the engine.
func WithImage(version, ref string) Option {
	return func(s *settings) error {
		if _, err := LookupVersion(version); err != nil {
			return fmt.Errorf("WithImage: %w", err)
		}
		if ref == "" {
			return fmt.Errorf("WithImage(%q): empty image reference", version)
		}
		s.images[version] = ref
		return nil
	}
}

// imageFor is the image nodes of v run from, and whether it is another than the
// one `zkchaos images` builds.
func (s settings) imageFor(v Version) (ref string, override bool) {
	if ref, ok := s.images[v.Version]; ok {
		return ref, true
	}
	if ref := os.Getenv(EnvImage(v.Version)); ref != "" {
		return ref, true
	}
	return v.Image(), false
}

// checkNodeImage is Run's (and Upgrade's) guard on the image of v: a built
// image must match its recipe, another image must meet the contract.
func (s settings) checkNodeImage(ctx context.Context, v Version) error {
	ref, override := s.imageFor(v)
	if !override {
		return checkImage(ctx, v)
	}
	return CheckImageContract(ctx, v, ref)
}

// contractTools are the programs the harness, the fault library and the
// scenarios run inside a node (Node.Exec), with a call that shows each works the
// way they use it. The node containers have NET_ADMIN in their own namespace.
var contractTools = []struct{ name, probe string }{
	{"iptables", "iptables -w -S INPUT"},                // partitions, drops, loss (harness/fault), F4
	{"tc", "tc qdisc show dev lo"},                      // netem delay and loss (harness/fault)
	{"ss", "ss -ltn"},                                   // F5's listen backlog (Send-Q)
	{"getent", "getent hosts localhost"},                // F4's address checks; the entrypoint's peer wait
	{"find", "find / -maxdepth 0 -printf ''"},           // F2's dataDir listing (GNU find: -printf)
	{"stat", "stat -f -c %T /"},                         // the full-disk fault's file system check
	{"df", "df -B1 --output=avail /"},                   // the full-disk fault (GNU df)
	{"dd", "dd if=/dev/zero of=/dev/null bs=1 count=1"}, // the full-disk fault's filler
	{"rm", "command -v rm"},                             // its heal
	{"cat", "cat /proc/net/netstat"},                    // F5's TcpExt counters
	{"ps", "ps -o rss= -p 1"},                           // RSS per node (make bench)
}

// contractCache holds each image's verdict (by image ID and version) for the
// life of the process: the check costs a container.
var contractCache sync.Map

// CheckImageContract checks that ref can serve as the node image of v (the
// contract of docs/images.md): it is in the engine, has an entrypoint, holds the
// tools faults and scenarios run and a /conf directory, and says no other
// ZooKeeper version in its zkchaos.zookeeper-version label. The error names
// everything missing. One short-lived container (no network) per image, cached
// per image ID in this process.
func CheckImageContract(ctx context.Context, v Version, ref string) error {
	info, err := inspectImage(ctx, ref)
	if err != nil {
		return err
	}
	src := fmt.Sprintf("WithImage(%q) or $%s", v.Version, EnvImage(v.Version))
	if !info.found {
		return fmt.Errorf("image %s for ZooKeeper %s (%s) is not in the engine: load or build it there first (the harness never pulls)", ref, v.Version, src)
	}
	key := info.id + " " + v.Version
	if got, ok := contractCache.Load(key); ok {
		err, _ := got.(error)
		return err
	}
	err = checkContract(ctx, v, ref, info)
	if err != nil {
		err = fmt.Errorf("image %s cannot run ZooKeeper %s nodes (%s): %w; docs/images.md gives the contract", ref, v.Version, src, err)
	}
	if ctx.Err() == nil {
		contractCache.Store(key, err)
	}
	return err
}

func checkContract(ctx context.Context, v Version, ref string, info imageInfo) error {
	var missing []string
	if got := info.labels[labelVersion]; got != "" && got != v.Version {
		return fmt.Errorf("it is labelled %s=%s", labelVersion, got)
	}
	start := append(append([]string{}, info.entrypoint...), info.cmd...)
	if len(start) == 0 {
		missing = append(missing, "an entrypoint (ENTRYPOINT or CMD) that starts ZooKeeper from /conf/zoo.cfg")
	}
	var script strings.Builder
	script.WriteString("for t in")
	for _, t := range contractTools {
		script.WriteString(" " + t.name)
	}
	script.WriteString("; do command -v $t >/dev/null 2>&1 || echo \"missing: $t\"; done\n")
	for _, t := range contractTools {
		fmt.Fprintf(&script, "if command -v %s >/dev/null 2>&1; then ( %s ) >/dev/null 2>&1 || echo \"fails: %s\"; fi\n", t.name, t.probe, t.probe)
	}
	script.WriteString("[ -d /conf ] || echo 'missing: the directory /conf (zoo.cfg and myid are copied there)'\n")
	if len(start) > 0 && strings.HasPrefix(start[0], "/") {
		fmt.Fprintf(&script, "[ -x %q ] || echo 'missing: the entrypoint %s'\n", start[0], start[0])
	}
	out, err := runCheck(ctx, ref, script.String())
	if err != nil {
		return err
	}
	for _, l := range strings.Split(out, "\n") {
		if what, ok := strings.CutPrefix(l, "missing: "); ok {
			missing = append(missing, what)
		} else if what, ok := strings.CutPrefix(l, "fails: "); ok {
			missing = append(missing, "a working `"+what+"`")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// runCheck runs script with /bin/sh in a container of ref (no network,
// NET_ADMIN as the nodes have it) and returns its output.
func runCheck(ctx context.Context, ref, script string) (out string, err error) {
	cli, err := Docker(ctx)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{
			Image:      ref,
			Entrypoint: []string{"/bin/sh", "-c", script},
			Cmd:        []string{},
			User:       "0",
			Labels:     runLabels(""),
		},
		HostConfig: &container.HostConfig{NetworkMode: "none", CapAdd: []string{"NET_ADMIN"}},
	})
	if err != nil {
		return "", fmt.Errorf("check container: %w", err)
	}
	defer func() {
		_, rmErr := cli.ContainerRemove(context.WithoutCancel(ctx), created.ID, client.ContainerRemoveOptions{Force: true})
		err = errors.Join(err, rmErr)
	}()
	var stdout bytes.Buffer
	if err := runToCompletion(ctx, cli, created.ID, &stdout); err != nil {
		if strings.Contains(err.Error(), "/bin/sh") {
			return "", errors.New("missing /bin/sh (the harness runs its commands in nodes through it)")
		}
		return "", fmt.Errorf("check container: %w", err)
	}
	return stdout.String(), nil
}
