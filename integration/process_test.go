package integration

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestProcess(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	tests := []struct {
		name string
		args []string
		edit func(*specs.Spec)
		want string
	}{
		{
			name: "args verbatim",
			args: []string{"sh", "-c", `printf '%s|' "$@"`, "sh", "x  y", "*", "", "$HOME"},
			want: "x  y|*||$HOME|",
		},
		{
			name: "cwd",
			args: []string{"pwd"},
			edit: func(s *specs.Spec) { s.Process.Cwd = "/tmp" },
			want: "/tmp\n",
		},
		{
			name: "user and group",
			args: []string{"sh", "-c", "id -u; id -g; id -un"},
			edit: func(s *specs.Spec) { s.Process.User = specs.User{UID: 1000, GID: 1000} },
			want: "1000\n1000\nuser\n",
		},
		{
			name: "umask",
			args: []string{"sh", "-c", "umask; touch /tmp/f; stat -c %a /tmp/f"},
			edit: func(s *specs.Spec) {
				umask := uint32(0o027)
				s.Process.User.Umask = &umask
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
			},
			want: "0027\n640\n",
		},
		{
			name: "rlimits",
			args: []string{"sh", "-c", "ulimit -n; ulimit -Hn; grep 'Max core file size' /proc/self/limits"},
			edit: func(s *specs.Spec) {
				// Below the host's hard limits: raising them needs
				// CAP_SYS_RESOURCE, which this machine's root lacks.
				s.Process.Rlimits = []specs.POSIXRlimit{
					{Type: "RLIMIT_NOFILE", Soft: 512, Hard: 1000},
					{Type: "RLIMIT_CORE", Soft: 1024, Hard: 2048},
				}
			},
			want: "512\n1000\nMax core file size        1024                 2048                 bytes     \n",
		},
		{
			name: "noNewPrivileges true",
			args: []string{"grep", "NoNewPrivs", "/proc/self/status"},
			edit: func(s *specs.Spec) { s.Process.NoNewPrivileges = true },
			want: "NoNewPrivs:\t1\n",
		},
		{
			name: "noNewPrivileges false",
			args: []string{"grep", "NoNewPrivs", "/proc/self/status"},
			edit: func(s *specs.Spec) { s.Process.NoNewPrivileges = false },
			want: "NoNewPrivs:\t0\n",
		},
		{
			name: "oomScoreAdj",
			args: []string{"cat", "/proc/self/oom_score_adj"},
			edit: func(s *specs.Spec) {
				adj := 500
				s.Process.OOMScoreAdj = &adj
			},
			want: "500\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, tt.args...)
			if tt.edit != nil {
				b.edit(t, tt.edit)
			}
			if got := runOK(t, b); got != tt.want {
				t.Errorf("run %q: %q, want %q", tt.args, got, tt.want)
			}
		})
	}

	t.Run("env", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "env")
		env := []string{"PATH=/bin:/sbin", "FOO=bar", "EMPTY=", "WITH_EQUALS=a=b", "SPACES=a  b"}
		b.edit(t, func(s *specs.Spec) { s.Process.Env = env })
		lines := strings.Split(runOK(t, b), "\n")
		for _, kv := range env {
			if !slices.Contains(lines, kv) {
				t.Errorf("env = %q, want it to contain %q", lines, kv)
			}
		}
	})

	t.Run("additionalGids", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "id", "-G")
		b.edit(t, func(s *specs.Spec) {
			s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 65534}}
		})
		got := strings.Fields(runOK(t, b))
		slices.Sort(got)
		if want := []string{"10", "1000", "65534"}; !slices.Equal(got, want) {
			t.Errorf("id -G = %q, want %q", got, want)
		}
	})

	t.Run("terminal", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "sh", "-c", "tty; read line; echo got:$line; exit 5")
		b.edit(t, func(s *specs.Spec) { s.Process.Terminal = true })
		cs := newConsoleSocket(t)
		c := create(t, t.TempDir(), b, "--console-socket", cs.path)
		master := cs.recv(t)
		c.start(t)
		out := readUntil(t, master, "\n")
		if !regexp.MustCompile(`^/dev/pts/[0-9]+\r?\n`).MatchString(out) {
			t.Errorf("tty printed %q, want /dev/pts/N", out)
		}
		if _, err := master.Write([]byte("typed\n")); err != nil {
			t.Fatal(err)
		}
		readUntil(t, master, "got:typed")
		c.waitStatus(t, "stopped")
		if out := c.output(t); out != "" {
			t.Errorf("create's stdio got %q, want nothing: output goes to the pty", out)
		}
	})
}

// capBits maps capability names to their bit numbers (linux/capability.h).
var capBits = map[string]uint{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
	"CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
	"CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
	"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
	"CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
	"CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
	"CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
	"CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
	"CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
	"CAP_CHECKPOINT_RESTORE": 40,
}

func capMask(t *testing.T, names []string) uint64 {
	t.Helper()
	var m uint64
	for _, n := range names {
		bit, ok := capBits[n]
		if !ok {
			t.Fatalf("unknown capability %q", n)
		}
		m |= 1 << bit
	}
	return m
}

// TestCapabilities compares the five capability sets the container's
// process reports in /proc/self/status with the config. What survives the
// final execve follows the kernel's rules (capabilities(7)): for uid 0
// without file capabilities the new permitted and effective sets are
// bounding|inheritable|ambient, cut down to the old permitted set when
// noNewPrivileges is on; for another uid only the ambient set survives into
// permitted and effective. The expectations are written in those terms.
func TestCapabilities(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	bounding := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID", "CAP_AUDIT_WRITE", "CAP_NET_RAW"}
	permitted := []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID"}
	inheritable := []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"}
	ambient := []string{"CAP_NET_BIND_SERVICE"}
	tests := []struct {
		name string
		uid  uint32
		nnp  bool
		caps specs.LinuxCapabilities
		want map[string][]string // /proc/self/status field -> capability names
	}{
		{
			name: "runtime spec defaults",
			nnp:  true,
			caps: specs.LinuxCapabilities{
				Bounding:  []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
				Effective: []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
				Permitted: []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			},
			want: map[string][]string{
				"CapBnd": {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
				"CapPrm": {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
				"CapEff": {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
				"CapInh": nil,
				"CapAmb": nil,
			},
		},
		{
			name: "root with noNewPrivileges",
			nnp:  true,
			caps: specs.LinuxCapabilities{Bounding: bounding, Effective: permitted, Permitted: permitted, Inheritable: inheritable, Ambient: ambient},
			want: map[string][]string{
				"CapBnd": bounding, "CapPrm": permitted, "CapEff": permitted,
				"CapInh": inheritable, "CapAmb": ambient,
			},
		},
		{
			name: "root without noNewPrivileges",
			nnp:  false,
			caps: specs.LinuxCapabilities{Bounding: bounding, Effective: permitted, Permitted: permitted, Inheritable: inheritable, Ambient: ambient},
			want: map[string][]string{
				// execve as root fills permitted from the bounding set
				"CapBnd": bounding, "CapPrm": bounding, "CapEff": bounding,
				"CapInh": inheritable, "CapAmb": ambient,
			},
		},
		{
			name: "non-root keeps ambient only",
			uid:  1000,
			nnp:  true,
			caps: specs.LinuxCapabilities{Bounding: bounding, Effective: permitted, Permitted: permitted, Inheritable: inheritable, Ambient: ambient},
			want: map[string][]string{
				"CapBnd": bounding, "CapPrm": ambient, "CapEff": ambient,
				"CapInh": inheritable, "CapAmb": ambient,
			},
		},
		{
			name: "empty sets",
			nnp:  true,
			caps: specs.LinuxCapabilities{},
			want: map[string][]string{"CapBnd": nil, "CapPrm": nil, "CapEff": nil, "CapInh": nil, "CapAmb": nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, "grep", "^Cap", "/proc/self/status")
			b.edit(t, func(s *specs.Spec) {
				caps := tt.caps
				s.Process.Capabilities = &caps
				s.Process.NoNewPrivileges = tt.nnp
				s.Process.User = specs.User{UID: tt.uid, GID: tt.uid}
			})
			got := parseCaps(t, runOK(t, b))
			for field, names := range tt.want {
				if want := capMask(t, names); got[field] != want {
					t.Errorf("%s = %016x, want %016x (%v)", field, got[field], want, names)
				}
			}
		})
	}
}

// parseCaps parses the Cap* lines of /proc/PID/status.
func parseCaps(t *testing.T, status string) map[string]uint64 {
	t.Helper()
	caps := map[string]uint64{}
	for _, line := range strings.Split(strings.TrimSpace(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			t.Fatalf("status line %q: %v", line, err)
		}
		caps[k] = n
	}
	if len(caps) != 5 {
		t.Fatalf("capability lines %q, want 5", status)
	}
	return caps
}
