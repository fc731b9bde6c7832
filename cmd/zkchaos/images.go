package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/zkchaos/zkchaos/harness"
)

func init() {
	var versions []string
	var check bool
	cmd := &cobra.Command{
		Use:   "images",
		Short: "Build the ZooKeeper node images from Debian's packages (only what is missing or changed)",
		Long: `Build zkchaos/zookeeper:<version> for every supported version (or --versions),
from Debian's signed archive with debootstrap: no container registry is needed.
An image whose recipe (docker/) is unchanged is kept; a second run takes seconds.

Supported versions: ` + strings.Join(harness.VersionNames(), ", "),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			vs, err := lookupVersions(versions)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if check {
				missing := 0
				for _, v := range vs {
					st, err := harness.ImageStatus(ctx, v)
					if err != nil {
						return usageErr("%v", err)
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%-28s %s\n", v.Image(), st)
					if st != harness.ImageReady {
						missing++
					}
				}
				if missing > 0 {
					return failed(fmt.Errorf("%d image(s) missing or stale: run `make images`", missing))
				}
				return nil
			}
			if err := harness.BuildImages(ctx, vs, cmd.OutOrStdout()); err != nil {
				return usageErr("%v", err)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&versions, "versions", nil, "versions to build (default: all supported)")
	cmd.Flags().BoolVar(&check, "check", false, "only report whether each image is ready (exit 1 if not)")
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
