package main

import (
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkchaos/zkchaos/harness"
)

func init() {
	var versions []string
	var check, asJSON bool
	var path, repository, save, load string
	var pullTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "images",
		Short: "Build the ZooKeeper node images from Debian's packages (only what is missing or changed)",
		Long: `Build zkchaos/zookeeper:<version> for every supported version (or --versions),
from Debian's signed archive: no container registry is needed. An image whose
recipe (docker/) is unchanged is kept; a second run takes seconds.

Two recipes, one result (docs/images.md). The engine path builds
docker/Dockerfile.base through the engine's API on debian:<suite> (apt-get in
the build: no root, no debootstrap on this host); it is taken where the engine
has debian:<suite> or can pull it within --pull-timeout. Otherwise the
debootstrap path makes the root on this host (as root) and imports it. Each
build says which path it took and why; --path forces one.

Carrying images (a workshop: prepared once, loaded everywhere):
  zkchaos images --save zkchaos-images.tar.gz   # every node image and the client image, plus .sha256
  zkchaos images --load zkchaos-images.tar.gz   # checks the .sha256, then loads; nothing is built

Also builds ` + harness.ClientImage + `: a static zkchaos binary (for the engine's
architecture) that client hosts and the tunnel's gateways run, so that no test
builds anything. The binary is $ZKCHAOS_CLIENT_BINARY if set, else this program
when it is a static Linux build for the engine (make build), else it is built once
here with go build (CGO_ENABLED=0, GOOS=linux, the engine's GOARCH).

From another module: ` + harness.ImagesCommand + `

Supported versions: ` + strings.Join(harness.VersionNames(), ", ") + `

Exit codes: 0 ready, 1 (--check) an image is missing or stale, 2 the engine or a
build failed. --check --json prints, per image: state (ready, missing, stale),
present, the recipe it must have, the one it was built from, the path it was
built by (engine or debootstrap), when it was created and its age in hours.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			vs, err := lookupVersions(versions)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			if load != "" {
				start := time.Now()
				names, err := harness.LoadImages(ctx, load)
				if err != nil {
					return usageErr("images: %v", err)
				}
				fmt.Fprintf(out, "images: loaded %s from %s in %.0f s (checksum verified)\n", strings.Join(names, ", "), load, time.Since(start).Seconds())
				return nil
			}
			if save != "" {
				refs := []string{harness.ClientImage}
				for _, v := range vs {
					r, err := v.ReportIn(ctx, repository)
					if err != nil {
						return usageErr("%v", err)
					}
					if r.State != harness.ImageReady {
						return usageErr("images: %s is %s: build it first (zkchaos images)", r.Image, r.State)
					}
					refs = append(refs, r.Image)
				}
				if st, err := harness.ClientImageStatus(ctx); err != nil || st != harness.ImageReady {
					return usageErr("images: %s is %s (%v): build it first (zkchaos images)", harness.ClientImage, st, err)
				}
				start := time.Now()
				size, err := harness.SaveImages(ctx, save, refs)
				if err != nil {
					return usageErr("images: %v", err)
				}
				fmt.Fprintf(out, "images: saved %s to %s (%.0f MiB) and its checksum to %s in %.0f s\n",
					strings.Join(refs, ", "), save, float64(size)/(1<<20), harness.ChecksumFile(save), time.Since(start).Seconds())
				return nil
			}
			if check {
				var rs []harness.ImageReport
				for _, v := range vs {
					r, err := v.ReportIn(ctx, repository)
					if err != nil {
						return usageErr("%v", err)
					}
					rs = append(rs, r)
				}
				r, err := harness.ClientImageReport(ctx)
				if err != nil {
					return usageErr("%v", err)
				}
				rs = append(rs, r)
				missing := 0
				for _, r := range rs {
					if r.State != harness.ImageReady {
						missing++
					}
					if !asJSON {
						how := ""
						if r.BuildPath != "" {
							how = ", " + string(r.BuildPath) + " path"
						}
						fmt.Fprintf(cmd.OutOrStdout(), "%-28s %-8s recipe %s%s, %.1f h old\n", r.Image, r.State, r.Recipe, how, r.AgeHours)
					}
				}
				if asJSON {
					enc := json.NewEncoder(cmd.OutOrStdout())
					enc.SetIndent("", "  ")
					if err := enc.Encode(map[string]any{"images": rs, "ready": missing == 0}); err != nil {
						return err
					}
				}
				if missing > 0 {
					return failed(fmt.Errorf("%d image(s) missing or stale: run `%s`", missing, harness.ImagesCommand))
				}
				return nil
			}
			p, err := harness.ParseBuildPath(path)
			if err != nil {
				return usageErr("--path: %v", err)
			}
			if err := harness.BuildImagesWith(ctx, vs, out, harness.BuildOptions{Path: p, Repository: repository, PullTimeout: pullTimeout}); err != nil {
				return usageErr("%v", err)
			}
			if repository != "" && repository != harness.DefaultRepository {
				// Node images for WithImage / $ZKCHAOS_IMAGE_<version>; the client image
				// has one name.
				return nil
			}
			bin, cleanup, err := clientBinary(ctx, cmd.OutOrStdout())
			if err != nil {
				return usageErr("images: client binary: %v", err)
			}
			defer cleanup()
			if err := harness.BuildClientImage(ctx, bin, cmd.OutOrStdout()); err != nil {
				return usageErr("%v", err)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&versions, "versions", nil, "versions to build (default: all supported)")
	cmd.Flags().BoolVar(&check, "check", false, "only report whether each image is ready (exit 1 if not)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "with --check: one JSON document (per image: state, present, recipe, built recipe, build path, created, age)")
	cmd.Flags().StringVar(&path, "path", "auto", "how to make the base: auto, engine (Dockerfile on debian:<suite>) or debootstrap (on this host, as root)")
	cmd.Flags().StringVar(&repository, "repository", harness.DefaultRepository, "repository of the node images (another one leaves "+harness.DefaultRepository+" alone; run them with WithImage or $ZKCHAOS_IMAGE_<version>)")
	cmd.Flags().DurationVar(&pullTimeout, "pull-timeout", 30*time.Second, "how long the engine may try to pull debian:<suite> before the debootstrap path is taken")
	cmd.Flags().StringVar(&save, "save", "", "write every node image (of --versions) and the client image to this gzip archive, and its checksum to FILE.sha256")
	cmd.Flags().StringVar(&load, "load", "", "load images from an archive of --save, after checking FILE.sha256")
	cmd.MarkFlagsMutuallyExclusive("save", "load", "check")
	rootCmd.AddCommand(cmd)
}

// lookupVersions resolves version names (all supported ones when empty).
func lookupVersions(names []string) ([]harness.Version, error) {
	if len(names) == 0 {
		return harness.Versions, nil
	}
	var out []harness.Version
	for _, name := range names {
		v, err := harness.LookupVersion(strings.TrimSpace(name))
		if err != nil {
			return nil, usageErr("%v", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// clientBinary finds or builds a static zkchaos for the engine's platform:
// $ZKCHAOS_CLIENT_BINARY, else this program if it is one, else `go build` (once,
// here, never during a test). cleanup removes what was built.
func clientBinary(ctx context.Context, log io.Writer) (path string, cleanup func(), err error) {
	cleanup = func() {}
	arch, err := harness.EngineArch(ctx)
	if err != nil {
		return "", cleanup, err
	}
	if p := os.Getenv("ZKCHAOS_CLIENT_BINARY"); p != "" {
		return p, cleanup, nil
	}
	self, why := staticSelf(arch)
	if self != "" {
		return self, cleanup, nil
	}
	fmt.Fprintf(log, "images: this zkchaos cannot serve as the client binary (%s): building one for linux/%s\n", why, arch)
	dir, err := os.MkdirTemp("", "zkchaos-client-")
	if err != nil {
		return "", cleanup, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	out := filepath.Join(dir, "zkchaos")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, "github.com/zkchaos/zkchaos/cmd/zkchaos")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if b, err := build.CombinedOutput(); err != nil {
		cleanup()
		return "", func() {}, fmt.Errorf("go build (set ZKCHAOS_CLIENT_BINARY to a static linux/%s zkchaos to skip it): %w: %s", arch, err, b)
	}
	return out, cleanup, nil
}

// staticSelf is this executable when it runs as it is in a container of the
// engine: zkchaos, linux on the engine's architecture, built without cgo.
func staticSelf(arch string) (string, string) {
	exe, err := os.Executable()
	if err != nil {
		return "", err.Error()
	}
	info, err := buildinfo.ReadFile(exe)
	if err != nil {
		return "", err.Error()
	}
	got := map[string]string{}
	for _, kv := range info.Settings {
		got[kv.Key] = kv.Value
	}
	switch {
	case info.Path != "github.com/zkchaos/zkchaos/cmd/zkchaos":
		return "", "built as " + info.Path
	case got["CGO_ENABLED"] != "0":
		return "", "built with cgo"
	case got["GOOS"] != "linux" || got["GOARCH"] != arch:
		return "", fmt.Sprintf("built for %s/%s", got["GOOS"], got["GOARCH"])
	}
	return exe, ""
}
