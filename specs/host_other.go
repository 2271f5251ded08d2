//go:build !linux

package specs

import (
	"errors"
	"os"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Containers only run on Linux; these stubs let the parsers build elsewhere.

func readHostKernel() kernelVersion { return kernelVersion{} }

func readHostBoundingCaps() []string { return capNames[:] }

func readThermalPaths() []string { return nil }

func hostSysctlExists(string) bool { return true }

func readHostDevices() ([]specs.LinuxDevice, error) {
	return nil, errors.New("list host devices: not supported on this system")
}

func readRootfsFile(rootfs, name string) ([]byte, error) {
	p, err := securejoin.SecureJoin(rootfs, name)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}
