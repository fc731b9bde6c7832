package harness_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/zkchaos/zkchaos/harness"
)

func TestEnvImageName(t *testing.T) {
	if got := harness.EnvImage("3.9.3"); got != "ZKCHAOS_IMAGE_3_9_3" {
		t.Fatalf("EnvImage(3.9.3) = %s", got)
	}
	if _, err := harness.Run(context.Background(), harness.WithImage("3.3.6", "x")); err == nil || !strings.Contains(err.Error(), "3.3.6") {
		t.Fatalf("WithImage of an unknown version: %v", err)
	}
}

// An archive whose checksum differs is refused before the engine is asked.
func TestLoadImagesChecksChecksumFirst(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "images.tar.gz")
	if err := os.WriteFile(file, []byte("not the archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := harness.LoadImages(context.Background(), file); err == nil || !strings.Contains(err.Error(), "no checksum") {
		t.Fatalf("without a sidecar: %v", err)
	}
	sum := strings.Repeat("0", 64) + "  images.tar.gz\n"
	if err := os.WriteFile(harness.ChecksumFile(file), []byte(sum), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := harness.LoadImages(context.Background(), file); err == nil || !strings.Contains(err.Error(), "nothing loaded") {
		t.Fatalf("with a wrong checksum: %v", err)
	}
}

// A node image given with WithImage or $ZKCHAOS_IMAGE_<version> that lacks what
// faults run in nodes fails Run at once, naming what is missing, before any
// network or node exists; a good one passes the same check.
func TestEngineImageContract(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a Docker engine and the images (make examples)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	v, _ := harness.LookupVersion(harness.DefaultVersion)
	if err := harness.CheckReady(ctx, v); err != nil {
		t.Fatal(err)
	}
	broken := brokenImage(ctx, t, v.Image(), "tc", "ss")

	for _, c := range []struct {
		name string
		opts []harness.Option
		env  string
		want []string
	}{
		{"WithImage without tc and ss", []harness.Option{harness.WithImage(v.Version, broken)}, "", []string{broken, "missing", "tc", "ss"}},
		{"$ZKCHAOS_IMAGE without tc and ss", nil, broken, []string{broken, harness.EnvImage(v.Version), "tc", "ss"}},
		// The client image: a static binary and nothing else.
		{"an image without a shell", []harness.Option{harness.WithImage(v.Version, harness.ClientImage)}, "", []string{"/bin/sh"}},
		{"an image the engine does not have", []harness.Option{harness.WithImage(v.Version, "zkchaos-test/absent:0")}, "", []string{"not in the engine"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.env != "" {
				t.Setenv(harness.EnvImage(v.Version), c.env)
			}
			start := time.Now()
			ens, err := harness.Run(ctx, append(c.opts, harness.WithVersion(v.Version))...)
			took := time.Since(start)
			if ens != nil {
				_ = ens.Terminate(ctx)
				t.Fatal("Run made an ensemble")
			}
			if err == nil {
				t.Fatal("Run accepted the image")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not name %q: %v", w, err)
				}
			}
			if took > 10*time.Second {
				t.Errorf("Run took %s to refuse the image", took)
			}
			t.Logf("refused in %.2f s: %v", took.Seconds(), err)
		})
	}

	// The built image passes; the second check is the cached verdict.
	for i := range 2 {
		start := time.Now()
		if err := harness.CheckImageContract(ctx, v, v.Image()); err != nil {
			t.Fatal(err)
		}
		t.Logf("check %d of %s: %.3f s", i+1, v.Image(), time.Since(start).Seconds())
	}
	// No check container is left.
	cli, err := harness.Docker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	left, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", harness.LabelRun+"="+harness.RunID)})
	if err != nil {
		t.Fatal(err)
	}
	if len(left.Items) > 0 {
		t.Errorf("%d containers of this run left", len(left.Items))
	}
}

// brokenImage commits a copy of from without the given programs, removed when
// the test ends.
func brokenImage(ctx context.Context, t *testing.T, from string, without ...string) string {
	t.Helper()
	cli, err := harness.Docker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	script := "set -e; for p in " + strings.Join(without, " ") + "; do rm -f \"$(command -v $p)\"; done"
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{
			Image: from, Entrypoint: []string{"/bin/sh", "-c", script}, Cmd: []string{},
			Labels: map[string]string{harness.LabelManaged: "1", harness.LabelRun: harness.RunID},
		},
		HostConfig: &container.HostConfig{NetworkMode: "none"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.ContainerRemove(context.WithoutCancel(ctx), created.ID, client.ContainerRemoveOptions{Force: true})
	wait := cli.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-wait.Result:
		if res.StatusCode != 0 {
			t.Fatalf("removing %v: exit %d", without, res.StatusCode)
		}
	case err := <-wait.Error:
		t.Fatal(err)
	}
	ref := "zkchaos-test/broken:" + strings.ToLower(strings.ReplaceAll(harness.RunID, "T", "t"))
	if _, err := cli.ContainerCommit(ctx, created.ID, client.ContainerCommitOptions{Reference: ref, Changes: []string{"LABEL " + harness.LabelManaged + "= " + harness.LabelRun + "="}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = cli.ImageRemove(context.WithoutCancel(ctx), ref, client.ImageRemoveOptions{Force: true})
	})
	return ref
}

// BenchmarkImageContract measures Run's contract check of an image named by
// WithImage: the first check of an image (one short-lived container) and the
// cached ones after it.
//
//	go test -run='^$' -bench=ImageContract -benchtime=1x ./harness
func BenchmarkImageContract(b *testing.B) {
	ctx := context.Background()
	v, _ := harness.LookupVersion(harness.DefaultVersion)
	if err := harness.CheckReady(ctx, v); err != nil {
		b.Skipf("%v", err)
	}
	for range b.N {
		start := time.Now()
		if err := harness.CheckImageContract(ctx, v, v.Image()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "first-s")
		start = time.Now()
		if err := harness.CheckImageContract(ctx, v, v.Image()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(start).Microseconds()), "cached-µs")
	}
}
