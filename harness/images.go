package harness

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/zkchaos/zkchaos/docker"
)

// Image labels.
const (
	labelBaseRecipe = "zkchaos.base-recipe"
	labelRecipe     = "zkchaos.recipe"
	labelVersion    = "zkchaos.zookeeper-version"
	// labelBuildPath says which recipe made the image's base (BuildPath); images
	// without it were made by debootstrap, the only recipe before the engine's.
	labelBuildPath = "zkchaos.build-path"
	// docker/Dockerfile.base also labels its bases zkchaos.debian-base (the
	// debian:<suite> image ID they were built on) and zkchaos.debian-suite.
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

// BuildPath names the recipe a node image's base is made with. Both give the same
// root: Debian's packages of one suite, installed with the same sources, package
// set and clean-up (docker/install-packages.sh, docker/build-base.sh).
type BuildPath string

const (
	// PathAuto takes the engine path where the engine has debian:<suite> or can
	// pull it, else debootstrap.
	PathAuto BuildPath = "auto"
	// PathEngine builds docker/Dockerfile.base through the engine's API, FROM
	// debian:<suite>: apt-get inside the build. No root, no debootstrap on the host.
	PathEngine BuildPath = "engine"
	// PathDebootstrap debootstraps the root on the host (as root) and imports it.
	PathDebootstrap BuildPath = "debootstrap"
)

// ParseBuildPath reads auto, engine or debootstrap ("" is auto).
func ParseBuildPath(s string) (BuildPath, error) {
	switch p := BuildPath(s); p {
	case "":
		return PathAuto, nil
	case PathAuto, PathEngine, PathDebootstrap:
		return p, nil
	}
	return "", fmt.Errorf("build path %q: want auto, engine or debootstrap", s)
}

// DebianImage is the engine recipe's starting point for v: debian:<suite>, the
// image a registry serves (or one imported under that name).
func (v Version) DebianImage() string { return "debian:" + v.Suite }

// baseRecipe hashes what the base depends on. Debootstrap: the same bytes as
// `(cat docker/build-base.sh; printf '\n%s\n%s\n' SUITE zookeeper) | sha256sum`,
// unchanged since before the engine recipe existed, so that images built then
// stay current. Engine: the Dockerfile and the install script instead.
func (v Version) baseRecipe(path BuildPath) string {
	h := sha256.New()
	if path == PathEngine {
		h.Write(docker.DockerfileBase)
		h.Write(docker.InstallPackages)
		fmt.Fprintf(h, "\n%s\n%s\n%s\n", PathEngine, v.Suite, basePackages)
	} else {
		h.Write(docker.BuildBase)
		fmt.Fprintf(h, "\n%s\n%s\n", v.Suite, basePackages)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// recipe hashes everything the node image depends on, for the base's path.
func (v Version) recipe(path BuildPath) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n", v.baseRecipe(path), v.Version, v.Classpath, jvmFlags)
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

// imageInfo is what an inspect tells about one image.
type imageInfo struct {
	found   bool
	id      string
	labels  map[string]string
	created time.Time
	// entrypoint and cmd of the image's config.
	entrypoint, cmd []string
}

func inspectImage(ctx context.Context, ref string) (imageInfo, error) {
	cli, err := Docker(ctx)
	if err != nil {
		return imageInfo{}, err
	}
	insp, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		if isNotFound(err) {
			return imageInfo{}, nil
		}
		return imageInfo{}, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	info := imageInfo{found: true, id: insp.ID, labels: map[string]string{}}
	if c := insp.Config; c != nil {
		if c.Labels != nil {
			info.labels = c.Labels
		}
		info.entrypoint, info.cmd = c.Entrypoint, c.Cmd
	}
	if t, err := time.Parse(time.RFC3339Nano, insp.Created); err == nil {
		info.created = t.UTC()
	}
	return info, nil
}

func imageLabel(ctx context.Context, ref, label string) (value string, found bool, err error) {
	info, err := inspectImage(ctx, ref)
	return info.labels[label], info.found, err
}

// builtPath is the path an image was built by (its label; none: debootstrap).
func builtPath(labels map[string]string) BuildPath {
	if p := BuildPath(labels[labelBuildPath]); p != "" {
		return p
	}
	return PathDebootstrap
}

// ImageReport says what the engine holds for one image, for `zkchaos images
// --check --json`.
type ImageReport struct {
	Image string `json:"image"`
	// Version is the ZooKeeper version; empty for the client image.
	Version string     `json:"version,omitempty"`
	State   ImageState `json:"state"`
	Present bool       `json:"present"`
	// Recipe is what the image must have been built from (node images: the
	// hash of docker/ and the version's packages, for the path it was built by,
	// or, when missing, for debootstrap's; the client image: its interface);
	// Built what the present image was built from.
	Recipe string `json:"recipe"`
	Built  string `json:"built_recipe,omitempty"`
	// BuildPath is the recipe that made a node image's base: engine or debootstrap.
	BuildPath BuildPath `json:"build_path,omitempty"`
	// DebianImage is what the engine path builds a node image's base on
	// (debian:<suite>).
	DebianImage string `json:"debian_image,omitempty"`
	// Created is when the image was made; AgeHours its age.
	Created  time.Time `json:"created,omitzero"`
	AgeHours float64   `json:"age_hours,omitempty"`
}

// Report describes v's image (missing, stale or ready), with its age and the path
// it was built by.
func (v Version) Report(ctx context.Context) (ImageReport, error) {
	return v.ReportIn(ctx, DefaultRepository)
}

// ReportIn is Report for v's image in another repository (BuildOptions.Repository).
func (v Version) ReportIn(ctx context.Context, repo string) (ImageReport, error) {
	r := ImageReport{Image: v.imageIn(repo), Version: v.Version, Recipe: v.recipe(PathDebootstrap), DebianImage: v.DebianImage()}
	info, err := inspectImage(ctx, r.Image)
	if err != nil || !info.found {
		r.State = ImageMissing
		return r, err
	}
	r.BuildPath = builtPath(info.labels)
	r.Recipe = v.recipe(r.BuildPath)
	fillReport(&r, info, labelRecipe)
	return r, nil
}

// ClientImageReport describes the client image.
func ClientImageReport(ctx context.Context) (ImageReport, error) {
	r := ImageReport{Image: ClientImage, Recipe: clientAPI}
	info, err := inspectImage(ctx, r.Image)
	if err != nil || !info.found {
		r.State = ImageMissing
		return r, err
	}
	fillReport(&r, info, labelClientAPI)
	return r, nil
}

func fillReport(r *ImageReport, info imageInfo, label string) {
	r.Present = true
	r.Built = info.labels[label]
	r.State = ImageReady
	if r.Built != r.Recipe {
		r.State = ImageStale
	}
	if !info.created.IsZero() {
		r.Created, r.AgeHours = info.created, math.Round(time.Since(info.created).Hours()*10)/10
	}
}

// ImageStatus reports whether v's image exists and matches its recipe.
func ImageStatus(ctx context.Context, v Version) (ImageState, error) {
	r, err := v.Report(ctx)
	return r.State, err
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

// DefaultRepository is where node images go: zkchaos/zookeeper:<version>.
const DefaultRepository = "zkchaos/zookeeper"

// BuildOptions say how BuildImagesWith builds.
type BuildOptions struct {
	// Path chooses the base's recipe (default PathAuto).
	Path BuildPath
	// Repository of the node images (default DefaultRepository); the bases go to
	// <Repository>-base. Images in another repository are for WithImage.
	Repository string
	// PullTimeout bounds the engine's attempt to pull debian:<suite> when it does
	// not have it (PathAuto and PathEngine; default 30 s).
	PullTimeout time.Duration
}

// BuildImages builds the images of the given versions that are missing or whose
// recipe changed, reporting progress to w. Up-to-date images take one inspect.
func BuildImages(ctx context.Context, versions []Version, w io.Writer) error {
	return BuildImagesWith(ctx, versions, w, BuildOptions{})
}

// BuildImagesWith is BuildImages with a choice of path and repository. An image
// that is current for the recipe it was built by is kept, whichever path is
// chosen now.
func BuildImagesWith(ctx context.Context, versions []Version, w io.Writer, o BuildOptions) error {
	if o.Path == "" {
		o.Path = PathAuto
	}
	if _, err := ParseBuildPath(string(o.Path)); err != nil {
		return err
	}
	if o.Repository == "" {
		o.Repository = DefaultRepository
	}
	if o.PullTimeout <= 0 {
		o.PullTimeout = 30 * time.Second
	}
	for _, v := range versions {
		r, err := v.ReportIn(ctx, o.Repository)
		if err != nil {
			return err
		}
		if r.State == ImageReady {
			fmt.Fprintf(w, "images: %s up to date (%s recipe %s)\n", r.Image, r.BuildPath, r.Recipe)
			continue
		}
		start := time.Now()
		path, why, err := choosePath(ctx, v, o, w)
		if err != nil {
			return fmt.Errorf("images: %s: %w", v.Version, err)
		}
		fmt.Fprintf(w, "images: %s: %s path: %s\n", v.Version, path, why)
		b := build{v: v, path: path, image: v.imageIn(o.Repository), base: v.imageIn(o.Repository + "-base")}
		replaced, err := b.makeBase(ctx, w)
		if err != nil {
			return fmt.Errorf("images: %s: %w", v.Version, err)
		}
		if err := b.addNodeLayer(ctx, w); err != nil {
			return fmt.Errorf("images: %s: %w", v.Version, err)
		}
		if replaced != "" {
			// The old base, now that the old node image made from it is gone.
			removeImage(ctx, replaced)
		}
		fmt.Fprintf(w, "images: %s built (%s, %s path, recipe %s) in %.0f s\n", b.image, r.State, path, v.recipe(path), time.Since(start).Seconds())
	}
	return nil
}

// choosePath picks the base's recipe and says why.
func choosePath(ctx context.Context, v Version, o BuildOptions, w io.Writer) (BuildPath, string, error) {
	if o.Path == PathDebootstrap {
		return PathDebootstrap, "asked for (--path debootstrap)", nil
	}
	info, err := inspectImage(ctx, v.DebianImage())
	if err != nil {
		return "", "", err
	}
	if info.found {
		return PathEngine, fmt.Sprintf("the engine has %s (%s)", v.DebianImage(), shortID(info.id)), nil
	}
	fmt.Fprintf(w, "images: %s: the engine has no %s: pulling it (at most %s)\n", v.Version, v.DebianImage(), o.PullTimeout)
	pullErr := pullImage(ctx, v.DebianImage(), o.PullTimeout)
	if pullErr == nil {
		return PathEngine, fmt.Sprintf("the engine pulled %s", v.DebianImage()), nil
	}
	if o.Path == PathEngine {
		return "", "", fmt.Errorf("engine path: the engine has no %s and cannot pull it: %w (import one: scripts/import-debian-base.sh %s, or load images with `zkchaos images --load`)", v.DebianImage(), pullErr, v.Suite)
	}
	return PathDebootstrap, fmt.Sprintf("the engine has no %s and cannot pull it (%v)", v.DebianImage(), oneLine(pullErr)), nil
}

func pullImage(ctx context.Context, ref string, timeout time.Duration) error {
	cli, err := Docker(ctx)
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := cli.ImagePull(pctx, ref, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	defer res.Close()
	return res.Wait(pctx)
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

func oneLine(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// tarEntry is one entry of a tar stream made in memory: a directory when its
// name ends in "/", else a file with body.
type tarEntry struct {
	name string
	mode int64
	body []byte
}

// tarOf writes the entries as a tar stream, every time stamp at the epoch (the
// same bytes for the same files).
func tarOf(entries ...tarEntry) (*bytes.Buffer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	return &buf, tw.Close()
}

// build makes one version's node image by one path.
type build struct {
	v           Version
	path        BuildPath
	image, base string
}

// makeBase makes the base unless one from the same recipe is there, and
// returns the ID of the base it replaced.
func (b build) makeBase(ctx context.Context, w io.Writer) (replaced string, err error) {
	info, err := inspectImage(ctx, b.base)
	if err != nil {
		return "", err
	}
	if info.found && info.labels[labelBaseRecipe] == b.v.baseRecipe(b.path) {
		fmt.Fprintf(w, "images: base %s up to date, adding the node layer\n", b.base)
		return "", nil
	}
	if b.path == PathEngine {
		err = b.engineBase(ctx, w)
	} else {
		err = b.debootstrapBase(ctx, w)
	}
	if err != nil || !info.found {
		return "", err
	}
	return info.id, nil
}

func removeImage(ctx context.Context, id string) {
	if cli, err := Docker(ctx); err == nil {
		_, _ = cli.ImageRemove(ctx, id, client.ImageRemoveOptions{})
	}
}

func (b build) debootstrapBase(ctx context.Context, w io.Writer) error {
	v := b.v
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return fmt.Errorf("debootstrap not found: install it (apt-get install -y debootstrap; .ci/run does this), or give the engine %s (engine path, no root needed)", v.DebianImage())
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("the debootstrap path needs root (chroot, mount): run as root, or give the engine %s (engine path, no root needed)", v.DebianImage())
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
	fmt.Fprintf(w, "images: building base %s from Debian %s with debootstrap (about a minute)\n", b.base, v.Suite)
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Env = append(os.Environ(),
		"SUITE="+v.Suite, "TAG="+b.base, "RECIPE="+v.baseRecipe(PathDebootstrap),
		"PACKAGES="+basePackages, "MIRROR="+DebianMirror())
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build-base.sh %s: %w", v.Suite, err)
	}
	return nil
}

// engineBase builds docker/Dockerfile.base through the engine's API: apt-get runs
// in the engine's build container, on debian:<suite>.
func (b build) engineBase(ctx context.Context, w io.Writer) error {
	v := b.v
	cli, err := Docker(ctx)
	if err != nil {
		return err
	}
	deb, err := inspectImage(ctx, v.DebianImage())
	if err != nil {
		return err
	}
	buildContext, err := tarOf(tarEntry{"Dockerfile", 0o644, docker.DockerfileBase}, tarEntry{"install-packages.sh", 0o644, docker.InstallPackages})
	if err != nil {
		return err
	}
	arg := func(s string) *string { return &s }
	fmt.Fprintf(w, "images: building base %s through the engine from %s (apt-get in the build)\n", b.base, v.DebianImage())
	res, err := cli.ImageBuild(ctx, buildContext, client.ImageBuildOptions{
		Tags:        []string{b.base},
		Dockerfile:  "Dockerfile",
		Remove:      true,
		ForceRemove: true, // the build's containers go, also when a step fails
		BuildArgs: map[string]*string{
			"SUITE": arg(v.Suite), "PACKAGES": arg(basePackages), "MIRROR": arg(DebianMirror()),
			"RECIPE": arg(v.baseRecipe(PathEngine)), "DEBIAN_BASE": arg(deb.id),
		},
	})
	if err != nil {
		return fmt.Errorf("engine build of %s: %w", b.base, err)
	}
	defer res.Body.Close()
	// The build's steps and the package version, like build-base.sh's; apt's
	// output only when the build fails.
	dec := json.NewDecoder(res.Body)
	var line []byte
	var tail []string
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("engine build of %s: %w", b.base, err)
		}
		if m.Error != nil {
			for _, l := range tail {
				fmt.Fprintf(w, "build-base[%s] %s\n", v.Suite, l)
			}
			return fmt.Errorf("engine build of %s: %s (output above)", b.base, m.Error.Message)
		}
		for _, c := range []byte(m.Stream) {
			if c != '\n' {
				line = append(line, c)
				continue
			}
			l := string(line)
			line = line[:0]
			if strings.HasPrefix(l, "Step ") || strings.HasPrefix(l, "install-packages:") {
				fmt.Fprintf(w, "build-base[%s] %s %s\n", v.Suite, time.Now().Format("15:04:05"), l)
			}
			if tail = append(tail, l); len(tail) > 30 {
				tail = tail[1:]
			}
		}
	}
	if _, found, err := imageLabel(ctx, b.base, labelBaseRecipe); err != nil || !found {
		return fmt.Errorf("engine build of %s: no image afterwards (%v)", b.base, err)
	}
	return nil
}

// addNodeLayer adds the entrypoint and log4j config to the base, records the class-data
// archive and commits the node image: the same on both paths.
func (b build) addNodeLayer(ctx context.Context, w io.Writer) (err error) {
	v := b.v
	cli, err := Docker(ctx)
	if err != nil {
		return err
	}
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{
			Image:      b.base,
			Entrypoint: []string{"/usr/local/bin/zkchaos-entrypoint"},
			Cmd:        []string{"--build-cds"},
			Env:        []string{"ZK_CLASSPATH=" + v.Classpath, "JVM_FLAGS=" + jvmFlags},
			Labels:     runLabels(""),
		},
	})
	if err != nil {
		return fmt.Errorf("create build container from %s: %w", b.base, err)
	}
	defer func() {
		_, rmErr := cli.ContainerRemove(context.WithoutCancel(ctx), created.ID, client.ContainerRemoveOptions{Force: true})
		err = errors.Join(err, rmErr)
	}()
	layer, err := tarOf(tarEntry{"conf/", 0o755, nil}, tarEntry{"conf/log4j.properties", 0o644, docker.Log4j},
		tarEntry{"usr/local/bin/zkchaos-entrypoint", 0o755, docker.Entrypoint})
	if err != nil {
		return err
	}
	if _, err := cli.CopyToContainer(ctx, created.ID, client.CopyToContainerOptions{DestinationPath: "/", Content: layer}); err != nil {
		return fmt.Errorf("copy entrypoint: %w", err)
	}
	fmt.Fprintf(w, "images: %s: recording the classes a starting server loads (class-data archive)\n", b.image)
	old, err := inspectImage(ctx, b.image)
	if err != nil {
		return err
	}
	if err := runToCompletion(ctx, cli, created.ID, w); err != nil {
		return fmt.Errorf("class-data archive: %w", err)
	}
	_, err = cli.ContainerCommit(ctx, created.ID, client.ContainerCommitOptions{
		Reference: b.image,
		Changes: []string{
			`ENTRYPOINT ["/usr/local/bin/zkchaos-entrypoint"]`,
			`CMD []`,
			"ENV ZK_VERSION=" + v.Version,
			"ENV ZK_CLASSPATH=" + v.Classpath,
			`ENV JVM_FLAGS="` + jvmFlags + `"`,
			"LABEL " + labelRecipe + "=" + v.recipe(b.path),
			"LABEL " + labelVersion + "=" + v.Version,
			"LABEL " + labelBuildPath + "=" + string(b.path),
			// The build container's run labels must not reach containers made from
			// the image, or a sweep would take them for leftovers.
			"LABEL " + LabelManaged + "= " + LabelRun + "= " + LabelPID + "= " + LabelHost + "=",
		},
	})
	if err != nil {
		return fmt.Errorf("commit %s: %w", b.image, err)
	}
	if old.found {
		// The image this one replaces, unless a container still uses it.
		removeImage(ctx, old.id)
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
	if err != nil {
		return fmt.Errorf("logs: %w", err)
	}
	defer logs.Close()
	_, err = stdcopy.StdCopy(w, w, logs)
	if code != 0 {
		return fmt.Errorf("exit code %d", code)
	}
	return err
}

// CheckReady says whether scenarios can run on these versions: the engine answers
// and each version's image is built from the current recipe, or, where
// $ZKCHAOS_IMAGE_<version> names another image, that image meets the contract
// (docs/images.md). The error says what to run or what is missing.
func CheckReady(ctx context.Context, versions ...Version) error {
	if _, err := Docker(ctx); err != nil {
		return err
	}
	for _, v := range versions {
		if err := defaultSettings().checkNodeImage(ctx, v); err != nil {
			return err
		}
	}
	return nil
}
