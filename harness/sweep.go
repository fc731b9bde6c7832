package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/moby/moby/client"
)

// SweepMode chooses what Sweep removes.
type SweepMode int

const (
	// SweepStale removes what was created by processes of this host that are gone
	// (a killed run's leftovers), and never a live run's containers.
	SweepStale SweepMode = iota
	// SweepAll removes everything labelled zkchaos, live runs included (`zkchaos clean`).
	SweepAll
	// SweepRun removes what this process (RunID) created.
	SweepRun
)

// SweepResult lists what Sweep removed.
type SweepResult struct {
	Containers []string
	Networks   []string
}

// Sweep removes labelled containers and networks. Errors of single removals are
// joined, so one stuck container never hides the others.
func Sweep(ctx context.Context, mode SweepMode) (SweepResult, error) {
	host, _ := os.Hostname()
	return sweep(ctx, func(labels map[string]string) bool {
		switch mode {
		case SweepAll:
			return true
		case SweepRun:
			return labels[LabelRun] == RunID
		default:
			if labels[LabelHost] != host {
				return false
			}
			pid, _ := strconv.Atoi(labels[LabelPID])
			return !processAlive(pid)
		}
	})
}

// SweepRunID removes what the run with this id created, whichever host or
// container that run's process was in (e.g. a test process in a container).
func SweepRunID(ctx context.Context, runID string) (SweepResult, error) {
	if runID == "" {
		return SweepResult{}, errors.New("sweep: empty run id")
	}
	return sweep(ctx, func(labels map[string]string) bool { return labels[LabelRun] == runID })
}

func sweep(ctx context.Context, selected func(map[string]string) bool) (SweepResult, error) {
	var res SweepResult
	cli, err := Docker(ctx)
	if err != nil {
		return res, err
	}
	filter := make(client.Filters).Add("label", LabelManaged+"=1")
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		return res, fmt.Errorf("sweep: list containers: %w", err)
	}
	var errs []error
	for _, c := range cs.Items {
		if !selected(c.Labels) {
			continue
		}
		name := c.ID[:12]
		if len(c.Names) > 0 {
			name = c.Names[0][1:]
		}
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			if goneMeanwhile(err) {
				continue // its own run removed it between the list and here
			}
			errs = append(errs, fmt.Errorf("sweep: remove container %s: %w", name, err))
			continue
		}
		res.Containers = append(res.Containers, name)
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	if err != nil {
		return res, errors.Join(append(errs, fmt.Errorf("sweep: list networks: %w", err))...)
	}
	for _, n := range ns.Items {
		if !selected(n.Labels) {
			continue
		}
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			if goneMeanwhile(err) {
				continue
			}
			errs = append(errs, fmt.Errorf("sweep: remove network %s: %w", n.Name, err))
			continue
		}
		res.Networks = append(res.Networks, n.Name)
	}
	return res, errors.Join(errs...)
}

// goneMeanwhile: what the sweep listed was removed by its own run before the
// sweep got to it (a run that just ended: its pid is gone, its removal was
// under way). Seen in make test: a worker process ended right after removing
// its ensemble, and a concurrent stale sweep listed those containers.
func goneMeanwhile(err error) bool {
	return isNotFound(err) || strings.Contains(err.Error(), "already in progress")
}

// Leftovers counts labelled containers and networks whose run label is runID
// ("" counts every zkchaos-labelled one).
func Leftovers(ctx context.Context, runID string) (containers, networks int, err error) {
	cli, err := Docker(ctx)
	if err != nil {
		return 0, 0, err
	}
	filter := make(client.Filters).Add("label", LabelManaged+"=1")
	if runID != "" {
		filter = filter.Add("label", LabelRun+"="+runID)
	}
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		return 0, 0, err
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	if err != nil {
		return 0, 0, err
	}
	return len(cs.Items), len(ns.Items), nil
}
