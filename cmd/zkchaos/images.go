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

	"github.com/spf13/cobra"

	"github.com/zkchaos/zkchaos/harness"
)

func init() {
	var versions []string
	var check, asJSON bool
	cmd := &cobra.Command{
		Use:   "images",
		Short: "Build the ZooKeeper node images from Debian's packages (only what is missing or changed)",
		Long: `Build zkchaos/zookeeper:<version> for every supported version (or --versions),
from Debian's signed archive with debootstrap: no container registry is needed.
An image whose recipe (docker/) is unchanged is kept; a second run takes seconds.

Also builds ` + harness.ClientImage + `: a static zkchaos binary (for the engine's
architecture) that client hosts and the tunnel's gateways run, so that no test
builds anything. The binary is $ZKCHAOS_CLIENT_BINARY if set, else this program
when it is a static Linux build for the engine (make build), else it is built once
here with go build (CGO_ENABLED=0, GOOS=linux, the engine's GOARCH).

From another module: ` + harness.ImagesCommand + `

Supported versions: ` + strings.Join(harness.VersionNames(), ", ") + `

Exit codes: 0 ready, 1 (--check) an image is missing or stale, 2 the engine or a
build failed. --check --json prints, per image: state (ready, missing, stale),
the recipe it must have, the one it was built from, when it was created and its
age in hours.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			vs, err := lookupVersions(versions)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if check {
				var rs []harness.ImageReport
				for _, v := range vs {
					r, err := v.Report(ctx)
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
						fmt.Fprintf(cmd.OutOrStdout(), "%-28s %-8s recipe %s, %.1f h old\n", r.Image, r.State, r.Recipe, r.AgeHours)
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
			if err := harness.BuildImages(ctx, vs, cmd.OutOrStdout()); err != nil {
				return usageErr("%v", err)
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
	cmd.Flags().BoolVar(&asJSON, "json", false, "with --check: one JSON document (per image: state, recipe, built recipe, created, age)")
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
