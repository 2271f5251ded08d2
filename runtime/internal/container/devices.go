package container

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/runtime/internal/rootfs"
)

// cgroupResources returns the resources to apply: the config's, with the
// device rules extended as runc does, so that the usual "deny all" rule still
// lets the container use its default devices and its pty. Devices listed
// in linux.devices get no automatic rule (as with runc and crun): the
// config's own rules decide. The config itself is not modified.
func cgroupResources(res *specs.LinuxResources) *specs.LinuxResources {
	var r specs.LinuxResources
	if res != nil {
		r = *res
	}
	rules := append([]specs.LinuxDeviceCgroup{}, r.Devices...)
	allow := func(typ string, major, minor int64, access string) {
		rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: typ, Major: &major, Minor: &minor, Access: access})
	}
	allow("c", -1, -1, "m") // mknod of any device; opening it is what is limited
	allow("b", -1, -1, "m")
	for _, d := range rootfs.DefaultDevices {
		allow(d.Type, d.Major, d.Minor, "rwm")
	}
	allow("c", 5, 1, "rwm")    // /dev/console
	allow("c", 5, 2, "rwm")    // /dev/ptmx
	allow("c", 136, -1, "rwm") // /dev/pts/*
	allow("c", 10, 200, "rwm") // /dev/net/tun
	r.Devices = rules
	return &r
}
