package network

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// PortMapping is one published port: -p [IP:][HOST:]CTR[/PROTO].
type PortMapping struct {
	Proto string // tcp or udp
	// HostIP is the host address the port is published on; the zero
	// Addr means every address (0.0.0.0).
	HostIP netip.Addr
	// HostPort 0 asks Attach for a free port; the Attachment then holds
	// the one it took.
	HostPort      uint16
	ContainerPort uint16
}

// String renders m as `docker ps` and `docker port` do:
// 0.0.0.0:8080->80/tcp.
func (m PortMapping) String() string {
	ip := "0.0.0.0"
	if m.HostIP.IsValid() {
		ip = m.HostIP.String()
	}
	return fmt.Sprintf("%s:%d->%d/%s", ip, m.HostPort, m.ContainerPort, m.Proto)
}

// ParsePorts parses -p values; see ParsePort.
func ParsePorts(specs []string) ([]PortMapping, error) {
	var out []PortMapping
	type key struct {
		proto string
		ip    netip.Addr
		port  uint16
	}
	seen := map[key]string{}
	for _, s := range specs {
		ms, err := ParsePort(s)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m.HostPort != 0 {
				k := key{m.Proto, m.HostIP, m.HostPort}
				if prev, dup := seen[k]; dup {
					return nil, errorf(ErrInvalidArgument, "publish %q: host port %d/%s is also published by %q", s, m.HostPort, m.Proto, prev)
				}
				seen[k] = s
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// ParsePort parses one -p value, Docker's forms: CTR, HOST:CTR,
// IP:HOST:CTR and IP::CTR, each with an optional /tcp or /udp, where a
// port may be a range (8000-8009:80-89, or 80-89 alone for random host
// ports). Only IPv4 host addresses are supported.
func ParsePort(spec string) ([]PortMapping, error) {
	bad := func(format string, args ...any) ([]PortMapping, error) {
		return nil, errorf(ErrInvalidArgument, "publish %q: %s", spec, fmt.Sprintf(format, args...))
	}
	rest, proto, hasProto := strings.Cut(spec, "/")
	proto = strings.ToLower(proto)
	switch {
	case !hasProto:
		proto = "tcp"
	case proto != "tcp" && proto != "udp":
		return bad("protocol %q: want tcp or udp", proto)
	}
	if strings.HasPrefix(rest, "[") {
		return bad("IPv6 host addresses are not supported")
	}
	var ipStr, hostStr, ctrStr string
	switch parts := strings.Split(rest, ":"); len(parts) {
	case 1:
		ctrStr = parts[0]
	case 2:
		hostStr, ctrStr = parts[0], parts[1]
	case 3:
		ipStr, hostStr, ctrStr = parts[0], parts[1], parts[2]
	default:
		return bad("want [[IP:]HOST:]CONTAINER[/PROTO]")
	}
	var ip netip.Addr
	if ipStr != "" {
		a, err := netip.ParseAddr(ipStr)
		if err != nil || !a.Unmap().Is4() {
			return bad("host address %q: want an IPv4 address", ipStr)
		}
		if a = a.Unmap(); !a.IsUnspecified() {
			ip = a
		}
	}
	c0, c1, err := portRange(ctrStr)
	if err != nil {
		return bad("container port: %v", err)
	}
	if c0 == 0 {
		return bad("container port 0")
	}
	var h0, h1 uint16
	if hostStr != "" {
		if h0, h1, err = portRange(hostStr); err != nil {
			return bad("host port: %v", err)
		}
		if h0 == 0 {
			return bad("host port 0: leave the host port out for a random one")
		}
		if h1-h0 != c1-c0 {
			return bad("host range %s and container range %s differ in length", hostStr, ctrStr)
		}
	}
	var out []PortMapping
	for i := 0; i <= int(c1-c0); i++ {
		m := PortMapping{Proto: proto, HostIP: ip, ContainerPort: c0 + uint16(i)}
		if h0 != 0 {
			m.HostPort = h0 + uint16(i)
		}
		out = append(out, m)
	}
	return out, nil
}

// portRange parses "80" or "8000-8009".
func portRange(s string) (lo, hi uint16, err error) {
	a, b, isRange := strings.Cut(s, "-")
	p := func(s string) (uint16, error) {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("%q is not a port number", s)
		}
		return uint16(n), nil
	}
	if lo, err = p(a); err != nil {
		return 0, 0, err
	}
	hi = lo
	if isRange {
		if hi, err = p(b); err != nil {
			return 0, 0, err
		}
		if hi < lo {
			return 0, 0, fmt.Errorf("range %q ends before it starts", s)
		}
	}
	return lo, hi, nil
}
