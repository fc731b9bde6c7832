package nemesis_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/zkchaos/zkchaos/harness/fault"
	"github.com/zkchaos/zkchaos/harness/history"
	"github.com/zkchaos/zkchaos/harness/nemesis"
)

func TestPlanIsDeterministic(t *testing.T) {
	a := nemesis.Plan(7, 60*time.Second, 3, nil)
	b := nemesis.Plan(7, 60*time.Second, 3, nil)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("seed 7 gave two schedules:\n%s\n%s", a, b)
	}
	if c := nemesis.Plan(8, 60*time.Second, 3, nil); reflect.DeepEqual(a.Steps, c.Steps) {
		t.Fatalf("seeds 7 and 8 gave the same schedule:\n%s", a)
	}
	t.Logf("\n%s", a)
}

func TestPlanCoversKinds(t *testing.T) {
	for seed := int64(0); seed < 200; seed++ {
		s := nemesis.Plan(seed, 60*time.Second, 3, nil)
		if s.Nominal() > 60*time.Second {
			t.Fatalf("seed %d: %v planned in 60 s", seed, s.Nominal())
		}
		var kinds []fault.Kind
		for _, st := range s.Steps {
			if !slices.Contains(nemesis.DefaultKinds, st.Fault.Kind) {
				t.Fatalf("seed %d: kind %s not asked for", seed, st.Fault.Kind)
			}
			if !slices.Contains(kinds, st.Fault.Kind) {
				kinds = append(kinds, st.Fault.Kind)
			}
			for _, id := range append(slices.Concat(st.Fault.Groups...), st.Fault.Nodes...) {
				if id < 1 || id > 3 {
					t.Fatalf("seed %d: %s acts on myid %d of 3", seed, st.Fault, id)
				}
			}
		}
		// A 60 s run shows at least five kinds: each kind comes once before any repeats.
		if len(kinds) < 5 {
			t.Fatalf("seed %d: only %d kinds in 60 s: %s", seed, len(kinds), s)
		}
	}
	one := nemesis.Plan(1, 30*time.Second, 5, []fault.Kind{fault.Partition})
	for _, st := range one.Steps {
		if st.Fault.Kind != fault.Partition || len(st.Fault.Groups[1]) != 2 || len(st.Fault.Groups[0]) != 3 {
			t.Fatalf("5 nodes: want partitions of 3 | 2, got %s", st.Fault)
		}
	}
}

func TestMeasure(t *testing.T) {
	start := time.Unix(1000, 0)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	h := history.History{Start: start, Ops: []history.Op{
		{Kind: history.Set, Call: ms(0), Return: ms(100), Output: history.Output{Class: history.OK}},
		{Kind: history.Set, Call: ms(1100), Return: ms(1200), Output: history.Output{Class: history.Unknown}},
		{Kind: history.Get, Call: ms(1300), Return: ms(1400), Output: history.Output{Class: history.Unknown}},
		{Kind: history.Create, Call: ms(3000), Return: ms(3100), Output: history.Output{Class: history.OK}},
		{Kind: history.SyncGet, Call: ms(3200), Return: ms(3300), Output: history.Output{Class: history.OK}},
	}}
	a := nemesis.Measure(h, start.Add(ms(1000)), start.Add(ms(4000)))
	want := nemesis.Availability{Window: ms(3000), LongestNoWrite: ms(2100), Ops: 4, Failed: 1, Unknown: 1}
	if a != want {
		t.Fatalf("Measure = %+v, want %+v", a, want)
	}
	if got := a.FailedShare(); got != 0.5 {
		t.Fatalf("FailedShare = %v", got)
	}
}
