package cgroups

import "strings"

// v1Known lists the cgroup v1 controllers; other words in a cgroup mount's
// super options ("rw", "clone_children", "release_agent=...") are flags.
var v1Known = map[string]bool{
	"blkio": true, "cpu": true, "cpuacct": true, "cpuset": true, "devices": true,
	"freezer": true, "hugetlb": true, "memory": true, "misc": true, "net_cls": true,
	"net_prio": true, "perf_event": true, "pids": true, "rdma": true,
}

// parseMountinfo returns the mount point of every cgroup v1 hierarchy listed
// in a /proc/self/mountinfo text, keyed by controller ("cpu", "memory",
// "name=systemd"). Co-mounted controllers ("cpu,cpuacct") share one mount
// point. If a hierarchy is mounted twice, the first mount below
// /sys/fs/cgroup wins, else the first one.
func parseMountinfo(data string) map[string]string {
	out := make(map[string]string, 12)
	for data != "" {
		var line string
		line, data, _ = strings.Cut(data, "\n")
		// Fields before " - " are: id parent major:minor root mountpoint
		// options [optional...]; after it: fstype source super-options.
		pre, post, ok := strings.Cut(line, " - ")
		if !ok || !strings.HasPrefix(post, "cgroup ") {
			continue
		}
		fields := strings.Fields(pre)
		post = strings.TrimPrefix(post, "cgroup ")
		_, opts, _ := strings.Cut(post, " ")
		if len(fields) < 5 {
			continue
		}
		mnt := unescapeMount(fields[4])
		for _, opt := range strings.Split(opts, ",") {
			if !v1Known[opt] && !strings.HasPrefix(opt, "name=") {
				continue
			}
			if old, dup := out[opt]; !dup || (!underCgroupRoot(old) && underCgroupRoot(mnt)) {
				out[opt] = mnt
			}
		}
	}
	return out
}

// unescapeMount undoes the octal escapes (\040 for a space...) the kernel
// uses for whitespace and backslashes in mountinfo paths.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func underCgroupRoot(p string) bool { return strings.HasPrefix(p, "/sys/fs/cgroup/") }
