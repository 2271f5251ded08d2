package network

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// subnetLockPath is shared by every berthd on the host.
const subnetLockPath = "/run/lock/berth-subnets.lock"

// lockSubnets serializes, across all berthds on the host, the choice of
// a free subnet and the creation of the bridge that claims it. A subnet
// counts as free when no host route covers it, and the route appears
// only with the bridge's address: two berthds choosing at once (tests,
// benchmarks, several roots) would otherwise both take the same one.
func lockSubnets() (unlock func(), err error) {
	f, err := os.OpenFile(subnetLockPath, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("subnet lock: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: subnetLockPath, Err: err}
	}
	return func() { f.Close() }, nil
}
