package harness

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/zkchaos/zkchaos/docker"
)

// Image labels.
const (
	labelBaseRecipe = "zkchaos.base-recipe"
	labelRecipe     = "zkchaos.recipe"
	labelVersion    = "zkchaos.zookeeper-version"
)

// DebianMirror is where debootstrap fetches the signed archive (ZKCHAOS_DEBIAN_MIRROR overrides).
func DebianMirror() string {
	if m := os.Getenv("ZKCHAOS_DEBIAN_MIRROR"); m != "" {
		return m
	}
	return "http://deb.debian.org/debian"
}

// jvmFlags give a fast start and small nodes (measured: 37–77 MiB RSS per node).
const jvmFlags = "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Djava.net.preferIPv4Stack=true"

const basePackages = "zookeeper"

// baseRecipe hashes what the debootstrapped base depends on. The same bytes as
// `(cat docker/build-base.sh; printf '\n%s\n%s\n' SUITE zookeeper) | sha256sum`.
func (v Version) baseRecipe() string {
	h := sha256.New()
	h.Write(docker.BuildBase)
	fmt.Fprintf(h, "\n%s\n%s\n", v.Suite, basePackages)
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// recipe hashes everything the node image depends on.
func (v Version) recipe() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n", v.baseRecipe(), v.Version, v.Classpath, jvmFlags)
	h.Write(docker.Entrypoint)
	h.Write(docker.Log4j)
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// ImageState says whether a version's node image can be used.
type ImageState string

const (
	ImageReady   ImageState = "ready"
	ImageMissing ImageState = "missing"
	ImageStale   ImageState = "stale" // built from an older recipe
)

func imageLabel(ctx context.Context, ref, label string) (value string, found bool, err error) {
	cli, err := Docker(ctx)
	if err != nil {
		return "", false, err
	}
	insp, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		if isNotFound(err) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	if insp.Config == nil {
		return "", true, nil
	}
	return insp.Config.Labels[label], true, nil
}

// ImageReport says what the engine holds for one image, for `zkchaos images
// --check --json`.
type ImageReport struct {
	Image string `json:"image"`
	// Version is the ZooKeeper version; empty for the client image.
	Version string     `json:"version,omitempty"`
	State   ImageState `json:"state"`
	// Recipe is what the image must have been built from (node images: the
	// hash of docker/ and the version's packages; the client image: its
	// interface); Built what the present image was built from.
	Recipe string `json:"recipe"`
	Built  string `json:"built_recipe,omitempty"`
	// Created is when the image was made; AgeHours its age.
	Created  time.Time `json:"created,omitzero"`
	AgeHours float64   `json:"age_hours,omitempty"`
}

// Report describes v's image (missing, stale or ready), with its age.
func (v Version) Report(ctx context.Context) (ImageReport, error) {
	r := ImageReport{Image: v.Image(), Version: v.Version, Recipe: v.recipe()}
	return r, inspectReport(ctx, &r, labelRecipe)
}

// ClientImageReport describes the client image.
func ClientImageReport(ctx context.Context) (ImageReport, error) {
	r := ImageReport{Image: ClientImage, Recipe: clientAPI}
	return r, inspectReport(ctx, &r, labelClientAPI)
}

func inspectReport(ctx context.Context, r *ImageReport, label string) error {
	cli, err := Docker(ctx)
	if err != nil {
		return err
	}
	insp, err := cli.ImageInspect(ctx, r.Image)
	switch {
	case isNotFound(err):
		r.State = ImageMissing
		return nil
	case err != nil:
		return fmt.Errorf("inspect image %s: %w", r.Image, err)
	}
	if insp.Config != nil {
		r.Built = insp.Config.Labels[label]
	}
	r.State = ImageReady
	if r.Built != r.Recipe {
		r.State = ImageStale
	}
	if t, err := time.Parse(time.RFC3339Nano, insp.Created); err == nil {
		r.Created, r.AgeHours = t.UTC(), math.Round(time.Since(t).Hours()*10)/10
	}
	return nil
}

// ImageStatus reports whether v's image exists and matches its recipe.
func ImageStatus(ctx context.Context, v Version) (ImageState, error) {
	got, found, err := imageLabel(ctx, v.Image(), labelRecipe)
	switch {
	case err != nil:
		return "", err
	case !found:
		return ImageMissing, nil
	case got != v.recipe():
		return ImageStale, nil
	}
	return ImageReady, nil
}

// checkImage is Run's guard: a clear error instead of a pull attempt.
func checkImage(ctx context.Context, v Version) error {
	st, err := ImageStatus(ctx, v)
	if err != nil {
		return err
	}
	switch st {
	case ImageMissing:
		return fmt.Errorf("image %s not found: run `%s` (builds it from Debian's %s packages; in the zkchaos repository: make images)", v.Image(), ImagesCommand, v.Suite)
	case ImageStale:
		return fmt.Errorf("image %s was built from an older recipe: run `%s` (in the zkchaos repository: make images)", v.Image(), ImagesCommand)
	}
	return nil
}

// BuildImages builds the images of the given versions that are missing or whose
// recipe changed, reporting progress to w. Up-to-date images take one inspect.
func BuildImages(ctx context.Context, versions []Version, w io.Writer) error {
	for _, v := range versions {
		st, err := ImageStatus(ctx, v)
		if err != nil {
			return err
		}
		if st == ImageReady {
			fmt.Fprintf(w, "images: %s up to date (recipe %s)\n", v.Image(), v.recipe())
			continue
		}
		start := time.Now()
		if err := buildBase(ctx, v, w); err != nil {
			return fmt.Errorf("images: %s: %w", v.Version, err)
		}
		if err := buildNode(ctx, v, w); err != nil {
			return fmt.Errorf("images: %s: %w", v.Version, err)
		}
		fmt.Fprintf(w, "images: %s built (%s, recipe %s) in %.0f s\n", v.Image(), st, v.recipe(), time.Since(start).Seconds())
	}
	return nil
}

func buildBase(ctx context.Context, v Version, w io.Writer) error {
	got, found, err := imageLabel(ctx, v.BaseImage(), labelBaseRecipe)
	if err != nil {
		return err
	}
	if found && got == v.baseRecipe() {
		fmt.Fprintf(w, "images: base %s up to date, adding the node layer\n", v.BaseImage())
		return nil
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return errors.New("debootstrap not found: install it (apt-get install -y debootstrap); .ci/run does this")
	}
	dir, err := os.MkdirTemp("", "zkchaos-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "build-base.sh")
	if err := os.WriteFile(script, docker.BuildBase, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(w, "images: building base %s from Debian %s (about a minute)\n", v.BaseImage(), v.Suite)
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Env = append(os.Environ(),
		"SUITE="+v.Suite, "TAG="+v.BaseImage(), "RECIPE="+v.baseRecipe(),
		"PACKAGES="+basePackages, "MIRROR="+DebianMirror())
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build-base.sh %s: %w", v.Suite, err)
	}
	return nil
}

// buildNode adds the entrypoint and log4j config to the base and commits the node image.
func buildNode(ctx context.Context, v Version, w io.Writer) (err error) {
	cli, err := Docker(ctx)
	if err != nil {
		return err
	}
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{
			Image:      v.BaseImage(),
			Entrypoint: []string{"/usr/local/bin/zkchaos-entrypoint"},
			Cmd:        []string{"--build-cds"},
			Env:        []string{"ZK_CLASSPATH=" + v.Classpath, "JVM_FLAGS=" + jvmFlags},
			Labels:     runLabels(""),
		},
	})
	if err != nil {
		return fmt.Errorf("create build container from %s: %w", v.BaseImage(), err)
	}
	defer func() {
		_, rmErr := cli.ContainerRemove(context.WithoutCancel(ctx), created.ID, client.ContainerRemoveOptions{Force: true})
		err = errors.Join(err, rmErr)
	}()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, mode int64, body []byte) {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(body)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg})
		_, _ = tw.Write(body)
	}
	_ = tw.WriteHeader(&tar.Header{Name: "conf/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: time.Unix(0, 0)})
	add("conf/log4j.properties", 0o644, docker.Log4j)
	add("usr/local/bin/zkchaos-entrypoint", 0o755, docker.Entrypoint)
	if err := tw.Close(); err != nil {
		return err
	}
	if _, err := cli.CopyToContainer(ctx, created.ID, client.CopyToContainerOptions{DestinationPath: "/", Content: &buf}); err != nil {
		return fmt.Errorf("copy entrypoint: %w", err)
	}
	fmt.Fprintf(w, "images: %s: recording the classes a starting server loads (class-data archive)\n", v.Image())
	if err := runToCompletion(ctx, cli, created.ID, w); err != nil {
		return fmt.Errorf("class-data archive: %w", err)
	}
	_, err = cli.ContainerCommit(ctx, created.ID, client.ContainerCommitOptions{
		Reference: v.Image(),
		Changes: []string{
			`ENTRYPOINT ["/usr/local/bin/zkchaos-entrypoint"]`,
			`CMD []`,
			"ENV ZK_VERSION=" + v.Version,
			"ENV ZK_CLASSPATH=" + v.Classpath,
			`ENV JVM_FLAGS="` + jvmFlags + `"`,
			"LABEL " + labelRecipe + "=" + v.recipe(),
			"LABEL " + labelVersion + "=" + v.Version,
			// The build container's run labels must not reach containers made from
			// the image, or a sweep would take them for leftovers.
			"LABEL " + LabelManaged + "= " + LabelRun + "= " + LabelPID + "= " + LabelHost + "=",
		},
	})
	if err != nil {
		return fmt.Errorf("commit %s: %w", v.Image(), err)
	}
	return nil
}

// runToCompletion starts a created container, waits for it to exit, copies its
// output to w and fails on a non-zero exit.
func runToCompletion(ctx context.Context, cli *testcontainers.DockerClient, id string, w io.Writer) error {
	wait := cli.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return err
	}
	var code int64
	select {
	case res := <-wait.Result:
		code = res.StatusCode
	case err := <-wait.Error:
		return err
	}
	logs, err := cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err == nil {
		_, _ = stdcopy.StdCopy(w, w, logs)
		logs.Close()
	}
	if code != 0 {
		return fmt.Errorf("exit code %d", code)
	}
	return nil
}

// CheckReady says whether scenarios can run on these versions: the engine answers
// and each version's image is built from the current recipe. The error says what
// to run.
func CheckReady(ctx context.Context, versions ...Version) error {
	if _, err := Docker(ctx); err != nil {
		return err
	}
	for _, v := range versions {
		if err := checkImage(ctx, v); err != nil {
			return err
		}
	}
	return nil
}
