package cgroup

import "testing"

const hybridMountinfo = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

func TestParseHybrid(t *testing.T) {
	proc := "9:name=systemd:/\n8:pids:/ns/c1\n4:memory:/ns/c1\n1:cpu,cpuacct:/ns/c1\n0::/ns/c1\n"
	cg, err := parse([]byte(proc), []byte(hybridMountinfo))
	if err != nil {
		t.Fatal(err)
	}
	for ctrl, want := range map[string]string{
		"memory":  "/sys/fs/cgroup/memory/ns/c1",
		"cpuacct": "/sys/fs/cgroup/cpu,cpuacct/ns/c1",
		"cpu":     "/sys/fs/cgroup/cpu,cpuacct/ns/c1",
		"pids":    "/sys/fs/cgroup/pids/ns/c1",
	} {
		if got := cg.v1[ctrl]; got != want {
			t.Errorf("v1[%s] = %q, want %q", ctrl, got, want)
		}
	}
	if cg.v2 != "/sys/fs/cgroup/unified/ns/c1" || !cg.V1() {
		t.Errorf("v2 = %q, V1() = %v", cg.v2, cg.V1())
	}
}

func TestParseUnifiedWithNamespaceRoot(t *testing.T) {
	mi := "25 1 0:22 /kubepods /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"
	cg, err := parse([]byte("0::/kubepods/pod1/c1\n"), []byte(mi))
	if err != nil {
		t.Fatal(err)
	}
	if cg.v2 != "/sys/fs/cgroup/pod1/c1" || cg.V1() {
		t.Errorf("v2 = %q, V1() = %v; want /sys/fs/cgroup/pod1/c1, false", cg.v2, cg.V1())
	}
}

func TestParseNoCgroup(t *testing.T) {
	if _, err := parse([]byte("0::/x\n"), []byte("1 0 0:1 / / rw - ext4 /dev/vda rw\n")); err != ErrNoCgroup {
		t.Errorf("parse without cgroup mounts = %v, want ErrNoCgroup", err)
	}
}

func TestUnescape(t *testing.T) {
	if got := unescape(`/a\040b`); got != "/a b" {
		t.Errorf("unescape = %q", got)
	}
}
