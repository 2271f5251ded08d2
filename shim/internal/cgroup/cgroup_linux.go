// Package cgroup reads a container's cgroup for the task API: metrics
// (containerd's io.containerd.cgroups.v1/v2.Metrics) and OOM notifications.
//
// The shim only reads; the runtime creates and configures the cgroup. The
// container's cgroups are found from /proc/<init>/cgroup and the cgroup
// mounts in /proc/self/mountinfo, so whatever path scheme the runtime used
// (cgroupsPath, systemd slices) and whichever layout the host has (v1,
// hybrid, unified) the shim looks where the process really is. On a hybrid
// host the v1 controllers win, as they hold the limits.
package cgroup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNoCgroup is returned when the process has no cgroup the shim can read.
var ErrNoCgroup = errors.New("no cgroup")

// Cgroup is where one container's processes are accounted.
type Cgroup struct {
	v1 map[string]string // controller -> directory (v1 controllers only)
	v2 string            // unified directory, "" if none
}

// Load finds the cgroup directories of pid.
func Load(pid int) (*Cgroup, error) {
	procData, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	mountData, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return parse(procData, mountData)
}

type mount struct {
	root, point string
	v2          bool
	controllers []string
}

func parse(procData, mountData []byte) (*Cgroup, error) {
	var mounts []mount
	sc := bufio.NewScanner(bytes.NewReader(mountData))
	for sc.Scan() {
		// 35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, pf := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(pf) < 3 {
			continue
		}
		switch pf[0] {
		case "cgroup2":
			mounts = append(mounts, mount{root: f[3], point: unescape(f[4]), v2: true})
		case "cgroup":
			var ctrls []string
			for _, o := range strings.Split(pf[2], ",") {
				if o != "rw" && o != "ro" && !strings.Contains(o, "=") || strings.HasPrefix(o, "name=") {
					ctrls = append(ctrls, o)
				}
			}
			mounts = append(mounts, mount{root: f[3], point: unescape(f[4]), controllers: ctrls})
		}
	}
	cg := &Cgroup{v1: map[string]string{}}
	sc = bufio.NewScanner(bytes.NewReader(procData))
	for sc.Scan() {
		// 4:memory:/ns/id  or  0::/ns/id
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		path := parts[2]
		if parts[1] == "" {
			for _, m := range mounts {
				if m.v2 {
					cg.v2 = join(m, path)
					break
				}
			}
			continue
		}
		for _, ctrl := range strings.Split(parts[1], ",") {
			for _, m := range mounts {
				if !m.v2 && contains(m.controllers, ctrl) {
					cg.v1[ctrl] = join(m, path)
					break
				}
			}
		}
	}
	if len(cg.v1) == 0 && cg.v2 == "" {
		return nil, ErrNoCgroup
	}
	return cg, nil
}

// V1 reports whether the container is accounted in v1 controllers.
func (c *Cgroup) V1() bool { return c.v1["memory"] != "" || c.v1["cpuacct"] != "" }

func join(m mount, path string) string {
	rel := path
	if m.root != "/" {
		rel = strings.TrimPrefix(path, m.root)
	}
	return filepath.Join(m.point, rel)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func readUint(dir, file string) uint64 {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return 0
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return 0
	}
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}

// readKV reads "key value" lines into a map.
func readKV(dir, file string) map[string]uint64 {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil
	}
	kv := map[string]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err == nil {
			kv[k] = n
		}
	}
	return kv
}
