package network

import (
	"fmt"
	"net/netip"
	"strings"
)

// hostsFile is a container's /etc/hosts: loopback names and its own
// hostname on each of its addresses. Other containers' names come from
// berth's DNS, so this file never changes while the container runs.
func hostsFile(hostname string, addrs []netip.Addr) []byte {
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\n")
	b.WriteString("ff00::0\tip6-mcastprefix\n")
	b.WriteString("ff02::1\tip6-allnodes\n")
	b.WriteString("ff02::2\tip6-allrouters\n")
	if hostname != "" {
		for _, a := range addrs {
			fmt.Fprintf(&b, "%s\t%s\n", a, hostname)
		}
	}
	return []byte(b.String())
}

// resolvConf is a bridged container's /etc/resolv.conf: berth's DNS on
// the gateway of its first network, with the host's search domains and
// options.
func resolvConf(gateway netip.Addr, search, options string) []byte {
	var b strings.Builder
	if search != "" {
		fmt.Fprintf(&b, "search %s\n", search)
	}
	fmt.Fprintf(&b, "nameserver %s\n", gateway)
	if options != "" {
		fmt.Fprintf(&b, "options %s\n", options)
	}
	return []byte(b.String())
}
