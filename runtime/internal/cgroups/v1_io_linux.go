package cgroups

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// setBlkio writes the blkio weights and throttles. Weights need the CFQ
// (kernel < 5.0) or BFQ I/O scheduler; without them there is no
// blkio.weight file and a requested weight is an error, while throttling
// works with any scheduler.
func (m *v1Manager) setBlkio(r *specs.LinuxResources) error {
	b := weightsSet(r.BlockIO)
	if b == nil {
		return nil
	}
	d, err := m.dir("blkio")
	if err != nil {
		return err
	}
	if b.Weight != nil || b.LeafWeight != nil || len(b.WeightDevice) > 0 {
		prefix := "blkio."
		if exists(d + "/blkio.bfq.weight") {
			prefix = "blkio.bfq."
		} else if !exists(d + "/blkio.weight") {
			return fmt.Errorf("blkio weight %w (no blkio.weight or blkio.bfq.weight in %s: the I/O scheduler has no weights)", ErrNotSupported, d)
		}
		if b.Weight != nil {
			if err := writeFile(d, prefix+"weight", strconv.FormatUint(uint64(*b.Weight), 10)); err != nil {
				return err
			}
		}
		if b.LeafWeight != nil {
			if err := writeFile(d, "blkio.leaf_weight", strconv.FormatUint(uint64(*b.LeafWeight), 10)); err != nil {
				return err
			}
		}
		for _, wd := range b.WeightDevice {
			if wd.Weight != nil {
				if err := writeFile(d, prefix+"weight_device", fmt.Sprintf("%d:%d %d", wd.Major, wd.Minor, *wd.Weight)); err != nil {
					return err
				}
			}
			if wd.LeafWeight != nil {
				if err := writeFile(d, "blkio.leaf_weight_device", fmt.Sprintf("%d:%d %d", wd.Major, wd.Minor, *wd.LeafWeight)); err != nil {
					return err
				}
			}
		}
	}
	for _, t := range []struct {
		file string
		devs []specs.LinuxThrottleDevice
	}{
		{"blkio.throttle.read_bps_device", b.ThrottleReadBpsDevice},
		{"blkio.throttle.write_bps_device", b.ThrottleWriteBpsDevice},
		{"blkio.throttle.read_iops_device", b.ThrottleReadIOPSDevice},
		{"blkio.throttle.write_iops_device", b.ThrottleWriteIOPSDevice},
	} {
		for _, td := range t.devs {
			if err := writeFile(d, t.file, fmt.Sprintf("%d:%d %d", td.Major, td.Minor, td.Rate)); err != nil {
				return err
			}
		}
	}
	return nil
}

// setHugetlb uses the v1 controller if mounted; on Hybrid hugetlb may live
// in the cgroup2 hierarchy instead (it does on this project's hosts).
func (m *v1Manager) setHugetlb(r *specs.LinuxResources) error {
	if len(r.HugepageLimits) == 0 {
		return nil
	}
	d := m.paths["hugetlb"]
	if d == "" && m.unified != "" {
		if err := enableControllers(unifiedRoot, m.unified); err != nil {
			return err
		}
		return setHugetlbV2(m.unified, r.HugepageLimits)
	}
	if d == "" {
		_, err := m.dir("hugetlb")
		return err
	}
	for _, h := range r.HugepageLimits {
		v := strconv.FormatUint(h.Limit, 10)
		if err := writeFile(d, "hugetlb."+h.Pagesize+".limit_in_bytes", v); err != nil {
			return err
		}
		// Reservation limits (kernel >= 5.7) also stop reservations the
		// usage limit would only catch at fault time.
		if err := writeFile(d, "hugetlb."+h.Pagesize+".rsvd.limit_in_bytes", v); err != nil && !errors.Is(err, unix.ENOENT) {
			return err
		}
	}
	return nil
}

func (m *v1Manager) setNetwork(r *specs.LinuxResources) error {
	n := r.Network
	if n == nil {
		return nil
	}
	if n.ClassID != nil {
		d, err := m.dir("net_cls")
		if err != nil {
			return err
		}
		if err := writeFile(d, "net_cls.classid", strconv.FormatUint(uint64(*n.ClassID), 10)); err != nil {
			return err
		}
	}
	if len(n.Priorities) > 0 {
		d, err := m.dir("net_prio")
		if err != nil {
			return err
		}
		for _, p := range n.Priorities {
			if err := writeFile(d, "net_prio.ifpriomap", p.Name+" "+strconv.FormatUint(uint64(p.Priority), 10)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *v1Manager) setRdma(r *specs.LinuxResources) error {
	if len(r.Rdma) == 0 {
		return nil
	}
	d, err := m.dir("rdma")
	if err != nil {
		return err
	}
	return setRdmaFile(d, r.Rdma)
}

// setUnified writes linux.resources.unified into the cgroup2 part of a
// Hybrid layout; with v1 alone there is nowhere to write it.
func (m *v1Manager) setUnified(r *specs.LinuxResources) error {
	if len(r.Unified) == 0 {
		return nil
	}
	if m.unified == "" {
		return fmt.Errorf("linux.resources.unified %w: no cgroup v2 hierarchy", ErrNotSupported)
	}
	if err := enableControllers(unifiedRoot, m.unified); err != nil {
		return err
	}
	return setUnifiedFiles(m.unified, r.Unified)
}

// setRdmaFile writes one rdma.max line per device; v1 and v2 share the
// format.
func setRdmaFile(dir string, limits map[string]specs.LinuxRdma) error {
	for dev, l := range limits {
		line := dev
		if l.HcaHandles != nil {
			line += " hca_handle=" + strconv.FormatUint(uint64(*l.HcaHandles), 10)
		}
		if l.HcaObjects != nil {
			line += " hca_object=" + strconv.FormatUint(uint64(*l.HcaObjects), 10)
		}
		if strings.ContainsAny(dev, " \n") {
			return fmt.Errorf("rdma device %q: bad name", dev)
		}
		if err := writeFile(dir, "rdma.max", line); err != nil {
			return err
		}
	}
	return nil
}

// weightsSet returns b without the weights that are 0, which means "not
// set": dockerd always sends weight 0, and runc and crun ignore it. b
// itself is not modified.
func weightsSet(b *specs.LinuxBlockIO) *specs.LinuxBlockIO {
	if b == nil {
		return nil
	}
	out := *b
	zero := func(p *uint16) *uint16 {
		if p != nil && *p == 0 {
			return nil
		}
		return p
	}
	out.Weight = zero(b.Weight)
	out.LeafWeight = zero(b.LeafWeight)
	out.WeightDevice = nil
	for _, wd := range b.WeightDevice {
		wd.Weight, wd.LeafWeight = zero(wd.Weight), zero(wd.LeafWeight)
		if wd.Weight != nil || wd.LeafWeight != nil {
			out.WeightDevice = append(out.WeightDevice, wd)
		}
	}
	return &out
}
