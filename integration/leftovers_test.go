package integration

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Leftover checks: after a container is gone (or failed to appear), nothing
// of it may remain on the host.

// assertNoLeftovers checks that no state dir, cgroup, mount or process of
// the bundle's container (id b.id) remains.
func assertNoLeftovers(t *testing.T, root string, b *bundle) {
	t.Helper()
	assertNoLeftoversID(t, root, b.id, b)
}

func assertNoLeftoversID(t *testing.T, root, id string, b *bundle) {
	t.Helper()
	if id != "" {
		if _, err := os.Lstat(filepath.Join(root, id)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("state dir %s still exists (err %v)", filepath.Join(root, id), err)
		}
		if pids := processesMentioning(id); len(pids) > 0 {
			t.Errorf("processes still running with %q in their command line: %v", id, pids)
		}
	}
	if dirs := cgroupDirs(b.cgroupsPath()); len(dirs) > 0 {
		t.Errorf("cgroup dirs left behind: %v", dirs)
	}
	if pids := processesInCgroup(b.cgroupsPath()); len(pids) > 0 {
		t.Errorf("processes left in cgroup %s: %v", b.cgroupsPath(), pids)
	}
	if ms := mountsUnder(b.dir); len(ms) > 0 {
		t.Errorf("mounts left under the bundle: %v", ms)
	}
}

// cgroupDirs lists the existing directories for cgroupsPath in every
// hierarchy mounted under /sys/fs/cgroup.
func cgroupDirs(cgroupsPath string) []string {
	var found []string
	if st, err := os.Stat(filepath.Join("/sys/fs/cgroup", cgroupsPath)); err == nil && st.IsDir() {
		found = append(found, filepath.Join("/sys/fs/cgroup", cgroupsPath)) // cgroup v2
	}
	hs, _ := os.ReadDir("/sys/fs/cgroup")
	for _, h := range hs {
		p := filepath.Join("/sys/fs/cgroup", h.Name(), cgroupsPath)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			found = append(found, p)
		}
	}
	return found
}

// processesMentioning lists live processes (not zombies, not this test)
// whose command line contains s.
func processesMentioning(s string) []int {
	var pids []int
	forEachProcess(func(pid int) {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && bytes.Contains(cmdline, []byte(s)) {
			pids = append(pids, pid)
		}
	})
	return pids
}

// processesInCgroup lists processes whose /proc/PID/cgroup names the path.
func processesInCgroup(cgroupsPath string) []int {
	var pids []int
	forEachProcess(func(pid int) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(data), "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) == 3 && (parts[2] == cgroupsPath || strings.HasPrefix(parts[2], cgroupsPath+"/")) {
				pids = append(pids, pid)
				return
			}
		}
	})
	return pids
}

func forEachProcess(fn func(pid int)) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || isZombie(pid) {
			continue
		}
		fn(pid)
	}
}

func isZombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // gone
	}
	// The state follows the parenthesised command name.
	i := bytes.LastIndexByte(data, ')')
	return i < 0 || i+2 >= len(data) || data[i+2] == 'Z' || data[i+2] == 'X'
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	return !isZombie(pid)
}

// waitGone waits until pid is gone or a zombie.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mountsUnder lists the mount points in the host mount table at or below dir.
func mountsUnder(dir string) []string {
	var found []string
	for _, m := range readMountinfo("/proc/self/mountinfo") {
		if m.mountPoint == dir || strings.HasPrefix(m.mountPoint, dir+"/") {
			found = append(found, m.mountPoint)
		}
	}
	return found
}

// mountinfo is one line of /proc/PID/mountinfo.
type mountinfo struct {
	root       string // the mount's root within its filesystem
	mountPoint string
	options    string   // per-mount options: rw,nosuid,...
	optional   []string // shared:N master:N ...
	fsType     string
	source     string
	superOpts  string // per-superblock options: size=...,mode=...
}

func parseMountinfo(text string) []mountinfo {
	var ms []mountinfo
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		m := mountinfo{root: unescapeOctal(f[3]), mountPoint: unescapeOctal(f[4]), options: f[5]}
		i := 6
		for ; i < len(f) && f[i] != "-"; i++ {
			m.optional = append(m.optional, f[i])
		}
		if i+3 < len(f) {
			m.fsType, m.source, m.superOpts = f[i+1], f[i+2], f[i+3]
		}
		ms = append(ms, m)
	}
	return ms
}

func readMountinfo(path string) []mountinfo {
	data, _ := os.ReadFile(path)
	return parseMountinfo(string(data))
}

// findMount returns the last (topmost) mount at mountPoint.
func findMount(t *testing.T, ms []mountinfo, mountPoint string) mountinfo {
	t.Helper()
	var found *mountinfo
	for i := range ms {
		if ms[i].mountPoint == mountPoint {
			found = &ms[i]
		}
	}
	if found == nil {
		t.Fatalf("no mount at %s in mountinfo", mountPoint)
	}
	return *found
}

func hasOption(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
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
