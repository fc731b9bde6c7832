package harness

import (
	"context"
	"net/netip"
	"strings"
	"testing"
)

func TestParseReach(t *testing.T) {
	for in, want := range map[string]Reach{"": ReachAuto, "auto": ReachAuto, "direct": ReachDirect, " Tunnel ": ReachTunnel} {
		got, err := ParseReach(in)
		if err != nil || got != want {
			t.Errorf("ParseReach(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseReach("port-forward"); err == nil {
		t.Error("ParseReach accepted an unknown path")
	}
}

// Auto chooses direct only where this host holds the network's gateway address;
// an explicit choice and $ZKCHAOS_REACH win over the detection.
func TestChooseReach(t *testing.T) {
	t.Setenv(EnvReach, "")
	if got := chooseReach(ReachAuto, netip.MustParseAddr("127.0.0.1")); got != ReachDirect {
		t.Errorf("an address of this host: %q, want direct", got)
	}
	// TEST-NET-3: no host holds it.
	if got := chooseReach(ReachAuto, netip.MustParseAddr("203.0.113.1")); got != ReachTunnel {
		t.Errorf("an address no interface holds: %q, want tunnel", got)
	}
	if got := chooseReach(ReachTunnel, netip.MustParseAddr("127.0.0.1")); got != ReachTunnel {
		t.Errorf("WithReach(tunnel) lost to detection: %q", got)
	}
	t.Setenv(EnvReach, "tunnel")
	if got := chooseReach(ReachAuto, netip.MustParseAddr("127.0.0.1")); got != ReachTunnel {
		t.Errorf("$%s=tunnel lost to detection: %q", EnvReach, got)
	}
	if got := chooseReach(ReachDirect, netip.MustParseAddr("203.0.113.1")); got != ReachDirect {
		t.Errorf("WithReach(direct) lost to $%s: %q", EnvReach, got)
	}
}

// The network rule at the seam: an address off the ensemble's network is never
// dialled, on either path, and the refusal is counted.
func TestRouteRefusesAddressesOffItsNetwork(t *testing.T) {
	for _, reach := range []Reach{ReachDirect, ReachTunnel} {
		r := &route{reach: reach, network: "zkchaos-test", subnet: netip.MustParsePrefix("10.199.7.0/24")}
		before := ProcessDialStats()
		_, err := r.dial(context.Background(), netip.MustParseAddrPort("192.0.2.1:2181"))
		if err == nil || !strings.Contains(err.Error(), "zkchaos dials only its own containers") {
			t.Fatalf("%s: err %v", reach, err)
		}
		st := r.counters.snapshot()
		if st.Direct != 0 || st.Tunnel != 0 || st.Failed != 1 {
			t.Fatalf("%s: counted %s, want one failure and no dial", reach, st)
		}
		if after := ProcessDialStats(); after.Direct != before.Direct || after.Tunnel != before.Tunnel {
			t.Fatalf("%s: the process counted a dial: %s → %s", reach, before, after)
		}
	}
}

// A route whose tunnel has no gateway fails with a reach error, without a dial.
func TestTunnelWithoutGatewayIsAReachError(t *testing.T) {
	r := &route{reach: ReachTunnel, network: "zkchaos-test", subnet: netip.MustParsePrefix("10.199.7.0/24")}
	_, err := r.dial(context.Background(), netip.MustParseAddrPort("10.199.7.11:2181"))
	re, ok := err.(*ReachError)
	if !ok || re.Reach != ReachTunnel {
		t.Fatalf("err %T %v, want a *ReachError via tunnel", err, err)
	}
	if !strings.Contains(err.Error(), "not reachable from this process via tunnel") {
		t.Fatalf("err %v", err)
	}
}
