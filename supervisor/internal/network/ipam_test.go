package network

import (
	"errors"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/supervisor/internal/metadata"
)

func TestParseSubnet(t *testing.T) {
	if p, err := parseSubnet("10.20.0.0/16"); err != nil || p.String() != "10.20.0.0/16" {
		t.Errorf("parseSubnet = %v, %v", p, err)
	}
	for _, in := range []string{"10.20.0.1/16", "10.20.0.0", "fd00::/64", "10.0.0.0/31", "0.0.0.0/0", "x"} {
		if _, err := parseSubnet(in); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("parseSubnet(%q) = %v, want ErrInvalidArgument", in, err)
		}
	}
}

func TestPickSubnet(t *testing.T) {
	p := netip.MustParsePrefix
	for _, tc := range []struct {
		taken []netip.Prefix
		want  string
	}{
		{nil, "172.30.0.0/16"},
		{[]netip.Prefix{p("172.30.5.0/24")}, "172.31.0.0/16"},
		{[]netip.Prefix{p("172.16.0.0/12")}, "192.168.0.0/20"},
		{[]netip.Prefix{p("172.16.0.0/12"), p("192.168.0.0/24")}, "192.168.16.0/20"},
	} {
		got, err := pickSubnet(candidateSubnets(), tc.taken)
		if err != nil || got.String() != tc.want {
			t.Errorf("pickSubnet(taken %v) = %v, %v; want %s", tc.taken, got, err, tc.want)
		}
	}
	if _, err := pickSubnet(candidateSubnets(), []netip.Prefix{p("128.0.0.0/1")}); !errors.Is(err, ErrConflict) {
		t.Errorf("pickSubnet with everything taken = %v, want ErrConflict", err)
	}
}

func TestAllocate(t *testing.T) {
	a := netip.MustParseAddr
	subnet := netip.MustParsePrefix("10.0.0.0/29") // hosts .1-.6
	gw := a("10.0.0.1")
	used := map[netip.Addr]bool{}
	var got []string
	last := netip.Addr{}
	for i := 0; i < 5; i++ {
		ip, err := allocate(subnet, gw, last, used)
		if err != nil {
			t.Fatal(err)
		}
		used[ip], last = true, ip
		got = append(got, ip.String())
	}
	want := []string{"10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("allocations = %v, want %v", got, want)
		}
	}
	if _, err := allocate(subnet, gw, last, used); !errors.Is(err, ErrConflict) {
		t.Errorf("allocate in a full subnet = %v, want ErrConflict", err)
	}
	// Released .3: round robin wraps past the broadcast and the gateway.
	delete(used, a("10.0.0.3"))
	if ip, err := allocate(subnet, gw, last, used); err != nil || ip != a("10.0.0.3") {
		t.Errorf("allocate after release = %v, %v; want 10.0.0.3", ip, err)
	}
	// Round robin: .4 released right after .2 was handed out goes last.
	used = map[netip.Addr]bool{a("10.0.0.2"): true}
	if ip, _ := allocate(subnet, gw, a("10.0.0.2"), used); ip != a("10.0.0.3") {
		t.Errorf("next after .2 = %v, want 10.0.0.3", ip)
	}
	if !usable(subnet, a("10.0.0.6")) || usable(subnet, a("10.0.0.7")) || usable(subnet, a("10.0.0.0")) || usable(subnet, a("10.0.1.1")) {
		t.Error("usable is wrong about the edges of 10.0.0.0/29")
	}
}

// TestAssignAddressPersists: addresses come from meta.db, so they are
// unique across many endpoints and across reopening the database (a
// berthd restart), and a removed endpoint frees its address.
func TestAssignAddressPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := metadata.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	n := &metadata.Network{ID: "n1", Name: "n", Driver: DriverBridge, Subnet: "10.9.0.0/24", Gateway: "10.9.0.1", Bridge: "x"}
	add := func(db *metadata.DB, id string) string {
		t.Helper()
		en := metadata.EndpointNetwork{NetworkID: "n1"}
		err := db.Update(func(tx *metadata.Tx) error {
			if err := assignAddress(tx, &en); err != nil {
				return err
			}
			return tx.PutEndpoint(&metadata.Endpoint{ContainerID: id, Networks: []metadata.EndpointNetwork{en}})
		})
		if err != nil {
			t.Fatal(err)
		}
		return en.IP
	}
	db.Update(func(tx *metadata.Tx) error { return tx.PutNetwork(n) })
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		ip := add(db, "c"+string(rune('A'+i)))
		if seen[ip] || ip == "10.9.0.1" {
			t.Fatalf("address %s handed out twice (or the gateway)", ip)
		}
		seen[ip] = true
	}
	db.Close()
	db, err = metadata.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ip := add(db, "after-restart")
	if seen[ip] {
		t.Fatalf("after reopening, %s was handed out again", ip)
	}
	if ip != "10.9.0.52" {
		t.Errorf("after reopening got %s, want 10.9.0.52 (round robin goes on)", ip)
	}
	en := metadata.EndpointNetwork{NetworkID: "n1"}
	db.Update(func(tx *metadata.Tx) error {
		tx.DeleteEndpoint("cA")
		return nil
	})
	// Round robin does not reuse .2 until the subnet wraps.
	db.Update(func(tx *metadata.Tx) error { return assignAddress(tx, &en) })
	if en.IP != "10.9.0.53" {
		t.Errorf("next = %s, want 10.9.0.53", en.IP)
	}
}
