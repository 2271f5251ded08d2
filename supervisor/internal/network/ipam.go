package network

import (
	"fmt"
	"net/netip"
)

// candidateSubnets are tried in order for a network created without
// --subnet: 172.30/16 and 172.31/16 first (Docker's default bridge has
// 172.17, so berth beside Docker avoids it), then the rest of 172.17-29,
// then 192.168.0.0/16 in /20s, as Docker's default pools do.
func candidateSubnets() []netip.Prefix {
	var out []netip.Prefix
	for _, b := range []byte{30, 31, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29} {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, b, 0, 0}), 16))
	}
	for c := 0; c < 256; c += 16 {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(c), 0}), 20))
	}
	return out
}

// overlapping returns the first of taken that overlaps p.
func overlapping(p netip.Prefix, taken []netip.Prefix) (netip.Prefix, bool) {
	for _, t := range taken {
		if p.Overlaps(t) {
			return t, true
		}
	}
	return netip.Prefix{}, false
}

// pickSubnet returns the first candidate that overlaps nothing taken.
func pickSubnet(candidates, taken []netip.Prefix) (netip.Prefix, error) {
	for _, c := range candidates {
		if _, clash := overlapping(c, taken); !clash {
			return c, nil
		}
	}
	return netip.Prefix{}, errorf(ErrConflict, "no free subnet left in the default address pools; give one with --subnet")
}

// parseSubnet checks a --subnet value: IPv4, the network address itself
// (as Docker insists), room for a gateway and one container.
func parseSubnet(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, errorf(ErrInvalidArgument, "subnet %q: want CIDR such as 10.10.0.0/24", s)
	}
	if !p.Addr().Is4() {
		return p, errorf(ErrInvalidArgument, "subnet %q: only IPv4 subnets are supported", s)
	}
	if p.Masked() != p {
		return p, errorf(ErrInvalidArgument, "subnet %q: it should be %s", s, p.Masked())
	}
	if p.Bits() < 8 {
		return p, errorf(ErrInvalidArgument, "subnet %q: a /%d is too large; use /8 or smaller", s, p.Bits())
	}
	if p.Bits() > 30 {
		return p, errorf(ErrInvalidArgument, "subnet %q: a /%d has no room for a gateway and a container", s, p.Bits())
	}
	return p, nil
}

func toU32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func fromU32(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// usable reports whether a is a host address of p: inside it, and not
// its network or broadcast address.
func usable(p netip.Prefix, a netip.Addr) bool {
	if !a.Is4() || !p.Contains(a) {
		return false
	}
	base := toU32(p.Masked().Addr())
	v := toU32(a)
	return v != base && v != base|(uint32(1)<<(32-p.Bits())-1)
}

// allocate returns a free host address of subnet, skipping the network
// and broadcast addresses, the gateway and used. It starts after last
// (round robin), so that an address just released is not handed out
// again at once to a new container, which peers that cached the old
// owner's MAC or DNS answer would reach by mistake.
func allocate(subnet netip.Prefix, gateway, last netip.Addr, used map[netip.Addr]bool) (netip.Addr, error) {
	base := toU32(subnet.Masked().Addr())
	hosts := uint32(1)<<(32-subnet.Bits()) - 2
	var off uint32
	if last.IsValid() && subnet.Contains(last) {
		off = (toU32(last) - base) % hosts
	}
	for i := uint32(0); i < hosts; i++ {
		a := fromU32(base + 1 + (off+i)%hosts)
		if a != gateway && !used[a] {
			return a, nil
		}
	}
	return netip.Addr{}, errorf(ErrConflict, "no free address left in %s", subnet)
}

// macFor derives a container's MAC address from its IPv4 address, as
// Docker does (02:42 + the address): unique on the bridge because the
// address is, and locally administered.
func macFor(a netip.Addr) string {
	b := a.As4()
	return fmt.Sprintf("02:42:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3])
}
