package rootfs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountCgroup mounts the container's view of the cgroup filesystem. On v2
// it is one cgroup2 mount. On v1 it is a tmpfs holding one mount per
// hierarchy, as on a host. With a cgroup namespace the kernel roots each
// mount at the container's cgroup; without one the container's own cgroup
// directories are bind mounted, so the container never sees its siblings.
func mountCgroup(rootfs string, m *specs.Mount, o mountOpts) error {
	fd, err := resolve(rootfs, m.Destination, createDir)
	if err != nil {
		return fmt.Errorf("mount destination %s: %w", m.Destination, err)
	}
	defer unix.Close(fd)
	target := fdPath(fd)
	flags := o.flags &^ unix.MS_RDONLY
	cgroupns := ownCgroupNS()
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return fmt.Errorf("statfs /sys/fs/cgroup: %w", err)
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		if cgroupns {
			err = unix.Mount("cgroup2", target, "cgroup2", o.flags, "")
		} else {
			err = bindOwnCgroup(target, "/sys/fs/cgroup", "", o.flags)
		}
		if err != nil {
			return fmt.Errorf("mount cgroup2 on %s: %w", m.Destination, err)
		}
		return nil
	}
	if err := unix.Mount("tmpfs", target, "tmpfs", flags, "mode=755"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", m.Destination, err)
	}
	fd2, err := resolve(rootfs, m.Destination, noCreate)
	if err != nil {
		return err
	}
	defer unix.Close(fd2)
	dir := fdPath(fd2)
	hier, err := hierarchies()
	if err != nil {
		return err
	}
	for _, h := range hier {
		sub := filepath.Join(dir, h.name)
		if err := os.Mkdir(sub, 0o755); err != nil && !os.IsExist(err) {
			return fmt.Errorf("mkdir %s/%s: %w", m.Destination, h.name, err)
		}
		if cgroupns {
			typ, data := "cgroup", h.opts
			if h.v2 {
				typ, data = "cgroup2", ""
			}
			err = unix.Mount("cgroup", sub, typ, o.flags, data)
		} else {
			err = bindOwnCgroup(sub, h.mountpoint, h.path, o.flags)
		}
		if err != nil {
			return fmt.Errorf("mount cgroup %s on %s: %w", h.name, m.Destination, err)
		}
		// Co-mounted controllers (cpu,cpuacct) get a link per name, as hosts have.
		if strings.Contains(h.name, ",") {
			for _, c := range strings.Split(h.name, ",") {
				unix.Symlink(h.name, filepath.Join(dir, c))
			}
		}
	}
	if o.flags&unix.MS_RDONLY != 0 {
		if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_RDONLY|flags, "mode=755"); err != nil {
			return fmt.Errorf("remount %s read-only: %w", m.Destination, err)
		}
	}
	return nil
}

func bindOwnCgroup(target, mountpoint, path string, flags uintptr) error {
	src := filepath.Join(mountpoint, path)
	if err := unix.Mount(src, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if extra := flags &^ (unix.MS_BIND | unix.MS_REC); extra != 0 {
		return unix.Mount("", target, "", extra|unix.MS_BIND|unix.MS_REMOUNT, "")
	}
	return nil
}

// ownCgroupNS reports whether we are in a cgroup namespace of our own
// (different from pid 1's of the host is not knowable here; compare with
// the parent's view: in a new cgroup namespace /proc/self/cgroup shows "/").
func ownCgroupNS() bool {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && parts[2] != "/" {
			return false
		}
	}
	return true
}

type hierarchy struct {
	name       string // directory name under /sys/fs/cgroup: "memory", "cpu,cpuacct", "systemd", "unified"
	opts       string // mount data for a cgroup v1 mount: "memory", "name=systemd"
	mountpoint string // where the host has it mounted
	path       string // our cgroup inside it
	v2         bool
}

// hierarchies lists the cgroup hierarchies mounted on the host (as our
// mountinfo still shows them before pivot_root) with our place in each.
func hierarchies() ([]hierarchy, error) {
	own := map[string]string{} // controllers → path, from /proc/self/cgroup
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 {
			own[parts[1]] = parts[2]
		}
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []hierarchy
	s := bufio.NewScanner(f)
	for s.Scan() {
		// id parent maj:min root mountpoint opts [optional...] - fstype source superopts
		pre, post, ok := strings.Cut(s.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 3 || !strings.HasPrefix(pf[4], "/sys/fs/cgroup/") {
			continue
		}
		mp := pf[4]
		switch qf[0] {
		case "cgroup":
			var ctrls []string
			for _, o := range strings.Split(qf[2], ",") {
				if o == "rw" || o == "ro" || strings.HasPrefix(o, "clone_children") || o == "noprefix" || strings.HasPrefix(o, "release_agent") || o == "xattr" {
					continue
				}
				ctrls = append(ctrls, o)
			}
			key := strings.Join(ctrls, ",")
			out = append(out, hierarchy{name: filepath.Base(mp), opts: key, mountpoint: mp, path: own[key]})
		case "cgroup2":
			out = append(out, hierarchy{name: filepath.Base(mp), mountpoint: mp, path: own[""], v2: true})
		}
	}
	return out, s.Err()
}
