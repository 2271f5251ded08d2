package network

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// reservePort binds a socket to a published host port and keeps it, so
// that no other program can take the port while it is published and a
// port already taken is reported at once ("port is already allocated").
// The socket never listens: connections are DNATed before they could
// reach it, and were the rules gone they would be refused, not queued.
// It has no SO_REUSEADDR, so any later bind of the port fails. Port 0
// picks a free port; the port bound is returned.
func reservePort(proto string, ip netip.Addr, port uint16) (io.Closer, uint16, error) {
	typ := unix.SOCK_STREAM
	if proto == "udp" {
		typ = unix.SOCK_DGRAM
	}
	fd, err := unix.Socket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, 0, err
	}
	sa := &unix.SockaddrInet4{Port: int(port)}
	if ip.IsValid() {
		sa.Addr = ip.As4()
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EADDRINUSE) {
			return nil, 0, errorf(ErrConflict, "bind for %s:%d/%s failed: port is already allocated", hostIPString(ip), port, proto)
		}
		if errors.Is(err, unix.EADDRNOTAVAIL) {
			return nil, 0, errorf(ErrInvalidArgument, "bind for %s:%d/%s failed: %s is not an address of this host", hostIPString(ip), port, proto, ip)
		}
		return nil, 0, fmt.Errorf("bind %s:%d/%s: %w", hostIPString(ip), port, proto, err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, 0, err
	}
	return os.NewFile(uintptr(fd), "port"), uint16(got.(*unix.SockaddrInet4).Port), nil
}

func hostIPString(ip netip.Addr) string {
	if ip.IsValid() {
		return ip.String()
	}
	return "0.0.0.0"
}
