package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkchaos/zkchaos/harness/fle"
)

// fle-replay runs fake election peers against one real server (F1's replay of the
// votes quoted in docs/F1.md). It runs inside a client container on the ensemble's network.
func init() {
	r := fle.Replay{}
	var peers []string
	cmd := &cobra.Command{
		Use:    "fle-replay",
		Hidden: true,
		Short:  "Fake election peers that answer one real server with fixed votes (bounded)",
		Long: `Fake fast-leader-election peers: each dials the real server's election port
as a larger id, answers every LOOKING notification with its fixed vote, drops and
dials back the server's own connections, and (for the announced leader) reads the
FOLLOWERINFO the server sends to the leader's quorum port. One JSON event per line,
prefixed "fle: ". Stops by itself after --duration.

--peer takes comma-separated key=value pairs: sid, election (listen address),
quorum (listen address, leader only), advertise (host:port for a v1 handshake),
state (LOOKING|FOLLOWING|LEADING), leader, zxid, round, peer-epoch (numbers may be
0x hex).`,
		Example: `  zkchaos fle-replay --target zk1:3888 --target-sid 1 --handshake v1 --format auto \
    --peer sid=2,election=:3888,advertise=fle:3888,state=FOLLOWING,leader=3,zxid=77309411648,round=832,peer-epoch=0x12 \
    --peer sid=3,election=:3889,quorum=:2889,advertise=fle:3889,state=LEADING,leader=3,zxid=73014444480,round=831,peer-epoch=0x12`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, s := range peers {
				p, err := parsePeer(s)
				if err != nil {
					return usageErr("--peer %q: %v", s, err)
				}
				r.Peers = append(r.Peers, p)
			}
			if err := r.Validate(); err != nil {
				return usageErr("%v", err)
			}
			out := cmd.OutOrStdout()
			r.Event = func(e fle.Event) {
				b, _ := json.Marshal(e)
				fmt.Fprintf(out, "fle: %s\n", b)
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			return r.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&r.Target, "target", "", "the real server's election address host:port (required)")
	f.Int64Var(&r.TargetSID, "target-sid", 1, "the real server's myid")
	f.StringVar(&r.Handshake, "handshake", fle.HandshakeV1, "initial message: sid (3.4) or v1 (3.5+)")
	f.StringVar(&r.Format, "format", fle.FormatAuto, "notification format: 28 (3.3), 40 (3.4.6+), v2 (3.5+) or auto (the server's own)")
	f.DurationVar(&r.Duration, "duration", time.Minute, "stop after this long (at most 10m)")
	f.StringArrayVar(&peers, "peer", nil, "a fake peer (repeatable), see above")
	_ = cmd.MarkFlagRequired("target")
	rootCmd.AddCommand(cmd)
}

func parsePeer(s string) (fle.Peer, error) {
	var p fle.Peer
	for kv := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return p, fmt.Errorf("%q is not key=value", kv)
		}
		num := func() (int64, error) { return strconv.ParseInt(v, 0, 64) }
		var err error
		switch k {
		case "sid":
			p.SID, err = num()
		case "election":
			p.ElectionListen = v
		case "quorum":
			p.QuorumListen = v
		case "advertise":
			p.Advertise = v
		case "state":
			p.Vote.State, err = fle.ParseState(v)
		case "leader":
			p.Vote.Leader, err = num()
		case "zxid":
			p.Vote.Zxid, err = num()
		case "round":
			p.Vote.Round, err = num()
		case "peer-epoch":
			p.Vote.PeerEpoch, err = num()
		default:
			return p, fmt.Errorf("unknown key %q", k)
		}
		if err != nil {
			return p, fmt.Errorf("%s: %w", k, err)
		}
	}
	if p.SID == 0 {
		return p, fmt.Errorf("sid is required")
	}
	return p, nil
}
