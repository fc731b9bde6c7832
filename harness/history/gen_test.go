package history

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// genConfig shapes a synthetic history that is linearizable by construction:
// every operation takes effect at a point inside [Call, Return], and its outcome
// is what the reference implementation (exec) gives in the order of those points.
type genConfig struct {
	ops, clients, keys int
	// unknown is the share (in %) of writes whose outcome the client does not
	// learn; half of them take effect.
	unknown int
	// staleVersion is the share (in %) of sets that expect an older version.
	staleVersion int
}

func generate(rng *rand.Rand, g genConfig) History {
	type pending struct {
		op  Op
		lin time.Duration
		hit bool // an unknown write that took effect
	}
	free := make([]time.Duration, g.clients) // when each client may call again
	ps := make([]pending, 0, g.ops)
	for i := range g.ops {
		c := rng.IntN(g.clients)
		call := free[c] + time.Duration(rng.IntN(50))*time.Microsecond
		lin := call + time.Duration(1+rng.IntN(500))*time.Microsecond
		ret := lin + time.Duration(1+rng.IntN(500))*time.Microsecond
		free[c] = ret
		op := Op{ClientID: c, Session: int64(c + 1), Path: Key(rng.IntN(g.keys)), Call: call, Return: ret}
		switch r := rng.IntN(100); {
		case r < 20:
			op.Kind = Create
		case r < 55:
			op.Kind = Set
		case r < 85:
			op.Kind = SyncGet
		default:
			op.Kind = Get
		}
		if op.Kind.Write() {
			op.Input.Value = fmt.Sprintf("c%d-%d", c, i)
		}
		ps = append(ps, pending{op: op, lin: lin, hit: rng.IntN(2) == 0})
		if op.Kind.Write() && rng.IntN(100) < g.unknown {
			ps[len(ps)-1].op.Output.Class = Unknown
		}
	}
	slices.SortFunc(ps, func(a, b pending) int { return int(a.lin - b.lin) })
	state := map[string]State{}
	for i := range ps {
		p := &ps[i]
		s := state[p.op.Path]
		if p.op.Kind == Set {
			p.op.Input.Version = s.Version
			if rng.IntN(100) < g.staleVersion {
				p.op.Input.Version = max(0, s.Version-1-int32(rng.IntN(2)))
			}
		}
		out, next := exec(s, call{Kind: p.op.Kind, Path: p.op.Path, Input: p.op.Input})
		if p.op.Output.Class == Unknown {
			p.op.Output = Output{Class: Unknown, Err: "zk: connection closed"}
			if p.hit {
				state[p.op.Path] = next
			}
			continue
		}
		p.op.Output = out
		state[p.op.Path] = next
	}
	h := History{Start: time.Unix(0, 0)}
	for _, p := range ps {
		h.Ops = append(h.Ops, p.op)
	}
	slices.SortFunc(h.Ops, func(a, b Op) int { return int(a.Return - b.Return) })
	return h
}
