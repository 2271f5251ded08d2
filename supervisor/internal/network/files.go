package network

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
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

// writeFileAtomic replaces path with data. The files are bind-mounted
// into containers only when they start, so replacing (not rewriting in
// place) before that is safe.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
