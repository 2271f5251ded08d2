package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// containerMounts runs the bundle with `cat /proc/self/mountinfo` and
// returns the mount table the container sees.
func containerMounts(t *testing.T, b *bundle, flags ...string) []mountinfo {
	t.Helper()
	b.edit(t, func(s *specs.Spec) { s.Process.Args = []string{"cat", "/proc/self/mountinfo"} })
	return parseMountinfo(runOK(t, b, flags...))
}

// hostMount runs mount(8) on the host and unmounts in cleanup.
func hostMount(t *testing.T, target string, args ...string) {
	t.Helper()
	if out, err := exec.Command("mount", append(args, target)...).CombinedOutput(); err != nil {
		t.Fatalf("mount %v %s: %v: %s", args, target, err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", target).Run() })
}

func bindMount(src, dst string, options ...string) specs.Mount {
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: append([]string{"bind"}, options...)}
}

func TestRootfs(t *testing.T) {
	requireRoot(t)
	t.Parallel()

	for _, flags := range [][]string{nil, {"--no-pivot"}} {
		name := "pivot_root"
		if flags != nil {
			name = "no-pivot"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, "sh", "-c", "cat /etc/hostname; ls /")
			out := runOK(t, b, flags...)
			if !strings.HasPrefix(out, "template\n") || !strings.Contains(out, "bin\n") {
				t.Errorf("run %v: / has %q, want the bundle's rootfs", flags, out)
			}
			ms := containerMounts(t, newBundle(t), flags...)
			if root := findMount(t, ms, "/"); !strings.HasSuffix(root.root, "/rootfs") && root.root != "/" {
				t.Errorf("run %v: / is %+v, want the bundle's rootfs", flags, root)
			}
		})
	}

	t.Run("readonly root", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "sh", "-c", "touch /x 2>/dev/null && echo root-writable; touch /tmp/y && echo tmp-writable")
		b.edit(t, func(s *specs.Spec) { s.Root.Readonly = true },
			withMounts(specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"}))
		if got, want := runOK(t, b), "tmp-writable\n"; got != want {
			t.Errorf("readonly root: %q, want %q", got, want)
		}
	})

	t.Run("writable root", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "sh", "-c", "touch /x && echo root-writable")
		b.edit(t, writableRoot)
		if got, want := runOK(t, b), "root-writable\n"; got != want {
			t.Errorf("writable root: %q, want %q", got, want)
		}
		if _, err := os.Stat(filepath.Join(b.rootfs, "x")); err != nil {
			t.Errorf("file written in the container: %v", err)
		}
	})

	// rootfsPropagation (runtime-spec config-linux.md): slave receives
	// mounts made later on the host under the rootfs; private does not;
	// shared puts the rootfs in a new peer group; unbindable forbids bind
	// mounts of it. Mounts made inside never reach the host unless shared.
	// The host side of the rootfs is a shared mount, as containerd's
	// overlay rootfs under /run usually is, so that "slave" has a master.
	for _, tt := range []struct {
		propagation string
		hostToCtr   string // "yes", "no", or "" for not checked
		ctrToHost   string
		rootField   string // optional mountinfo field wanted on "/"
		runcSkip    string
	}{
		{"rslave", "yes", "no", "master:", ""},
		{"slave", "yes", "no", "master:", "runc 1.1 makes only / a slave, not the rootfs under it, then makes the rootfs's parent private: nothing propagates"},
		{"rprivate", "no", "no", "", ""},
		{"private", "no", "no", "", ""},
		{"rshared", "", "", "shared:", "runc 1.1 makes the rootfs private for pivot_root and never shares it again"},
		{"shared", "", "", "shared:", "runc 1.1 makes the rootfs private for pivot_root and never shares it again"},
		{"unbindable", "no", "no", "unbindable", "runc 1.1 never makes the rootfs unbindable (and fails with EINVAL when the rootfs is no mount point)"},
	} {
		t.Run("rootfsPropagation "+tt.propagation, func(t *testing.T) {
			t.Parallel()
			if tt.runcSkip != "" {
				skipIfRunc(t, tt.runcSkip)
			}
			b := newBundle(t, "sleep", "100")
			os.Mkdir(filepath.Join(b.rootfs, "mnt"), 0o755)
			b.edit(t, func(s *specs.Spec) {
				s.Linux.RootfsPropagation = tt.propagation
				// to mount inside the container (exec inherits these)
				caps := s.Process.Capabilities
				caps.Bounding = append(caps.Bounding, "CAP_SYS_ADMIN")
				caps.Effective = append(caps.Effective, "CAP_SYS_ADMIN")
				caps.Permitted = append(caps.Permitted, "CAP_SYS_ADMIN")
			})
			hostMount(t, b.rootfs, "--bind", b.rootfs)
			if out, err := exec.Command("mount", "--make-shared", b.rootfs).CombinedOutput(); err != nil {
				t.Fatalf("mount --make-shared: %v: %s", err, out)
			}
			c := startContainer(t, b)

			root := findMount(t, parseMountinfo(c.execOK(t, "cat", "/proc/self/mountinfo")), "/")
			fields := strings.Join(root.optional, " ")
			if tt.rootField == "" && fields != "" || !strings.Contains(fields, tt.rootField) {
				t.Errorf("rootfsPropagation %s: / has propagation fields %q, want %q", tt.propagation, fields, tt.rootField)
			}

			hostMount(t, filepath.Join(b.rootfs, "mnt"), "-t", "tmpfs", "late-host-mount")
			seen := "no"
			for _, m := range parseMountinfo(c.execOK(t, "cat", "/proc/self/mountinfo")) {
				if m.mountPoint == "/mnt" {
					seen = "yes"
				}
			}
			if tt.hostToCtr != "" && seen != tt.hostToCtr {
				t.Errorf("rootfsPropagation %s: host mount under the rootfs visible inside: %s, want %s", tt.propagation, seen, tt.hostToCtr)
			}

			c.execOK(t, "mount", "-t", "tmpfs", "container-mount", "/tmp")
			t.Cleanup(func() { exec.Command("umount", "-l", filepath.Join(b.rootfs, "tmp")).Run() })
			seen = "no"
			for _, m := range readMountinfo("/proc/self/mountinfo") {
				if m.mountPoint == filepath.Join(b.rootfs, "tmp") {
					seen = "yes"
				}
			}
			if tt.ctrToHost != "" && seen != tt.ctrToHost {
				t.Errorf("rootfsPropagation %s: container mount visible on the host: %s, want %s", tt.propagation, seen, tt.ctrToHost)
			}
		})
	}

	t.Run("bind rw", func(t *testing.T) {
		t.Parallel()
		host := t.TempDir()
		os.WriteFile(filepath.Join(host, "hello"), []byte("from host\n"), 0o644)
		b := newBundle(t, "sh", "-c", "cat /data/hello; echo from container > /data/new")
		b.edit(t, withMounts(bindMount(host, "/data", "rw")))
		if got, want := runOK(t, b), "from host\n"; got != want {
			t.Errorf("bind mount read %q, want %q", got, want)
		}
		if data, _ := os.ReadFile(filepath.Join(host, "new")); string(data) != "from container\n" {
			t.Errorf("host file written through the bind mount = %q, want %q", data, "from container\n")
		}
	})

	t.Run("bind ro", func(t *testing.T) {
		t.Parallel()
		host := t.TempDir()
		b := newBundle(t, "sh", "-c", "touch /data/x 2>/dev/null && echo writable; grep ' /data ' /proc/self/mountinfo")
		b.edit(t, withMounts(bindMount(host, "/data", "ro")))
		out := runOK(t, b)
		if strings.Contains(out, "writable") {
			t.Errorf("ro bind mount is writable")
		}
		ms := parseMountinfo(out)
		if len(ms) != 1 || !hasOption(ms[0].options, "ro") {
			t.Errorf("ro bind mount options %q, want ro", out)
		}
		if _, err := os.Stat(filepath.Join(host, "x")); err == nil {
			t.Errorf("file created through a ro bind mount")
		}
	})

	t.Run("bind nosuid nodev noexec", func(t *testing.T) {
		t.Parallel()
		host := t.TempDir()
		b := newBundle(t)
		b.edit(t, withMounts(bindMount(host, "/data", "nosuid", "nodev", "noexec")))
		m := findMount(t, containerMounts(t, b), "/data")
		for _, opt := range []string{"rw", "nosuid", "nodev", "noexec"} {
			if !hasOption(m.options, opt) {
				t.Errorf("bind mount options %q, want %s", m.options, opt)
			}
		}
	})

	t.Run("bind noexec forbids exec", func(t *testing.T) {
		t.Parallel()
		host := t.TempDir()
		if err := copyFile("/bin/busybox", filepath.Join(host, "busybox")); err != nil {
			t.Fatal(err)
		}
		b := newBundle(t, "sh", "-c", "/data/busybox true 2>/dev/null && echo executed; echo done")
		b.edit(t, withMounts(bindMount(host, "/data", "noexec")))
		if got := runOK(t, b); got != "done\n" {
			t.Errorf("exec from a noexec mount: %q, want %q", got, "done\n")
		}
	})

	for _, tt := range []struct {
		option  string
		wantSub bool
	}{{"bind", false}, {"rbind", true}} {
		t.Run(tt.option+" submounts", func(t *testing.T) {
			t.Parallel()
			host := t.TempDir()
			sub := filepath.Join(host, "sub")
			os.Mkdir(sub, 0o755)
			hostMount(t, sub, "-t", "tmpfs", "tmpfs")
			b := newBundle(t)
			b.edit(t, withMounts(specs.Mount{Destination: "/data", Type: "bind", Source: host, Options: []string{tt.option}}))
			ms := containerMounts(t, b)
			found := false
			for _, m := range ms {
				found = found || m.mountPoint == "/data/sub"
			}
			if found != tt.wantSub {
				t.Errorf("%s mount of a dir with a submount: /data/sub mounted %v, want %v", tt.option, found, tt.wantSub)
			}
		})
	}

	for _, tt := range []struct {
		option     string
		wantShared bool
		wantMaster bool // not checked for rshared: it may be a slave too
	}{
		{"rshared", true, false},
		{"rslave", false, true},
		{"rprivate", false, false},
	} {
		t.Run("bind "+tt.option, func(t *testing.T) {
			t.Parallel()
			// The host side is a shared mount, so a slave has a master.
			host := t.TempDir()
			hostMount(t, host, "--bind", host)
			if out, err := exec.Command("mount", "--make-shared", host).CombinedOutput(); err != nil {
				t.Fatalf("mount --make-shared: %v: %s", err, out)
			}
			b := newBundle(t)
			b.edit(t, withMounts(bindMount(host, "/data", "rbind", tt.option)))
			m := findMount(t, containerMounts(t, b), "/data")
			fields := strings.Join(m.optional, " ")
			if got := strings.Contains(fields, "shared:"); got != tt.wantShared {
				t.Errorf("%s bind mount propagation %q: shared %v, want %v", tt.option, fields, got, tt.wantShared)
			}
			if got := strings.Contains(fields, "master:"); got != tt.wantMaster && tt.option != "rshared" {
				t.Errorf("%s bind mount propagation %q: master %v, want %v", tt.option, fields, got, tt.wantMaster)
			}
		})
	}

	t.Run("tmpfs size and mode", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "sh", "-c", "stat -c %a /scratch; grep ' /scratch ' /proc/self/mountinfo")
		b.edit(t, withMounts(specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "size=1m", "mode=1777"}}))
		out := runOK(t, b)
		mode, table, _ := strings.Cut(out, "\n")
		if mode != "1777" {
			t.Errorf("tmpfs mode = %q, want %q", mode, "1777")
		}
		ms := parseMountinfo(table)
		if len(ms) != 1 {
			t.Fatalf("mountinfo for /scratch: %q", table)
		}
		if ms[0].fsType != "tmpfs" || !hasOption(ms[0].superOpts, "size=1024k") || !hasOption(ms[0].options, "nosuid") {
			t.Errorf("tmpfs mount %+v, want tmpfs with size=1024k and nosuid", ms[0])
		}
	})

	t.Run("default mounts", func(t *testing.T) {
		t.Parallel()
		ms := containerMounts(t, newBundle(t))
		for _, want := range []struct{ point, fsType string }{
			{"/proc", "proc"},
			{"/dev", "tmpfs"},
			{"/dev/pts", "devpts"},
			{"/dev/shm", "tmpfs"},
			{"/dev/mqueue", "mqueue"},
			{"/sys", "sysfs"},
		} {
			if m := findMount(t, ms, want.point); m.fsType != want.fsType {
				t.Errorf("mount at %s has type %q, want %q", want.point, m.fsType, want.fsType)
			}
		}
		if m := findMount(t, ms, "/sys"); !hasOption(m.options, "ro") {
			t.Errorf("/sys options %q, want ro", m.options)
		}
	})

	t.Run("devpts and cgroup mount contents", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "sh", "-c", "test -c /dev/pts/ptmx && echo ptmx; test -f /sys/fs/cgroup/memory/memory.limit_in_bytes && echo memory; test -f /sys/fs/cgroup/pids/pids.max && echo pids")
		if got, want := runOK(t, b), "ptmx\nmemory\npids\n"; got != want {
			t.Errorf("devpts and cgroup mounts: %q, want %q", got, want)
		}
	})

	t.Run("default devices", func(t *testing.T) {
		t.Parallel()
		// major:minor in hex, as stat prints them.
		want := map[string]string{
			"/dev/null":    "1:3",
			"/dev/zero":    "1:5",
			"/dev/full":    "1:7",
			"/dev/random":  "1:8",
			"/dev/urandom": "1:9",
			"/dev/tty":     "5:0",
		}
		var script strings.Builder
		for dev := range want {
			script.WriteString("stat -c '%n %F %t:%T' " + dev + "; ")
		}
		script.WriteString("echo x > /dev/null && head -c 4 /dev/zero | wc -c")
		out := runOK(t, newBundle(t, "sh", "-c", script.String()))
		for dev, devnum := range want {
			line := dev + " character special file " + devnum + "\n"
			if !strings.Contains(out, line) {
				t.Errorf("devices: %q, want a line %q", out, line)
			}
		}
		if !strings.HasSuffix(out, "4\n") {
			t.Errorf("reading /dev/zero: %q, want 4 bytes", out)
		}
	})

	t.Run("dev symlinks", func(t *testing.T) {
		t.Parallel()
		out := runOK(t, newBundle(t, "sh", "-c", "for l in fd stdin stdout stderr ptmx; do echo $l $(readlink /dev/$l); done"))
		want := "fd /proc/self/fd\nstdin /proc/self/fd/0\nstdout /proc/self/fd/1\nstderr /proc/self/fd/2\nptmx pts/ptmx\n"
		if out != want {
			t.Errorf("/dev symlinks:\n%s\nwant:\n%s", out, want)
		}
	})

	t.Run("linux.devices", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "stat", "-c", "%F %t:%T %a %u:%g", "/dev/fuse")
		mode := os.FileMode(0o640)
		uid, gid := uint32(1000), uint32(1000)
		b.edit(t, func(s *specs.Spec) {
			s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{
				Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &mode, UID: &uid, GID: &gid,
			})
		})
		if got, want := runOK(t, b), "character special file a:e5 640 1000:1000\n"; got != want {
			t.Errorf("/dev/fuse = %q, want %q", got, want)
		}
	})

	t.Run("masked paths", func(t *testing.T) {
		t.Parallel()
		// Every maskedPath of the config that exists on this kernel: a file
		// is covered by /dev/null (1:3), a directory by an empty read-only
		// tmpfs. Paths absent here (e.g. /proc/kcore on some kernels) are
		// skipped, as runtimes do.
		b := newBundle(t)
		var script strings.Builder
		for _, p := range b.spec.Linux.MaskedPaths {
			script.WriteString("if [ -d " + p + " ]; then echo " + p + " dir $(ls -A " + p + " | wc -l) $(touch " + p + "/x 2>/dev/null && echo writable); " +
				"elif [ -e " + p + " ]; then echo " + p + " file $(stat -c %t:%T " + p + ") $(wc -c < " + p + "); fi; ")
		}
		script.WriteString("cat /proc/self/mountinfo")
		b.edit(t, func(s *specs.Spec) { s.Process.Args = []string{"sh", "-c", script.String()} })
		out := runOK(t, b)
		ms := parseMountinfo(out)
		checked := 0
		for _, p := range b.spec.Linux.MaskedPaths {
			fi, err := os.Stat(p)
			if err != nil {
				continue // not on this kernel
			}
			checked++
			want := p + " file 1:3 0\n"
			if fi.IsDir() {
				want = p + " dir 0\n"
				if m := findMount(t, ms, p); m.fsType != "tmpfs" || !hasOption(m.options, "ro") {
					t.Errorf("masked dir %s is mounted %+v, want a read-only tmpfs", p, m)
				}
			}
			if !strings.Contains(out, want) {
				t.Errorf("masked path %s: want a line %q in\n%s", p, want, out)
			}
		}
		if checked == 0 {
			t.Errorf("none of the masked paths %v exists on this host", b.spec.Linux.MaskedPaths)
		}
	})

	t.Run("readonly paths", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "sh", "-c", "echo x > /proc/sys/kernel/domainname 2>/dev/null && echo writable; grep -E ' /proc/(sys|bus|fs|irq|sysrq-trigger) ' /proc/self/mountinfo")
		out := runOK(t, b)
		if strings.Contains(out, "writable") {
			t.Errorf("/proc/sys/kernel/domainname is writable, want /proc/sys read-only")
		}
		ms := parseMountinfo(out)
		if len(ms) == 0 {
			t.Errorf("no readonly path mounts in %q", out)
		}
		for _, m := range ms {
			if !hasOption(m.options, "ro") {
				t.Errorf("readonly path %s has options %q, want ro", m.mountPoint, m.options)
			}
		}
		if m := findMount(t, ms, "/proc/sys"); m.mountPoint != "/proc/sys" {
			t.Errorf("no read-only /proc/sys")
		}
	})

	t.Run("sysctl", func(t *testing.T) {
		t.Parallel()
		hostBefore, _ := os.ReadFile("/proc/sys/kernel/shm_rmid_forced")
		b := newBundle(t, "cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shm_rmid_forced")
		b.edit(t, func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1"}
		})
		if got, want := runOK(t, b), "1\n1\n"; got != want {
			t.Errorf("sysctls inside = %q, want %q", got, want)
		}
		if data, _ := os.ReadFile("/proc/sys/kernel/shm_rmid_forced"); string(data) != string(hostBefore) {
			t.Errorf("host kernel.shm_rmid_forced = %q after the container set it in its ipc namespace, want %q", data, hostBefore)
		}
	})
}

// TestDevBindMountUntouched: when /dev is a bind mount (docker run -v
// /dev:/dev style), the runtime must not create its default device nodes in
// it: that would replace the source's own entries on the host.
func TestDevBindMountUntouched(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "null"), []byte("host file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBundle(t, "sh", "-c", "cat /dev/null")
	b.edit(t, func(s *specs.Spec) {
		var ms []specs.Mount
		for _, m := range s.Mounts {
			if !strings.HasPrefix(m.Destination, "/dev") {
				ms = append(ms, m)
			}
		}
		s.Mounts = append(ms, specs.Mount{Destination: "/dev", Type: "bind", Source: src, Options: []string{"rbind"}})
	})
	if got, want := runOK(t, b), "host file\n"; got != want {
		t.Errorf("cat /dev/null in a container with /dev bound to %s = %q, want %q (the source's file)", src, got, want)
	}
	fi, err := os.Lstat(filepath.Join(src, "null"))
	if err != nil || !fi.Mode().IsRegular() {
		t.Errorf("bind source %s/null after the run: %v, %v; want the regular file left as it was", src, fi, err)
	}
	for _, name := range []string{"zero", "full", "random", "urandom", "tty", "ptmx", "fd"} {
		if _, err := os.Lstat(filepath.Join(src, name)); err == nil {
			t.Errorf("the runtime created %s in the bind-mounted /dev source %s", name, src)
		}
	}
}
