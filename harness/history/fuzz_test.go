package history

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

var kinds = []Kind{Create, Set, Get, SyncGet}
var classes = []Class{OK, BadVersion, NodeExists, NoNode, Unknown}

// arbitrary decodes up to 16 operations, 5 bytes each, with any kind, outcome,
// value, version and overlap.
func arbitrary(data []byte) History {
	var h History
	for i := 0; i+5 <= len(data) && len(h.Ops) < 16; i += 5 {
		b := data[i : i+5]
		call := time.Duration(b[4]%32) * time.Millisecond
		h.Ops = append(h.Ops, Op{
			ClientID: int(b[0] % 4),
			Kind:     kinds[b[0]>>2%4],
			Path:     Key(int(b[0] >> 4 % 2)),
			Input:    Input{Value: string('a' + rune(b[1]%3)), Version: int32(b[1] >> 2 % 3)},
			Output:   Output{Class: classes[b[2]%5], Value: string('a' + rune(b[2]>>3%3)), Version: int32(b[3] % 3)},
			Call:     call,
			Return:   call + time.Duration(b[3]>>2%16)*time.Millisecond,
		})
	}
	return h
}

// sequential decodes operations run one after the other on a correct server
// (exec), unknown writes applied or not as a byte says: always linearizable.
func sequential(data []byte) History {
	var h History
	state := map[string]State{}
	now := time.Duration(0)
	for i := 0; i+3 <= len(data) && len(h.Ops) < 64; i += 3 {
		b := data[i : i+3]
		op := Op{ClientID: int(b[0] % 3), Kind: kinds[b[0]>>2%4], Path: Key(int(b[0] >> 4 % 3))}
		s := state[op.Path]
		if op.Kind.Write() {
			op.Input.Value = string('a' + rune(i%26))
		}
		if op.Kind == Set {
			op.Input.Version = max(0, s.Version-int32(b[1]%2))
		}
		out, next := exec(s, call{Kind: op.Kind, Path: op.Path, Input: op.Input})
		op.Output = out
		if b[1]>>1%5 == 0 { // the client lost the answer
			op.Output = Output{Class: Unknown, Err: "zk: connection closed"}
			if !op.Kind.Write() || b[2]%2 == 0 { // the write did not happen
				next = s
			}
		}
		state[op.Path] = next
		op.Call = now
		now += time.Duration(1+b[2]>>1%8) * time.Microsecond
		op.Return = now
		now += time.Microsecond
		h.Ops = append(h.Ops, op)
	}
	return h
}

func FuzzCheck(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e"))
	f.Add([]byte{4, 0, 0, 8, 1, 4, 8, 0, 4, 6, 12, 0, 0, 20, 30, 0, 2, 1, 0, 9})
	f.Add([]byte("a stale sync+get, two concurrent CAS and a lost create"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, plain := range []bool{false, true} {
			opt := Options{Timeout: 5 * time.Second, CheckPlainReadsAsLinearizable: plain}
			h := arbitrary(data)
			r, err := Check(h, opt)
			if err != nil {
				t.Fatalf("arbitrary history: %v", err)
			}
			if r.Checked+r.PlainReadsSkipped+r.FailedReads+r.Resolved != len(h.Ops) {
				t.Fatalf("arbitrary history: counts %s", r)
			}
			// Leaving out the resolved writes changes no verdict.
			ref := opt
			ref.keepResolved = true
			if k, err := Check(h, ref); err == nil && k.Outcome != porcupine.Unknown && r.Outcome != porcupine.Unknown && k.Outcome != r.Outcome {
				t.Fatalf("resolved writes changed the verdict: %s, with them %s", r, k)
			}
			h = sequential(data)
			if r, err := Check(h, opt); err != nil || r.Outcome != porcupine.Ok {
				t.Fatalf("sequential history from the model itself: %s %v\n%+v", r, err, h.Ops)
			}
		}
		seed := uint64(0)
		for _, b := range data {
			seed = seed*31 + uint64(b)
		}
		h := generate(rand.New(rand.NewPCG(seed, 1)), genConfig{ops: 40, clients: 4, keys: 2, unknown: 10, staleVersion: 30})
		if r, err := Check(h, Options{Timeout: 5 * time.Second}); err != nil || r.Outcome == porcupine.Illegal {
			t.Fatalf("concurrent history linearizable by construction: %s %v", r, err)
		}
	})
}

// BenchmarkCheck checks a linearizable history of 10,000 operations by 8
// clients on 5 keys (5 % unknown-outcome writes, 20 % stale CAS).
//
//	go test -run='^$' -bench=Check ./harness/history
func BenchmarkCheck(b *testing.B) {
	h := generate(rand.New(rand.NewPCG(42, 42)), genConfig{ops: 10_000, clients: 8, keys: 5, unknown: 5, staleVersion: 20})
	b.ResetTimer()
	for range b.N {
		r, err := Check(h, Options{Timeout: time.Minute})
		if err != nil || !r.Linearizable {
			b.Fatalf("%s %v", r, err)
		}
	}
}
