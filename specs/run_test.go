package specs

import (
	"math"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestRunOptions applies each run option to DockerDefault and compares
// the result with DockerDefault edited by hand.
func TestRunOptions(t *testing.T) {
	fakeHost(t, testHost{})
	root := testRootfs(t)
	tests := []struct {
		name string
		opts []Opt
		want func(s *specs.Spec)
	}{
		{"hostname", []Opt{WithHostname("web-1")}, func(s *specs.Spec) {
			s.Hostname = "web-1"
			s.Process.Env[1] = "HOSTNAME=web-1"
		}},
		{"env", []Opt{WithEnv("A=1", "PATH=/bin", "HOSTNAME")}, func(s *specs.Spec) {
			s.Process.Env = []string{"PATH=/bin", "A=1"}
		}},
		{"user", []Opt{WithUser(root, "app:audio")}, func(s *specs.Spec) {
			s.Process.User = specs.User{UID: 1000, GID: 29, AdditionalGids: []uint32{29}}
			s.Process.Env = append(s.Process.Env, "HOME=/home/app")
		}},
		{"workdir", []Opt{WithWorkdir("/var//www/")}, func(s *specs.Spec) { s.Process.Cwd = "/var/www" }},
		{"memory", []Opt{WithMemoryLimit(512 << 20)}, func(s *specs.Spec) {
			s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr(int64(512 << 20)), Swap: ptr(int64(1 << 30))}
		}},
		{"memory then swap", []Opt{WithMemoryLimit(512 << 20), WithMemorySwap(-1)}, func(s *specs.Spec) {
			s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr(int64(512 << 20)), Swap: ptr(int64(-1))}
		}},
		{"memory removed", []Opt{WithMemoryLimit(512 << 20), WithMemoryLimit(0)}, func(s *specs.Spec) {
			s.Linux.Resources.Memory = &specs.LinuxMemory{}
		}},
		{"cpus", []Opt{WithCPUs(1.5)}, func(s *specs.Spec) {
			s.Linux.Resources.CPU = &specs.LinuxCPU{Quota: ptr(int64(150000)), Period: ptr(uint64(100000))}
		}},
		{"cpus smallest", []Opt{WithCPUs(0.01)}, func(s *specs.Spec) {
			s.Linux.Resources.CPU = &specs.LinuxCPU{Quota: ptr(int64(1000)), Period: ptr(uint64(100000))}
		}},
		{"cpus removed", []Opt{WithCPUs(2), WithCPUs(0)}, func(s *specs.Spec) {
			s.Linux.Resources.CPU = &specs.LinuxCPU{}
		}},
		{"pids", []Opt{WithPidsLimit(100)}, func(s *specs.Spec) {
			s.Linux.Resources.Pids = &specs.LinuxPids{Limit: ptr(int64(100))}
		}},
		{"pids unlimited", []Opt{WithPidsLimit(100), WithPidsLimit(-1)}, func(s *specs.Spec) {}},
		{"pids zero", []Opt{WithPidsLimit(0)}, func(s *specs.Spec) {}},
		{"read-only", []Opt{WithReadonlyRootfs()}, func(s *specs.Spec) { s.Root.Readonly = true }},
		{"sysctl", []Opt{WithSysctl(map[string]string{"net.core.somaxconn": "1024", "kernel.shmmax": "1", "fs.mqueue.msg_max": "20"})}, func(s *specs.Spec) {
			s.Linux.Sysctl["net.core.somaxconn"] = "1024"
			s.Linux.Sysctl["kernel.shmmax"] = "1"
			s.Linux.Sysctl["fs.mqueue.msg_max"] = "20"
		}},
		{"sysctl overrides a default", []Opt{WithSysctl(map[string]string{"net.ipv4.ip_unprivileged_port_start": "1024"})}, func(s *specs.Spec) {
			s.Linux.Sysctl["net.ipv4.ip_unprivileged_port_start"] = "1024"
		}},
		{"cgroups path", []Opt{WithCgroupsPath("/berth/abc")}, func(s *specs.Spec) { s.Linux.CgroupsPath = "/berth/abc" }},
		{"join a netns", []Opt{WithNamespacePath(specs.NetworkNamespace, "/run/berth/netns/abc")}, func(s *specs.Spec) {
			s.Linux.Namespaces[1].Path = "/run/berth/netns/abc"
		}},
		{"join a time namespace", []Opt{WithNamespacePath(specs.TimeNamespace, "/proc/1/ns/time")}, func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace, Path: "/proc/1/ns/time"})
		}},
		{"host network", []Opt{WithHostNetwork()}, func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: "pid"}, {Type: "ipc"}, {Type: "uts"}, {Type: "mount"}, {Type: "cgroup"}}
			s.Linux.Sysctl = map[string]string{}
		}},
		{"tty", []Opt{WithTTY(true)}, func(s *specs.Spec) {
			s.Process.Terminal = true
			s.Process.Env = append(s.Process.Env, "TERM=xterm")
		}},
		{"tty keeps TERM", []Opt{WithEnv("TERM=vt100"), WithTTY(true)}, func(s *specs.Spec) {
			s.Process.Terminal = true
			s.Process.Env = append(s.Process.Env, "TERM=vt100")
		}},
		{"no tty", []Opt{WithTTY(false)}, func(s *specs.Spec) {}},
		{"annotations", []Opt{WithAnnotations(map[string]string{"a": "1"}), WithAnnotations(map[string]string{"a": "2", "b": "3"})}, func(s *specs.Spec) {
			s.Annotations = map[string]string{"a": "2", "b": "3"}
		}},
		{"user namespace", []Opt{WithUserNamespace(
			[]specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
			[]specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 65536}})}, func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 65536}}
			delete(s.Linux.Sysctl, "net.ipv4.ping_group_range")
			delete(s.Linux.Sysctl, "net.ipv4.ip_unprivileged_port_start")
			s.Mounts[4].Options = []string{"nosuid", "noexec", "nodev"}
		}},
		{"no new privileges", []Opt{WithNoNewPrivileges()}, func(s *specs.Spec) { s.Process.NoNewPrivileges = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := apply(t, DockerDefault(), tt.opts...)
			want := DockerDefault()
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got\n%s\nwant\n%s", mustJSON(t, withoutSeccomp(got)), mustJSON(t, withoutSeccomp(want)))
			}
		})
	}
}

// withoutSeccomp shortens a spec for failure messages.
func withoutSeccomp(s *specs.Spec) *specs.Spec {
	c := *s
	l := *s.Linux
	l.Seccomp = nil
	c.Linux = &l
	return &c
}

func TestRunOptionErrors(t *testing.T) {
	fakeHost(t, testHost{})
	root := testRootfs(t)
	hostNet := func(o Opt) []Opt { return []Opt{WithHostNetwork(), o} }
	tests := []struct {
		name string
		opts []Opt
		want string
	}{
		{"empty hostname", []Opt{WithHostname("")}, `hostname ""`},
		{"longest hostname", []Opt{WithHostname(strings.Repeat("h", 64)), WithHostname("")}, `hostname ""`},
		{"long hostname", []Opt{WithHostname(strings.Repeat("h", 65))}, "want 1 to 64 characters"},
		{"hostname with slash", []Opt{WithHostname("a/b")}, `hostname "a/b"`},
		{"env without key", []Opt{WithEnv("=x")}, `environment variable "=x"`},
		{"env empty", []Opt{WithEnv("")}, `environment variable ""`},
		{"unknown user", []Opt{WithUser(root, "ghost")}, `user "ghost"`},
		{"relative workdir", []Opt{WithWorkdir("srv")}, `working directory "srv": not an absolute path`},
		{"tiny memory", []Opt{WithMemoryLimit(1 << 20)}, "memory limit 1048576: the minimum is 6MB"},
		{"negative memory", []Opt{WithMemoryLimit(-5)}, "memory limit -5"},
		{"swap below memory", []Opt{WithMemoryLimit(64 << 20), WithMemorySwap(32 << 20)}, "memory+swap limit 33554432"},
		{"swap zero", []Opt{WithMemorySwap(0)}, "memory+swap limit 0"},
		{"tiny cpus", []Opt{WithCPUs(0.001)}, "cpus 0.001: want a number from 0.01 up"},
		{"negative cpus", []Opt{WithCPUs(-1)}, "cpus -1"},
		{"NaN cpus", []Opt{WithCPUs(math.NaN())}, "cpus NaN"},
		{"infinite cpus", []Opt{WithCPUs(math.Inf(1))}, "cpus +Inf"},
		{"pids", []Opt{WithPidsLimit(-2)}, "pids limit -2"},
		{"host sysctl", []Opt{WithSysctl(map[string]string{"kernel.panic": "1"})}, `sysctl "kernel.panic": not namespaced`},
		{"vm sysctl", []Opt{WithSysctl(map[string]string{"vm.swappiness": "1"})}, `sysctl "vm.swappiness"`},
		{"net sysctl on host network", hostNet(WithSysctl(map[string]string{"net.ipv4.ip_forward": "1"})), `sysctl "net.ipv4.ip_forward": the container shares the host's network namespace`},
		{"namespace type", []Opt{WithNamespacePath("net", "/x")}, `namespace type "net"`},
		{"namespace path", []Opt{WithNamespacePath(specs.NetworkNamespace, "x")}, `namespace path "x"`},
		{"annotation key", []Opt{WithAnnotations(map[string]string{"": "x"})}, "annotation with an empty key"},
		{"userns without gid map", []Opt{WithUserNamespace([]specs.LinuxIDMapping{{HostID: 1, Size: 1}}, nil)}, "both uid and gid mappings"},
		{"userns empty range", []Opt{WithUserNamespace([]specs.LinuxIDMapping{{HostID: 1}}, []specs.LinuxIDMapping{{HostID: 1, Size: 1}})}, "id mapping 0:1:0"},
		{"userns overflow", []Opt{WithUserNamespace([]specs.LinuxIDMapping{{HostID: math.MaxUint32, Size: 2}}, []specs.LinuxIDMapping{{HostID: 1, Size: 1}})}, "id mapping 0:4294967295:2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DockerDefault()
			var err error
			for _, o := range tt.opts {
				if err = o(s); err != nil {
					break
				}
			}
			wantInvalid(t, tt.name, err, tt.want)
		})
	}
}

// TestOptionsOnEmptySpec makes sure every option copes with a spec that
// has no process, root or linux section.
func TestOptionsOnEmptySpec(t *testing.T) {
	fakeHost(t, testHost{devices: []specs.LinuxDevice{}})
	root := testRootfs(t)
	for name, o := range map[string]Opt{
		"hostname": WithHostname("h"), "env": WithEnv("A=1"), "user": WithUser(root, "app"),
		"workdir": WithWorkdir("/w"), "memory": WithMemoryLimit(MinMemory), "swap": WithMemorySwap(-1),
		"cpus": WithCPUs(1), "cpus off": WithCPUs(0), "pids": WithPidsLimit(1), "read-only": WithReadonlyRootfs(),
		"cgroups": WithCgroupsPath("/x"), "netns": WithNamespacePath(specs.NetworkNamespace, "/x"),
		"host network": WithHostNetwork(), "tty": WithTTY(true), "annotations": WithAnnotations(map[string]string{"a": "b"}),
		"userns":     WithUserNamespace([]specs.LinuxIDMapping{{Size: 1}}, []specs.LinuxIDMapping{{Size: 1}}),
		"cap add":    WithCapAdd("KILL"),
		"cap drop":   WithCapDrop("ALL"),
		"privileged": WithPrivileged(),
		"seccomp":    WithDefaultSeccomp(),
		"defaults":   WithDockerDefaults(),
		"mounts":     WithMounts(specs.Mount{Destination: "/m", Type: "tmpfs", Source: "tmpfs"}),
		"tmpfs":      WithTmpfs("/t"),
		"entrypoint": WithEntrypoint("e"),
		"cmd":        WithCmd("c"),
	} {
		if err := o(&specs.Spec{}); err != nil {
			t.Errorf("%s on an empty spec: %v", name, err)
		}
	}
}
