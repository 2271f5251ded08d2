package specs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// decide says what a resolved filter does with a call, the way the kernel
// and libseccomp do for these profiles: a rule applies when all its
// argument conditions hold; an errno rule wins over an allow rule; with no
// rule the default action applies. It returns "allow" or the errno.
func decide(sc *specs.LinuxSeccomp, name string, args ...uint64) any {
	var allowed bool
	for _, r := range sc.Syscalls {
		if !slices.Contains(r.Names, name) || !argsMatch(r.Args, args) {
			continue
		}
		switch r.Action {
		case specs.ActErrno:
			return unix.Errno(*r.ErrnoRet)
		case specs.ActAllow:
			allowed = true
		}
	}
	if allowed {
		return "allow"
	}
	if sc.DefaultAction == specs.ActAllow {
		return "allow"
	}
	return unix.Errno(*sc.DefaultErrnoRet)
}

func argsMatch(conds []specs.LinuxSeccompArg, args []uint64) bool {
	for _, c := range conds {
		var v uint64
		if int(c.Index) < len(args) {
			v = args[c.Index]
		}
		ok := false
		switch c.Op {
		case specs.OpEqualTo:
			ok = v == c.Value
		case specs.OpNotEqual:
			ok = v != c.Value
		case specs.OpLessThan:
			ok = v < c.Value
		case specs.OpLessEqual:
			ok = v <= c.Value
		case specs.OpGreaterThan:
			ok = v > c.Value
		case specs.OpGreaterEqual:
			ok = v >= c.Value
		case specs.OpMaskedEqual:
			ok = v&c.Value == c.ValueTwo
		}
		if !ok {
			return false
		}
	}
	return true
}

func TestDefaultSeccompDecisions(t *testing.T) {
	const allow = "allow"
	eperm, enosys := unix.EPERM, unix.ENOSYS
	docker := DockerCapabilities()
	with := func(c ...string) []string { return append(DockerCapabilities(), c...) }
	newKernel, oldKernel := seccompHost{"amd64", kernelVersion{6, 1}}, seccompHost{"amd64", kernelVersion{4, 4}}
	arm64 := seccompHost{"arm64", kernelVersion{6, 1}}
	s390x := seccompHost{"s390x", kernelVersion{6, 1}}
	forkFlags := uint64(unix.SIGCHLD)
	threadFlags := uint64(unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD)

	tests := []struct {
		name    string
		caps    []string
		host    seccompHost
		syscall string
		args    []uint64
		want    any
	}{
		// What every program needs.
		{"read", docker, newKernel, "read", nil, allow},
		{"write", docker, newKernel, "write", nil, allow},
		{"openat", docker, newKernel, "openat", nil, allow},
		{"execve", docker, newKernel, "execve", nil, allow},
		{"mmap", docker, newKernel, "mmap", nil, allow},
		{"futex", docker, newKernel, "futex", nil, allow},
		{"exit_group", docker, newKernel, "exit_group", nil, allow},
		{"pipe2", docker, newKernel, "pipe2", nil, allow},
		{"getrandom", docker, newKernel, "getrandom", nil, allow},
		{"rt_sigreturn", docker, newKernel, "rt_sigreturn", nil, allow},
		{"clone for fork", docker, newKernel, "clone", []uint64{forkFlags}, allow},
		{"clone for a thread", docker, newKernel, "clone", []uint64{threadFlags}, allow},
		{"socket AF_INET", docker, newKernel, "socket", []uint64{unix.AF_INET}, allow},
		{"socket AF_UNIX", docker, newKernel, "socket", []uint64{unix.AF_UNIX}, allow},
		{"socket AF_NETLINK", docker, newKernel, "socket", []uint64{unix.AF_NETLINK}, allow},
		{"socket AF_NFC", docker, newKernel, "socket", []uint64{unix.AF_NFC}, allow},
		{"socket AF_XDP", docker, newKernel, "socket", []uint64{unix.AF_XDP}, allow},
		{"personality PER_LINUX", docker, newKernel, "personality", []uint64{0}, allow},
		{"personality linux32", docker, newKernel, "personality", []uint64{8}, allow},
		{"personality query", docker, newKernel, "personality", []uint64{0xffffffff}, allow},
		{"chroot with CAP_SYS_CHROOT", docker, newKernel, "chroot", nil, allow},
		{"arch_prctl on amd64", docker, newKernel, "arch_prctl", nil, allow},
		{"set_tls on arm64", docker, arm64, "set_tls", nil, allow},
		{"ptrace on kernel 4.8+", docker, newKernel, "ptrace", nil, allow},

		// What would reach outside the container.
		{"kexec_load", docker, newKernel, "kexec_load", nil, eperm},
		{"kexec_load with every cap", capNames[:], newKernel, "kexec_load", nil, eperm},
		{"init_module", docker, newKernel, "init_module", nil, eperm},
		{"finit_module", docker, newKernel, "finit_module", nil, eperm},
		{"reboot", docker, newKernel, "reboot", nil, eperm},
		{"bpf", docker, newKernel, "bpf", nil, eperm},
		{"perf_event_open", docker, newKernel, "perf_event_open", nil, eperm},
		{"mount", docker, newKernel, "mount", nil, eperm},
		{"umount2", docker, newKernel, "umount2", nil, eperm},
		{"fsopen", docker, newKernel, "fsopen", nil, eperm},
		{"unshare", docker, newKernel, "unshare", nil, eperm},
		{"setns", docker, newKernel, "setns", nil, eperm},
		{"keyctl", docker, newKernel, "keyctl", nil, eperm},
		{"add_key", docker, newKernel, "add_key", nil, eperm},
		{"userfaultfd", docker, newKernel, "userfaultfd", nil, eperm},
		{"io_uring_setup", docker, newKernel, "io_uring_setup", nil, eperm},
		{"settimeofday", docker, newKernel, "settimeofday", nil, eperm},
		{"swapon", docker, newKernel, "swapon", nil, eperm},
		{"iopl", docker, newKernel, "iopl", nil, eperm},
		{"open_by_handle_at", docker, newKernel, "open_by_handle_at", nil, eperm},
		{"acct", docker, newKernel, "acct", nil, eperm},
		{"syslog", docker, newKernel, "syslog", nil, eperm},
		{"kcmp", docker, newKernel, "kcmp", nil, eperm},
		{"ptrace before 4.8", docker, oldKernel, "ptrace", nil, eperm},
		{"process_vm_readv before 4.8", docker, oldKernel, "process_vm_readv", nil, eperm},
		{"chroot without CAP_SYS_CHROOT", []string{"CAP_KILL"}, newKernel, "chroot", nil, eperm},
		{"clone CLONE_NEWUSER", docker, newKernel, "clone", []uint64{unix.CLONE_NEWUSER | forkFlags}, eperm},
		{"clone CLONE_NEWNS", docker, newKernel, "clone", []uint64{unix.CLONE_NEWNS}, eperm},
		{"clone CLONE_NEWNET", docker, newKernel, "clone", []uint64{unix.CLONE_NEWNET}, eperm},
		{"clone3 makes glibc fall back", docker, newKernel, "clone3", nil, enosys},
		{"socket AF_ALG", docker, newKernel, "socket", []uint64{unix.AF_ALG}, eperm},
		{"socket AF_VSOCK", docker, newKernel, "socket", []uint64{unix.AF_VSOCK}, eperm},
		{"personality ADDR_NO_RANDOMIZE", docker, newKernel, "personality", []uint64{0x0040000}, eperm},
		{"arch_prctl on arm64", docker, arm64, "arch_prctl", nil, eperm},
		{"set_tls on amd64", docker, newKernel, "set_tls", nil, eperm},

		// What added capabilities give.
		{"mount with CAP_SYS_ADMIN", with("CAP_SYS_ADMIN"), newKernel, "mount", nil, allow},
		{"unshare with CAP_SYS_ADMIN", with("CAP_SYS_ADMIN"), newKernel, "unshare", nil, allow},
		{"clone CLONE_NEWUSER with CAP_SYS_ADMIN", with("CAP_SYS_ADMIN"), newKernel, "clone", []uint64{unix.CLONE_NEWUSER}, allow},
		{"clone3 with CAP_SYS_ADMIN", with("CAP_SYS_ADMIN"), newKernel, "clone3", nil, allow},
		{"ptrace with CAP_SYS_PTRACE before 4.8", with("CAP_SYS_PTRACE"), oldKernel, "ptrace", nil, allow},
		{"kcmp with CAP_SYS_PTRACE", with("CAP_SYS_PTRACE"), newKernel, "kcmp", nil, allow},
		{"reboot with CAP_SYS_BOOT", with("CAP_SYS_BOOT"), newKernel, "reboot", nil, allow},
		{"init_module with CAP_SYS_MODULE", with("CAP_SYS_MODULE"), newKernel, "init_module", nil, allow},
		{"mbind with CAP_SYS_NICE", with("CAP_SYS_NICE"), newKernel, "mbind", nil, allow},
		{"iopl with CAP_SYS_RAWIO", with("CAP_SYS_RAWIO"), newKernel, "iopl", nil, allow},
		{"settimeofday with CAP_SYS_TIME", with("CAP_SYS_TIME"), newKernel, "settimeofday", nil, allow},
		{"acct with CAP_SYS_PACCT", with("CAP_SYS_PACCT"), newKernel, "acct", nil, allow},
		{"syslog with CAP_SYSLOG", with("CAP_SYSLOG"), newKernel, "syslog", nil, allow},
		{"bpf with CAP_BPF", with("CAP_BPF"), newKernel, "bpf", nil, allow},
		{"perf_event_open with CAP_PERFMON", with("CAP_PERFMON"), newKernel, "perf_event_open", nil, allow},
		{"open_by_handle_at with CAP_DAC_READ_SEARCH", with("CAP_DAC_READ_SEARCH"), newKernel, "open_by_handle_at", nil, allow},
		{"vhangup with CAP_SYS_TTY_CONFIG", with("CAP_SYS_TTY_CONFIG"), newKernel, "vhangup", nil, allow},
		{"CAP_SYS_ADMIN does not give kexec_load", with("CAP_SYS_ADMIN"), newKernel, "kexec_load", nil, eperm},
		{"CAP_SYS_ADMIN does not give AF_VSOCK", with("CAP_SYS_ADMIN"), newKernel, "socket", []uint64{unix.AF_VSOCK}, eperm},

		// s390 passes clone's flags second.
		{"s390x clone for fork", docker, s390x, "clone", []uint64{0, forkFlags}, allow},
		{"s390x clone CLONE_NEWUSER", docker, s390x, "clone", []uint64{0, unix.CLONE_NEWUSER}, eperm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := DefaultSeccompProfile().resolve(tt.caps, tt.host)
			if got := decide(sc, tt.syscall, tt.args...); got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.syscall, tt.args, got, tt.want)
			}
		})
	}
}

func TestDefaultSeccompArchitectures(t *testing.T) {
	tests := []struct {
		arch string
		want []specs.Arch
	}{
		{"amd64", []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}},
		{"arm64", []specs.Arch{specs.ArchAARCH64, specs.ArchARM}},
		{"s390x", []specs.Arch{specs.ArchS390X, specs.ArchS390}},
		{"riscv64", []specs.Arch{specs.ArchRISCV64}},
		{"ppc64le", nil}, // not in the map: only the native architecture
	}
	for _, tt := range tests {
		sc := DefaultSeccompProfile().resolve(DockerCapabilities(), seccompHost{tt.arch, kernelVersion{6, 1}})
		if !reflect.DeepEqual(sc.Architectures, tt.want) {
			t.Errorf("architectures on %s = %v, want %v", tt.arch, sc.Architectures, tt.want)
		}
		if sc.DefaultAction != specs.ActErrno || sc.DefaultErrnoRet == nil || *sc.DefaultErrnoRet != uint(unix.EPERM) {
			t.Errorf("default action on %s = %s/%v, want SCMP_ACT_ERRNO/EPERM", tt.arch, sc.DefaultAction, sc.DefaultErrnoRet)
		}
	}
}

// TestDefaultSeccompStructure checks the data table itself: every rule is
// well formed (as a loaded profile would be checked), names are real
// identifiers, a name appears once in the allow list, and nothing the
// profile gates behind a capability or an architecture is also allowed
// unconditionally. Whether libseccomp compiles the result is checked by
// the runtime's seccomp tests (see the lead's cross-check).
func TestDefaultSeccompStructure(t *testing.T) {
	p := DefaultSeccompProfile()
	if err := p.check(); err != nil {
		t.Fatalf("default profile fails its own check: %v", err)
	}
	seen := map[string]bool{}
	for _, group := range seccompAllowed {
		for _, n := range group {
			if seen[n] {
				t.Errorf("%q is listed twice in seccompAllowed", n)
			}
			seen[n] = true
		}
	}
	for _, r := range p.Syscalls {
		for _, n := range r.Names {
			if n == "" || strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
				t.Errorf("bad syscall name %q", n)
			}
			if r.Includes != nil && seen[n] {
				t.Errorf("%q is allowed unconditionally and also under %+v", n, *r.Includes)
			}
		}
		if r.Action == specs.ActErrno && r.ErrnoRet == nil {
			t.Errorf("errno rule for %v has no errnoRet", r.Names)
		}
	}
	for _, c := range p.Syscalls {
		if c.Includes == nil {
			continue
		}
		for _, capName := range c.Includes.Caps {
			if !slices.Contains(capNames[:], capName) {
				t.Errorf("rule for %v needs unknown capability %q", c.Names, capName)
			}
		}
	}
	if len(seen) < 350 {
		t.Errorf("allow list has %d calls, want Docker's 360-odd", len(seen))
	}
}

// TestDefaultSeccompJSON checks that the default profile survives being
// written as a Docker-format profile and read back, so users can start
// their own profiles from it.
func TestDefaultSeccompJSON(t *testing.T) {
	data, err := json.Marshal(DefaultSeccompProfile())
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseSeccompProfile(data)
	if err != nil {
		t.Fatalf("ParseSeccompProfile(default) error = %v", err)
	}
	if !reflect.DeepEqual(p, DefaultSeccompProfile()) {
		t.Error("default profile changed in a JSON round trip")
	}
}

func TestParseSeccompProfile(t *testing.T) {
	tests := []struct {
		name, json string
		err        string // "" for success
	}{
		{"minimal", `{"defaultAction":"SCMP_ACT_ALLOW"}`, ""},
		{"old format", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],
			"syscalls":[{"name":"read","action":"SCMP_ACT_ALLOW","args":[]}]}`, ""},
		{"conditions", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["ptrace"],"action":"SCMP_ACT_ALLOW",
			"includes":{"minKernel":"4.8","caps":["CAP_SYS_PTRACE"],"arches":["amd64"]},"excludes":{"arches":["s390"]}}]}`, ""},
		{"empty profile", `{}`, ""},
		{"not json", `{"defaultAction":`, "seccomp profile"},
		{"unknown default action", `{"defaultAction":"SCMP_ACT_NOPE"}`, `unknown defaultAction "SCMP_ACT_NOPE"`},
		{"both arch forms", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86"],
			"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":[]}]}`, "both architectures and archMap"},
		{"both name forms", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"read","names":["write"],"action":"SCMP_ACT_ALLOW"}]}`, "syscalls[0]: both name and names"},
		{"unknown action", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"ALLOW"}]}`, `syscalls[0]: unknown action "ALLOW"`},
		{"unknown operator", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW",
			"args":[{"index":0,"value":1,"op":"EQ"}]}]}`, `unknown operator "EQ"`},
		{"argument index", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW",
			"args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}`, "argument index 6"},
		{"bad minKernel", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW",
			"includes":{"minKernel":"four"}}]}`, `minKernel: kernel version "four"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSeccompProfile([]byte(tt.json))
			if tt.err == "" {
				if err != nil {
					t.Errorf("ParseSeccompProfile() error = %v", err)
				}
				return
			}
			wantInvalid(t, "ParseSeccompProfile()", err, tt.err)
		})
	}
}

func TestSeccompResolve(t *testing.T) {
	errno := uint(13)
	p := &SeccompProfile{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64},
		Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
		Syscalls: []SeccompRule{
			{Name: "old", Action: specs.ActAllow},
			{Names: []string{"plain"}, Action: specs.ActAllow},
			{Names: []string{"needs-admin"}, Action: specs.ActAllow, Includes: &SeccompFilter{Caps: []string{"CAP_SYS_ADMIN"}}},
			{Names: []string{"needs-two"}, Action: specs.ActAllow, Includes: &SeccompFilter{Caps: []string{"CAP_SYS_ADMIN", "CAP_BPF"}}},
			{Names: []string{"not-admin"}, Action: specs.ActErrno, ErrnoRet: &errno, Excludes: &SeccompFilter{Caps: []string{"CAP_SYS_ADMIN"}}},
			{Names: []string{"arm-only"}, Action: specs.ActAllow, Includes: &SeccompFilter{Arches: []string{"arm", "arm64"}}},
			{Names: []string{"not-arm"}, Action: specs.ActAllow, Excludes: &SeccompFilter{Arches: []string{"arm64"}}},
			{Names: []string{"new-kernel"}, Action: specs.ActAllow, Includes: &SeccompFilter{MinKernel: "5.10"}},
			{Names: []string{"old-kernel"}, Action: specs.ActAllow, Excludes: &SeccompFilter{MinKernel: "5.10"}},
			{Action: specs.ActAllow}, // no names: dropped
		},
	}
	tests := []struct {
		name string
		caps []string
		host seccompHost
		want []string
	}{
		{"nothing special", nil, seccompHost{"amd64", kernelVersion{5, 4}}, []string{"old", "plain", "not-admin", "not-arm", "old-kernel"}},
		{"admin", []string{"CAP_SYS_ADMIN"}, seccompHost{"amd64", kernelVersion{5, 4}}, []string{"old", "plain", "needs-admin", "not-arm", "old-kernel"}},
		{"admin and bpf", []string{"CAP_BPF", "CAP_SYS_ADMIN"}, seccompHost{"amd64", kernelVersion{5, 4}}, []string{"old", "plain", "needs-admin", "needs-two", "not-arm", "old-kernel"}},
		{"arm64", nil, seccompHost{"arm64", kernelVersion{5, 4}}, []string{"old", "plain", "not-admin", "arm-only", "old-kernel"}},
		{"kernel 5.10", nil, seccompHost{"amd64", kernelVersion{5, 10}}, []string{"old", "plain", "not-admin", "not-arm", "new-kernel"}},
		{"kernel 6.0", nil, seccompHost{"amd64", kernelVersion{6, 0}}, []string{"old", "plain", "not-admin", "not-arm", "new-kernel"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := p.resolve(tt.caps, tt.host)
			var got []string
			for _, r := range sc.Syscalls {
				got = append(got, r.Names...)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("resolved calls = %v, want %v", got, tt.want)
			}
			if sc.DefaultAction != specs.ActErrno || !reflect.DeepEqual(sc.Architectures, p.Architectures) || !reflect.DeepEqual(sc.Flags, p.Flags) {
				t.Errorf("resolve lost top-level fields: %+v", sc)
			}
		})
	}
	if sc := (&SeccompProfile{}).resolve(nil, seccompHost{}); sc != nil {
		t.Errorf("an empty profile resolved to %+v, want nil (no filter, as in Docker)", sc)
	}
}

func TestParseKernelVersion(t *testing.T) {
	tests := []struct {
		in   string
		want kernelVersion
		ok   bool
	}{
		{"4.8", kernelVersion{4, 8}, true},
		{"6.18.44-fc-v1300", kernelVersion{6, 18}, true},
		{"3.12-1-amd64", kernelVersion{3, 12}, true},
		{"5.10-rc5", kernelVersion{5, 10}, true},
		{"5", kernelVersion{}, false},
		{"0.0", kernelVersion{}, false},
		{"a.b", kernelVersion{}, false},
		{"", kernelVersion{}, false},
	}
	for _, tt := range tests {
		got, err := parseKernelVersion(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseKernelVersion(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestSeccompOptions(t *testing.T) {
	fakeHost(t, testHost{})
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.json")
	writeFiles(t, dir, map[string]string{"profile.json": `{
		"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [
			{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
			{"names": ["mount"], "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_SYS_ADMIN"]}}
		]}`,
		"bad.json": `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "nope"}]}`,
	})
	names := func(s *specs.Spec) (out []string) {
		for _, r := range s.Linux.Seccomp.Syscalls {
			out = append(out, r.Names...)
		}
		return out
	}

	s := apply(t, DockerDefault(), WithSeccompProfile(profile))
	if got := names(s); !reflect.DeepEqual(got, []string{"mkdir", "mount"}) || s.Linux.Seccomp.DefaultAction != specs.ActAllow {
		t.Errorf("WithSeccompProfile: calls %v, default %s; want [mkdir mount], SCMP_ACT_ALLOW", got, s.Linux.Seccomp.DefaultAction)
	}
	s = apply(t, DockerDefault(), WithCapAdd("SYS_ADMIN"), WithSeccompProfile(profile))
	if got := names(s); !reflect.DeepEqual(got, []string{"mkdir"}) {
		t.Errorf("WithSeccompProfile after CAP_SYS_ADMIN: calls %v, want [mkdir]", got)
	}
	// A custom profile is not rebuilt by later capability changes.
	s = apply(t, DockerDefault(), WithSeccompProfile(profile), WithCapAdd("SYS_ADMIN"))
	if got := names(s); !reflect.DeepEqual(got, []string{"mkdir", "mount"}) {
		t.Errorf("capabilities after WithSeccompProfile changed the profile: %v", got)
	}

	s = apply(t, DockerDefault(), WithSeccompUnconfined())
	if s.Linux.Seccomp != nil {
		t.Error("WithSeccompUnconfined left a filter")
	}
	s = apply(t, s, WithDefaultSeccomp())
	if !reflect.DeepEqual(s.Linux.Seccomp, DockerDefault().Linux.Seccomp) {
		t.Error("WithDefaultSeccomp did not restore the default filter")
	}
	if err := WithSeccompUnconfined()(&specs.Spec{}); err != nil {
		t.Errorf("WithSeccompUnconfined on an empty spec: %v", err)
	}

	_, err := New(WithSeccompProfile(filepath.Join(dir, "missing.json")))
	if !os.IsNotExist(err) && !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing profile error = %v, want a not-exist error", err)
	}
	_, err = New(WithSeccompProfile(filepath.Join(dir, "bad.json")))
	wantInvalid(t, "bad profile", err, `unknown action "nope"`)
	if err != nil && !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("bad profile error %q does not name the file", err)
	}
}

// TestCapabilitiesKeepDefaultSeccomp checks that the default filter
// follows capability changes in any order, so --cap-add SYS_ADMIN also
// allows mount(2), as in Docker.
func TestCapabilitiesKeepDefaultSeccomp(t *testing.T) {
	fakeHost(t, testHost{})
	tests := []struct {
		name      string
		opts      []Opt
		mountWant any
	}{
		{"default", nil, unix.EPERM},
		{"add SYS_ADMIN", []Opt{WithCapAdd("sys_admin")}, "allow"},
		{"add then drop", []Opt{WithCapAdd("SYS_ADMIN"), WithCapDrop("SYS_ADMIN")}, unix.EPERM},
		{"add ALL", []Opt{WithCapAdd("ALL")}, "allow"},
		{"drop ALL add SYS_ADMIN", []Opt{WithCapabilities([]string{"CAP_SYS_ADMIN"}, []string{"ALL"})}, "allow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := apply(t, DockerDefault(), tt.opts...)
			if want := defaultSeccomp(s.Process.Capabilities.Bounding); !reflect.DeepEqual(s.Linux.Seccomp, want) {
				t.Error("seccomp filter was not rebuilt for the new capabilities")
			}
			if got := decide(s.Linux.Seccomp, "mount"); got != tt.mountWant {
				t.Errorf("mount = %v, want %v", got, tt.mountWant)
			}
		})
	}
}

// TestLinuxABIConstants checks the values spelled out in
// seccomp_default.go against x/sys/unix.
func TestLinuxABIConstants(t *testing.T) {
	for _, c := range []struct {
		name      string
		ours, abi uint64
	}{
		{"CLONE_NEWNS", cloneNewNS, unix.CLONE_NEWNS},
		{"CLONE_NEWCGROUP", cloneNewCgroup, unix.CLONE_NEWCGROUP},
		{"CLONE_NEWUTS", cloneNewUTS, unix.CLONE_NEWUTS},
		{"CLONE_NEWIPC", cloneNewIPC, unix.CLONE_NEWIPC},
		{"CLONE_NEWUSER", cloneNewUser, unix.CLONE_NEWUSER},
		{"CLONE_NEWPID", cloneNewPID, unix.CLONE_NEWPID},
		{"CLONE_NEWNET", cloneNewNet, unix.CLONE_NEWNET},
		{"AF_ALG", afALG, unix.AF_ALG},
		{"AF_NFC", afNFC, unix.AF_NFC},
		{"AF_VSOCK", afVSOCK, unix.AF_VSOCK},
	} {
		if c.ours != c.abi {
			t.Errorf("%s = %#x, want %#x", c.name, c.ours, c.abi)
		}
	}
}
