package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Labels put on every container and network zkchaos creates.
const (
	LabelManaged  = "zkchaos"          // "1" on everything of ours
	LabelRun      = "zkchaos.run"      // one id per process (RunID)
	LabelEnsemble = "zkchaos.ensemble" // one id per ensemble
	LabelPID      = "zkchaos.pid"      // pid of the creating process
	LabelHost     = "zkchaos.host"     // hostname of the creating process
)

// RunID identifies this process's containers and networks. ZKCHAOS_RUN_ID overrides it.
var RunID = func() string {
	if id := os.Getenv("ZKCHAOS_RUN_ID"); id != "" {
		return id
	}
	return fmt.Sprintf("%s-%d", time.Now().UTC().Format("20060102T150405"), os.Getpid())
}()

func runLabels(ensembleID string) map[string]string {
	host, _ := os.Hostname()
	l := map[string]string{
		LabelManaged: "1",
		LabelRun:     RunID,
		LabelPID:     strconv.Itoa(os.Getpid()),
		LabelHost:    host,
	}
	if ensembleID != "" {
		l[LabelEnsemble] = ensembleID
	}
	return l
}

var (
	dockerOnce sync.Once
	dockerCli  *testcontainers.DockerClient
	dockerErr  error
)

// ErrEngineUnreachable is returned (wrapped) when the Docker engine does not answer.
var ErrEngineUnreachable = errors.New("docker engine unreachable")

// Docker returns the shared Docker client, or one clear error if the engine does not answer.
func Docker(ctx context.Context) (*testcontainers.DockerClient, error) {
	dockerOnce.Do(func() {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		cli, err := testcontainers.NewDockerClientWithOpts(pctx)
		if err == nil {
			_, err = cli.Ping(pctx, client.PingOptions{})
		}
		if err != nil {
			dockerErr = fmt.Errorf("%w (is the engine running? `docker info` must work, with the same DOCKER_HOST): %v", ErrEngineUnreachable, err)
			return
		}
		dockerCli = cli
	})
	return dockerCli, dockerErr
}

// ExecResult is what a command run inside a container printed and returned.
type ExecResult struct {
	ExitCode int
	Stdout   string
	Stderr   string
}

// execIn runs cmd in a running container and waits for it.
func execIn(ctx context.Context, containerID string, cmd []string) (ExecResult, error) {
	cli, err := Docker(ctx)
	if err != nil {
		return ExecResult{}, err
	}
	created, err := cli.ExecCreate(ctx, containerID, client.ExecCreateOptions{
		Cmd: cmd, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return ExecResult{}, err
	}
	att, err := cli.ExecAttach(ctx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return ExecResult{}, err
	}
	defer att.Close()
	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	go func() { _, err := stdcopy.StdCopy(&stdout, &stderr, att.Reader); done <- err }()
	select {
	case err = <-done:
	case <-ctx.Done():
		return ExecResult{}, ctx.Err()
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return ExecResult{}, err
	}
	insp, err := cli.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
	if err != nil {
		return ExecResult{}, err
	}
	return ExecResult{ExitCode: insp.ExitCode, Stdout: stdout.String(), Stderr: stderr.String()}, nil
}

// processAlive reports whether pid is a live process on this host.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// hintReaper adds what to do when testcontainers' reaper (Ryuk) could not start,
// typically because its image cannot be pulled: the harness removes its own
// containers, and leaves that setting to the user.
func hintReaper(err error) error {
	if err == nil {
		return nil
	}
	if s := strings.ToLower(err.Error()); strings.Contains(s, "reaper") || strings.Contains(s, "ryuk") {
		return fmt.Errorf("%w (testcontainers' reaper could not start; where its image cannot be pulled, set TESTCONTAINERS_RYUK_DISABLED=true: zkchaos labels and removes its own containers)", err)
	}
	return err
}
