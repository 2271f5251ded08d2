package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// ensureBridge creates the bridge name if missing, gives it the gateway
// address and brings it up. Existing bridges are adopted (berthd restart).
func ensureBridge(name string, gw netip.Prefix) error {
	link, err := netlink.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	switch {
	case errors.As(err, &notFound):
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name, MTU: 1500}}
		if err := netlink.LinkAdd(br); err != nil {
			return fmt.Errorf("create bridge %s: %w", name, err)
		}
		if link, err = netlink.LinkByName(name); err != nil {
			return fmt.Errorf("create bridge %s: %w", name, err)
		}
	case err != nil:
		return fmt.Errorf("bridge %s: %w", name, err)
	case link.Type() != "bridge":
		return errorf(ErrConflict, "bridge %s: a %s device has that name", name, link.Type())
	}
	addr := &netlink.Addr{IPNet: ipNet(gw)}
	if err := netlink.AddrReplace(link, addr); err != nil {
		return fmt.Errorf("address %s on %s: %w", gw, name, err)
	}
	// route_localnet lets the output DNAT of -p send packets from
	// 127.0.0.1 out of this bridge (see firewall.go).
	if err := writeSysctl(filepath.Join("/proc/sys/net/ipv4/conf", name, "route_localnet"), "1"); err != nil {
		return err
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("bring up %s: %w", name, err)
	}
	return nil
}

// deleteLink removes a device; a missing one is no error.
func deleteLink(name string) error {
	link, err := netlink.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	// ENODEV: the kernel removed it meanwhile (a veth whose peer's
	// namespace was just freed).
	if err := netlink.LinkDel(link); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// linkExists reports whether a device called name exists.
func linkExists(name string) bool {
	_, err := netlink.LinkByName(name)
	return err == nil
}

// bridgePorts lists the devices enslaved to a bridge.
func bridgePorts(bridge string) ([]string, error) {
	br, err := netlink.LinkByName(bridge)
	if err != nil {
		return nil, err
	}
	links, err := netlink.LinkList()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			out = append(out, l.Attrs().Name)
		}
	}
	return out, nil
}

// vethConfig is one container interface.
type vethConfig struct {
	HostName string       // the host end, enslaved to Bridge
	Bridge   string       //
	IfName   string       // the container end: eth0, eth1...
	Addr     netip.Prefix // the container's address and the subnet's length
	MAC      string
	// Gateway, when valid, becomes the container's default route.
	Gateway netip.Addr
}

// addVeth creates a veth pair with one end in the namespace at nsPath,
// configured as c says, and the other on the bridge. The container end
// is created inside the namespace directly, under a temporary name so
// that it cannot clash with the host's devices, then renamed.
func addVeth(nsPath string, c vethConfig) (err error) {
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", nsPath, err)
	}
	defer ns.Close()
	br, err := netlink.LinkByName(c.Bridge)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", c.Bridge, err)
	}
	mac, err := net.ParseMAC(c.MAC)
	if err != nil {
		return err
	}
	// The container's end is made in its namespace with its final name
	// and MAC, and the host's end up: each later change would be one more
	// netlink round trip (a rename also goes through sysfs and notifiers).
	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: c.HostName, MTU: br.Attrs().MTU, MasterIndex: br.Attrs().Index, Flags: net.FlagUp},
		PeerName:         c.IfName,
		PeerHardwareAddr: mac,
		PeerNamespace:    netlink.NsFd(int(ns)),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("create veth %s: %w", c.HostName, err)
	}
	defer func() {
		if err != nil {
			deleteLink(c.HostName)
		}
	}()
	// Hairpin: a container reaching its own published port through the
	// host's address gets the packets back on the port they came from.
	// (LinkAdd filled in the index.)
	if err := netlink.LinkSetHairpin(veth, true); err != nil {
		return fmt.Errorf("hairpin on %s: %w", c.HostName, err)
	}

	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", nsPath, err)
	}
	defer h.Close()
	link, err := h.LinkByName(c.IfName)
	if err != nil {
		return fmt.Errorf("find %s in %s: %w", c.IfName, nsPath, err)
	}
	if err := h.AddrAdd(link, &netlink.Addr{IPNet: ipNet(c.Addr)}); err != nil {
		return fmt.Errorf("address %s on %s: %w", c.Addr, c.IfName, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("bring up %s: %w", c.IfName, err)
	}
	if c.Gateway.IsValid() {
		route := &netlink.Route{LinkIndex: link.Attrs().Index, Gw: c.Gateway.AsSlice()}
		if err := h.RouteAdd(route); err != nil {
			return fmt.Errorf("default route via %s: %w", c.Gateway, err)
		}
	}
	return nil
}

// hostRoutes are the destinations of the host's IPv4 routes in the main
// table, but the default route: subnets a new network must not overlap.
func hostRoutes() ([]netip.Prefix, error) {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	var out []netip.Prefix
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		ones, _ := r.Dst.Mask.Size()
		a, ok := netip.AddrFromSlice(r.Dst.IP.To4())
		if !ok || ones == 0 {
			continue
		}
		out = append(out, netip.PrefixFrom(a, ones).Masked())
	}
	return out, nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}
}

func writeSysctl(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("sysctl %s: %w", path, err)
	}
	return nil
}

// enableForwarding turns on IPv4 forwarding, which NAT to the outside
// needs. It is host-wide and stays on, as with Docker and podman.
func enableForwarding() error {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err == nil && len(b) > 0 && b[0] == '1' {
		return nil
	}
	return writeSysctl("/proc/sys/net/ipv4/ip_forward", "1")
}
