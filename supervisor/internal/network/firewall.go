package network

import (
	"bytes"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
)

// berth's packet filtering lives in one nftables table of its own
// (`ip berth` unless configured otherwise) that is always written whole:
// every change renders the table from meta.db and replaces it in one
// atomic nft transaction. Nothing is ever added to or removed from the
// host's other tables, so cleanup is exact (delete the table) and a
// restart or crash cannot leave stray rules: the next render replaces
// whatever was there.
//
// The table, for bridges B (sets bridges, subnets, gateways):
//
//	nat prerouting/output: to a local address -> jump publish
//	publish:     DNS to a gateway from a bridge   -> return (berth's DNS)
//	             daddr . proto . dport in ports_ip  -> dnat (-p IP:HOST:CTR)
//	             proto . dport in ports_any         -> dnat (-p HOST:CTR)
//	nat postrouting: 127.0.0.0/8 out to a bridge      -> masquerade (-p from loopback)
//	             DNATed from a subnet to a bridge   -> masquerade (hairpin)
//	             from a subnet out of the bridges   -> masquerade (outgoing NAT)
//	filter forward: DNATed (published ports)        -> accept
//	             from bridge X to another bridge   -> drop (isolation)
//
// Loopback publishing needs route_localnet=1 on each bridge: without it
// the kernel refuses to route a packet from 127.0.0.1 out of a
// non-loopback device after the output DNAT.

// bridgeRules is what the table needs of one bridge network.
type bridgeRules struct {
	Name    string
	Subnet  netip.Prefix
	Gateway netip.Addr
	// Internal networks get no outgoing NAT.
	Internal bool
}

// portRule is one published port.
type portRule struct {
	Proto    string
	HostIP   netip.Addr // zero: every local address
	HostPort uint16
	CtrIP    netip.Addr
	CtrPort  uint16
}

// ruleset is the whole table.
type ruleset struct {
	Table   string
	Bridges []bridgeRules
	Ports   []portRule
}

// script renders the nft script that replaces the table with rs.
func (rs ruleset) script() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	// Declaring the table first makes the delete work when it is absent.
	w("table ip %s", rs.Table)
	w("delete table ip %s", rs.Table)
	w("table ip %s {", rs.Table)

	var names, subnets, gws, nat []string
	for _, br := range rs.Bridges {
		names = append(names, quote(br.Name))
		subnets = append(subnets, br.Subnet.String())
		gws = append(gws, br.Gateway.String())
		if !br.Internal {
			nat = append(nat, br.Subnet.String())
		}
	}
	set := func(name, typ string, interval bool, elems []string) {
		kind := "set"
		if strings.Contains(typ, " : ") {
			kind = "map"
		}
		w("\t%s %s {", kind, name)
		w("\t\ttype %s", typ)
		if interval {
			w("\t\tflags interval")
		}
		if len(elems) > 0 {
			w("\t\telements = { %s }", strings.Join(elems, ", "))
		}
		w("\t}")
	}
	set("bridges", "ifname", false, names)
	set("subnets", "ipv4_addr", true, subnets)
	set("nat_subnets", "ipv4_addr", true, nat)
	set("gateways", "ipv4_addr", false, gws)

	var withIP, anyIP []string
	for _, p := range rs.sortedPorts() {
		val := fmt.Sprintf("%s . %d", p.CtrIP, p.CtrPort)
		if p.HostIP.IsValid() {
			withIP = append(withIP, fmt.Sprintf("%s . %s . %d : %s", p.HostIP, p.Proto, p.HostPort, val))
		} else {
			anyIP = append(anyIP, fmt.Sprintf("%s . %d : %s", p.Proto, p.HostPort, val))
		}
	}
	set("ports_ip", "ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service", false, withIP)
	set("ports_any", "inet_proto . inet_service : ipv4_addr . inet_service", false, anyIP)

	w("\tchain prerouting {")
	w("\t\ttype nat hook prerouting priority dstnat; policy accept;")
	w("\t\tfib daddr type local jump publish")
	w("\t}")
	w("\tchain output {")
	w("\t\ttype nat hook output priority -100; policy accept;")
	w("\t\tfib daddr type local jump publish")
	w("\t}")
	w("\tchain publish {")
	w("\t\tiifname @bridges ip daddr @gateways meta l4proto { tcp, udp } th dport 53 return")
	w("\t\tdnat ip to ip daddr . meta l4proto . th dport map @ports_ip")
	w("\t\tdnat ip to meta l4proto . th dport map @ports_any")
	w("\t}")
	w("\tchain postrouting {")
	w("\t\ttype nat hook postrouting priority srcnat; policy accept;")
	w("\t\toifname @bridges ip saddr 127.0.0.0/8 masquerade")
	w("\t\toifname @bridges ct status dnat ip saddr @subnets masquerade")
	w("\t\toifname != @bridges ip saddr @nat_subnets masquerade")
	w("\t}")
	w("\tchain forward {")
	w("\t\ttype filter hook forward priority filter; policy accept;")
	w("\t\tct status dnat accept")
	for _, n := range names {
		w("\t\tiifname %s oifname @bridges oifname != %s drop", n, n)
	}
	for _, br := range rs.Bridges {
		if br.Internal {
			w("\t\tiifname %s oifname != @bridges drop", quote(br.Name))
			w("\t\toifname %s iifname != @bridges drop", quote(br.Name))
		}
	}
	w("\t}")
	w("}")
	return b.String()
}

// sortedPorts orders the ports so that the rendering is stable.
func (rs ruleset) sortedPorts() []portRule {
	ps := slices.Clone(rs.Ports)
	slices.SortFunc(ps, func(a, b portRule) int {
		if c := strings.Compare(a.Proto, b.Proto); c != 0 {
			return c
		}
		if c := a.HostIP.Compare(b.HostIP); c != 0 {
			return c
		}
		return int(a.HostPort) - int(b.HostPort)
	})
	return ps
}

// quote makes an interface name an nft string.
func quote(s string) string { return `"` + s + `"` }

// deleteScript removes the table, if it is there.
func deleteScript(table string) string {
	return fmt.Sprintf("table ip %s\ndelete table ip %s\n", table, table)
}

// firewall applies nft scripts. Tests record them instead.
type firewall interface {
	apply(script string) error
}

// nftCLI runs `nft -f -`, which applies a script as one transaction:
// all of it or, on any error, none of it.
type nftCLI struct{}

func (nftCLI) apply(script string) error {
	cmd := exec.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("nft: %w: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}
