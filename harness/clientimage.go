package harness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/moby/moby/client"
)

// ClientImage holds a static zkchaos binary and nothing else. Client hosts
// (StartClient: the generators, the fake election peers) and the gateways of
// ReachTunnel run it. `zkchaos images` builds it once; no test builds anything.
// The tag names the command-line interface between the harness and that binary:
// it changes when a generator's flags or the fields of its summary do (api2:
// the flood reports the connections it sent).
const ClientImage = "zkchaos/client:" + clientAPI

const (
	clientAPI      = "api2"
	labelClientAPI = "zkchaos.client-api"
	labelClientSum = "zkchaos.client-sum"
)

// ImagesCommand is what builds the images, as a module that uses zkchaos as a
// library can run it (inside this repository: make images).
const ImagesCommand = "go run github.com/zkchaos/zkchaos/cmd/zkchaos images"

// ClientImageStatus reports whether the client image exists and speaks this
// harness's interface.
func ClientImageStatus(ctx context.Context) (ImageState, error) {
	got, found, err := imageLabel(ctx, ClientImage, labelClientAPI)
	switch {
	case err != nil:
		return "", err
	case !found:
		return ImageMissing, nil
	case got != clientAPI:
		return ImageStale, nil
	}
	return ImageReady, nil
}

func checkClientImage(ctx context.Context) error {
	st, err := ClientImageStatus(ctx)
	if err != nil {
		return err
	}
	if st != ImageReady {
		return fmt.Errorf("image %s is %s: run `%s` (in the zkchaos repository: make images); it holds the static zkchaos binary that client hosts and gateways run", ClientImage, st, ImagesCommand)
	}
	return nil
}

// BuildClientImage imports ClientImage from binary, a static zkchaos for the
// engine's platform (GOOS=linux, the engine's GOARCH, CGO_ENABLED=0). An image made
// from the same bytes is kept.
func BuildClientImage(ctx context.Context, binary string, w io.Writer) error {
	body, err := os.ReadFile(binary)
	if err != nil {
		return fmt.Errorf("images: client binary: %w", err)
	}
	sum := sha256.Sum256(body)
	want := hex.EncodeToString(sum[:])[:16]
	if got, found, err := imageLabel(ctx, ClientImage, labelClientSum); err != nil {
		return err
	} else if found && got == want {
		fmt.Fprintf(w, "images: %s up to date (zkchaos %s)\n", ClientImage, want)
		return nil
	}
	cli, err := Docker(ctx)
	if err != nil {
		return err
	}
	// The image this one replaces: removed afterwards, so that rebuilds leave no
	// untagged images behind.
	var old string
	if insp, err := cli.ImageInspect(ctx, ClientImage); err == nil {
		old = insp.ID
	}
	root, err := tarOf(tarEntry{"etc/", 0o755, nil}, tarEntry{"tmp/", 0o1777, nil}, tarEntry{"usr/", 0o755, nil},
		tarEntry{"usr/local/", 0o755, nil}, tarEntry{"usr/local/bin/", 0o755, nil}, tarEntry{"usr/local/bin/zkchaos", 0o755, body})
	if err != nil {
		return err
	}
	res, err := cli.ImageImport(ctx, client.ImageImportSource{Source: root, SourceName: "-"}, ClientImage, client.ImageImportOptions{
		Changes: []string{
			`ENTRYPOINT ["/usr/local/bin/zkchaos"]`,
			"ENV TMPDIR=/tmp",
			"LABEL " + labelClientAPI + "=" + clientAPI,
			"LABEL " + labelClientSum + "=" + want,
		},
	})
	if err != nil {
		return fmt.Errorf("images: import %s: %w", ClientImage, err)
	}
	_, _ = io.Copy(io.Discard, res)
	_ = res.Close()
	if old != "" {
		// A container that still uses it (a live run's) keeps it: not an error.
		_, _ = cli.ImageRemove(ctx, old, client.ImageRemoveOptions{})
	}
	fmt.Fprintf(w, "images: %s built (zkchaos %s, %.1f MiB)\n", ClientImage, want, float64(len(body))/(1<<20))
	return nil
}

// EngineArch is the engine's architecture as GOARCH names it ("amd64", "arm64"):
// the client binary must be built for it, whatever this host is.
func EngineArch(ctx context.Context) (string, error) {
	cli, err := Docker(ctx)
	if err != nil {
		return "", err
	}
	// The embedded API client: testcontainers' Info would print a banner.
	info, err := cli.Client.Info(ctx, client.InfoOptions{})
	if err != nil {
		return "", err
	}
	switch a := info.Info.Architecture; a {
	case "x86_64", "amd64":
		return "amd64", nil
	case "aarch64", "arm64":
		return "arm64", nil
	case "armv7l":
		return "arm", nil
	case "s390x", "ppc64le", "riscv64":
		return a, nil
	default:
		return "", fmt.Errorf("engine architecture %q: no Go name known", a)
	}
}
