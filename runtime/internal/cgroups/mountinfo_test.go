package cgroups

import (
	"maps"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	tests := []struct {
		name, in string
		want     map[string]string
	}{
		{
			name: "hybrid with co-mounted controllers",
			in: `22 1 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children
35 31 0:32 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`,
			want: map[string]string{
				"cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
				"cpuset": "/sys/fs/cgroup/cpuset", "net_cls": "/sys/fs/cgroup/net_cls,net_prio",
				"net_prio": "/sys/fs/cgroup/net_cls,net_prio", "name=systemd": "/sys/fs/cgroup/systemd",
			},
		},
		{
			name: "first mount below /sys/fs/cgroup wins and escapes are undone",
			in: `30 20 0:32 / /run/memory rw - cgroup cgroup rw,memory
35 31 0:32 / /sys/fs/cgroup/mem\040ory rw - cgroup cgroup rw,memory
90 80 0:32 /docker/x /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
`,
			want: map[string]string{"memory": "/sys/fs/cgroup/mem ory"},
		},
		{
			name: "elsewhere when nothing is below /sys/fs/cgroup",
			in:   "30 20 0:32 / /cgroup/memory rw - cgroup cgroup rw,memory\n",
			want: map[string]string{"memory": "/cgroup/memory"},
		},
		{
			name: "v2 only",
			in:   "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n",
			want: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseMountinfo(tt.in); !maps.Equal(got, tt.want) {
				t.Errorf("parseMountinfo() = %v, want %v", got, tt.want)
			}
		})
	}
}
