package harness_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkchaos/zkchaos/harness"
)

// BenchmarkEnsembleStart measures, per version, the time from Run to every node of a
// 3-node ensemble serving (median and maximum over ZKCHAOS_BENCH_STARTS starts,
// default 10) and each node's resident memory once serving.
// Targets (issue 3): median ≤ 1.5 s, maximum ≤ 2.5 s, ≤ 100 MiB per node. The
// path is the one chosen for this host; ZKCHAOS_REACH=tunnel measures the tunnel
// through the engine's API.
//
//	go test -run='^$' -bench=EnsembleStart -benchtime=1x ./harness
func BenchmarkEnsembleStart(b *testing.B) {
	starts := 10
	if s, err := strconv.Atoi(os.Getenv("ZKCHAOS_BENCH_STARTS")); err == nil && s > 0 {
		starts = s
	}
	for _, v := range harness.Versions {
		b.Run(v.Version, func(b *testing.B) {
			ctx := context.Background()
			if err := harness.CheckReady(ctx, v); err != nil {
				b.Skipf("%v", err)
			}
			var durations []float64
			var rssMax float64
			var reach harness.Reach
			for range b.N {
				for range starts {
					t0 := time.Now()
					ens, err := harness.Run(ctx, harness.WithVersion(v.Version), harness.WithNodes(3))
					d := time.Since(t0).Seconds()
					if err != nil {
						_ = ens.Terminate(ctx)
						b.Fatal(err)
					}
					durations = append(durations, d)
					reach = ens.Reach()
					for _, n := range ens.Nodes() {
						rss, err := rssMiB(ctx, n)
						if err != nil {
							_ = ens.Terminate(ctx)
							b.Fatal(err)
						}
						rssMax = max(rssMax, rss)
					}
					if err := ens.Terminate(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			slices.Sort(durations)
			median := durations[len(durations)/2]
			if len(durations)%2 == 0 {
				median = (durations[len(durations)/2-1] + durations[len(durations)/2]) / 2
			}
			b.ReportMetric(median, "median-s")
			b.ReportMetric(durations[len(durations)-1], "max-s")
			b.ReportMetric(rssMax, "MiB-rss/node")
			fmt.Printf("start %-7s 3 nodes, %d starts, reach %s: median %.2f s, max %.2f s, min %.2f s; RSS per node ≤ %.0f MiB\n",
				v.Version, len(durations), reach, median, durations[len(durations)-1], durations[0], rssMax)
			if out := os.Getenv("ZKCHAOS_BENCH_OUT"); out != "" {
				// One JSON line per version for `zkchaos profile --bench` (make bench's README table).
				line, _ := json.Marshal(map[string]any{"version": v.Version, "reach": string(reach), "starts": len(durations),
					"median_s": median, "max_s": durations[len(durations)-1], "min_s": durations[0], "rss_mib": rssMax,
					"measured": time.Now().UTC().Format(time.DateOnly)})
				f, err := os.OpenFile(out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
				if err != nil {
					b.Fatal(err)
				}
				_, err = f.Write(append(line, '\n'))
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// rssMiB reads the ZooKeeper JVM's resident set inside the node.
func rssMiB(ctx context.Context, n *harness.Node) (float64, error) {
	res, err := n.Exec(ctx, "ps", "-C", "java", "-o", "rss=")
	if err != nil {
		return 0, err
	}
	kb, err := strconv.ParseFloat(strings.TrimSpace(res.Stdout), 64)
	if err != nil {
		return 0, fmt.Errorf("%s: ps rss %q: %w", n, res.Stdout, err)
	}
	return kb / 1024, nil
}
