package specs

import (
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The default seccomp profile allows what ordinary programs need and
// denies, with EPERM, what lets a process reach outside its container or
// attack the kernel: loading modules and BPF programs, mounting, creating
// namespaces, rebooting, setting the clock, kexec, keyrings, userfaultfd,
// io_uring, raw I/O ports, the perf and accounting interfaces. Most of those
// calls also need a capability the container lacks; the filter is the
// second wall, and it shrinks the kernel attack surface for the calls that
// need none (keyctl, userfaultfd, io_uring).
//
// The allow list below is the same set of calls as Docker's default
// profile (moby/profiles, 2026), grouped by what the calls are for. Names a
// kernel or libseccomp does not know are skipped when the filter is built,
// so listing new and architecture-specific calls is harmless.
var seccompAllowed = [][]string{
	// Files, directories and file descriptors.
	{
		"access", "faccessat", "faccessat2",
		"open", "openat", "openat2", "creat", "close", "close_range",
		"read", "readv", "pread64", "preadv", "preadv2",
		"write", "writev", "pwrite64", "pwritev", "pwritev2",
		"lseek", "_llseek", "dup", "dup2", "dup3", "fcntl", "fcntl64", "flock",
		"pipe", "pipe2",
		"stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "fstatat64",
		"newfstatat", "statx", "statfs", "statfs64", "fstatfs", "fstatfs64",
		"chdir", "fchdir", "getcwd", "getdents", "getdents64",
		"mkdir", "mkdirat", "rmdir", "mknod", "mknodat",
		"link", "linkat", "symlink", "symlinkat", "readlink", "readlinkat",
		"unlink", "unlinkat", "rename", "renameat", "renameat2",
		"chmod", "fchmod", "fchmodat", "fchmodat2", "umask",
		"chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32",
		"truncate", "truncate64", "ftruncate", "ftruncate64", "fallocate",
		"fadvise64", "fadvise64_64", "readahead", "cachestat",
		"fsync", "fdatasync", "sync", "syncfs", "sync_file_range",
		"utime", "utimes", "utimensat", "utimensat_time64", "futimesat",
		"sendfile", "sendfile64", "splice", "tee", "vmsplice", "copy_file_range",
		"name_to_handle_at", "fanotify_mark",
		// Reading the mount table of the container's own mount namespace.
		"statmount", "listmount",
	},
	// Extended attributes.
	{
		"getxattr", "lgetxattr", "fgetxattr", "getxattrat",
		"setxattr", "lsetxattr", "fsetxattr", "setxattrat",
		"listxattr", "llistxattr", "flistxattr", "listxattrat",
		"removexattr", "lremovexattr", "fremovexattr", "removexattrat",
	},
	// Waiting for events: poll, epoll, inotify, eventfd, signalfd, timerfd.
	{
		"poll", "ppoll", "ppoll_time64", "select", "_newselect",
		"pselect6", "pselect6_time64",
		"epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
		"epoll_wait", "epoll_wait_old", "epoll_pwait", "epoll_pwait2",
		"inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
		"eventfd", "eventfd2", "signalfd", "signalfd4",
		"timerfd_create", "timerfd_settime", "timerfd_settime64",
		"timerfd_gettime", "timerfd_gettime64",
	},
	// Linux AIO (io_uring is left out: it has been a steady source of
	// kernel exploits, and its operations bypass seccomp entirely).
	{
		"io_setup", "io_destroy", "io_submit", "io_cancel",
		"io_getevents", "io_pgetevents", "io_pgetevents_time64",
	},
	// Memory.
	{
		"brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise",
		"mincore", "msync", "remap_file_pages", "membarrier",
		"mlock", "mlock2", "mlockall", "munlock", "munlockall",
		"memfd_create", "memfd_secret", "mseal", "map_shadow_stack",
		"pkey_alloc", "pkey_free", "pkey_mprotect",
	},
	// Processes and threads. clone and clone3 have rules of their own.
	{
		"fork", "vfork", "execve", "execveat", "exit", "exit_group",
		"wait4", "waitid", "waitpid", "restart_syscall",
		"getpid", "getppid", "gettid", "getpgid", "getpgrp", "setpgid",
		"getsid", "setsid", "set_tid_address", "rseq",
		"get_robust_list", "set_robust_list",
		"get_thread_area", "set_thread_area",
		"prctl", "seccomp", "capget", "capset",
		"getrlimit", "setrlimit", "ugetrlimit", "prlimit64", "getrusage",
		"getpriority", "setpriority", "ioprio_get", "ioprio_set",
		"sched_yield", "sched_getaffinity", "sched_setaffinity",
		"sched_getattr", "sched_setattr", "sched_getparam", "sched_setparam",
		"sched_getscheduler", "sched_setscheduler",
		"sched_get_priority_max", "sched_get_priority_min",
		"sched_rr_get_interval", "sched_rr_get_interval_time64",
		"getcpu", "uname", "sysinfo", "times", "getrandom",
		"pidfd_open", "pidfd_send_signal", "process_mrelease",
		// Unprivileged sandboxing of the process's own children.
		"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
		// Return probes and hardware-capability probing.
		"uretprobe", "riscv_hwprobe",
	},
	// Futexes.
	{
		"futex", "futex_time64", "futex_waitv",
		"futex_wait", "futex_wake", "futex_requeue",
	},
	// Signals.
	{
		"kill", "tkill", "tgkill", "pause", "alarm",
		"rt_sigaction", "rt_sigprocmask", "rt_sigpending", "rt_sigsuspend",
		"rt_sigqueueinfo", "rt_tgsigqueueinfo", "rt_sigreturn",
		"rt_sigtimedwait", "rt_sigtimedwait_time64",
		"sigaltstack", "sigprocmask", "sigreturn",
	},
	// User and group ids (the kernel still checks CAP_SETUID/CAP_SETGID).
	{
		"getuid", "getuid32", "geteuid", "geteuid32",
		"getgid", "getgid32", "getegid", "getegid32",
		"getresuid", "getresuid32", "getresgid", "getresgid32",
		"getgroups", "getgroups32", "setgroups", "setgroups32",
		"setuid", "setuid32", "setgid", "setgid32",
		"setreuid", "setreuid32", "setregid", "setregid32",
		"setresuid", "setresuid32", "setresgid", "setresgid32",
		"setfsuid", "setfsuid32", "setfsgid", "setfsgid32",
	},
	// Clocks and timers. Reading is free; adjtimex and clock_adjtime only
	// change the clock with CAP_SYS_TIME, which the kernel checks.
	{
		"time", "gettimeofday", "clock_gettime", "clock_gettime64",
		"clock_getres", "clock_getres_time64",
		"clock_nanosleep", "clock_nanosleep_time64", "nanosleep",
		"adjtimex", "clock_adjtime", "clock_adjtime64",
		"getitimer", "setitimer",
		"timer_create", "timer_delete", "timer_getoverrun",
		"timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
	},
	// Sockets; socket itself has rules of its own.
	{
		"socketpair", "bind", "listen", "accept", "accept4", "connect",
		"getsockname", "getpeername", "getsockopt", "setsockopt",
		"send", "sendto", "sendmsg", "sendmmsg",
		"recv", "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64",
		"shutdown",
		// 32-bit x86 multiplexes every socket call through socketcall;
		// its arguments sit behind a pointer seccomp cannot read, so the
		// AF_ALG/AF_VSOCK check below cannot cover it.
		"socketcall",
	},
	// System V IPC and POSIX message queues (both namespaced).
	{
		"ipc", "msgget", "msgctl", "msgsnd", "msgrcv",
		"semget", "semctl", "semop", "semtimedop", "semtimedop_time64",
		"shmget", "shmctl", "shmat", "shmdt",
		"mq_open", "mq_unlink", "mq_getsetattr", "mq_notify",
		"mq_timedsend", "mq_timedsend_time64",
		"mq_timedreceive", "mq_timedreceive_time64",
	},
	// Device control; what an ioctl may do is up to the device, and the
	// container only has the devices it was given.
	{"ioctl"},
}

// Values of personality(2)'s argument that the default profile allows:
// the plain Linux personality, the 32-bit one (`linux32`), either with
// UNAME26 (a 2.6.x version in uname, for old software), and 0xffffffff,
// which only queries. Other flags, such as ADDR_NO_RANDOMIZE or
// READ_IMPLIES_EXEC, weaken the process's exploit protections.
const (
	perLinux      = 0x0000
	perLinux32    = 0x0008
	perUname26    = 0x0020000
	perQuery      = 0xffffffff
	perLinux32U26 = perLinux32 | perUname26
)

// Linux ABI values the rules test, the same on every architecture. They
// are spelled out rather than taken from x/sys/unix so that the parsers of
// this package also build on other systems (where unix lacks them).
const (
	cloneNewNS     = 0x00020000
	cloneNewCgroup = 0x02000000
	cloneNewUTS    = 0x04000000
	cloneNewIPC    = 0x08000000
	cloneNewUser   = 0x10000000
	cloneNewPID    = 0x20000000
	cloneNewNet    = 0x40000000

	afALG   = 38 // the kernel crypto API
	afNFC   = 39
	afVSOCK = 40 // virtio sockets to the hypervisor
)

// cloneNewNamespaces are the clone(2) flags that create namespaces.
// Without CAP_SYS_ADMIN the default profile allows clone only when none of
// them is set: a user namespace would give the process a full capability
// set over new namespaces, a much larger kernel attack surface.
const cloneNewNamespaces = cloneNewNS | cloneNewCgroup | cloneNewUTS |
	cloneNewIPC | cloneNewUser | cloneNewPID | cloneNewNet

// capSyscalls are the calls the default profile allows only when the
// container holds the capability that the kernel itself requires for
// them, so that --cap-add gives what users expect of it.
var capSyscalls = []struct {
	cap   string
	names []string
}{
	{"CAP_DAC_READ_SEARCH", []string{"open_by_handle_at"}},
	{"CAP_SYS_ADMIN", []string{
		"mount", "umount", "umount2", "mount_setattr", "move_mount", "open_tree",
		"fsopen", "fsconfig", "fsmount", "fspick",
		"unshare", "setns", "clone", "clone3",
		"sethostname", "setdomainname",
		"bpf", "perf_event_open", "fanotify_init", "lookup_dcookie",
		"quotactl", "quotactl_fd", "syslog",
		"lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules",
	}},
	{"CAP_SYS_BOOT", []string{"reboot"}},
	{"CAP_SYS_CHROOT", []string{"chroot"}},
	{"CAP_SYS_MODULE", []string{"init_module", "finit_module", "delete_module"}},
	{"CAP_SYS_PACCT", []string{"acct"}},
	{"CAP_SYS_PTRACE", []string{
		"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise",
		"kcmp", "pidfd_getfd",
	}},
	{"CAP_SYS_RAWIO", []string{"iopl", "ioperm"}},
	{"CAP_SYS_TIME", []string{"settimeofday", "stime", "clock_settime", "clock_settime64"}},
	{"CAP_SYS_TTY_CONFIG", []string{"vhangup"}},
	{"CAP_SYS_NICE", []string{"get_mempolicy", "set_mempolicy", "set_mempolicy_home_node", "mbind"}},
	{"CAP_SYSLOG", []string{"syslog"}},
	{"CAP_BPF", []string{"bpf"}},
	{"CAP_PERFMON", []string{"perf_event_open"}},
}

// archSyscalls are calls that exist, or are needed, only on some
// architectures.
var archSyscalls = []struct {
	arches []string
	names  []string
}{
	{[]string{"amd64", "x32"}, []string{"arch_prctl"}},
	{[]string{"amd64", "x32", "x86"}, []string{"modify_ldt"}},
	{[]string{"arm", "arm64"}, []string{
		"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
		"breakpoint", "cacheflush", "set_tls",
	}},
	{[]string{"ppc64le"}, []string{"sync_file_range2", "swapcontext"}},
	{[]string{"s390", "s390x"}, []string{"s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"}},
	{[]string{"riscv64"}, []string{"riscv_flush_icache"}},
}

// DefaultSeccompProfile returns berth's default seccomp profile, which
// allows the same calls as Docker's under the same conditions. Every call
// returns a fresh value.
//
// Besides the plain allow list it has these rules:
//   - personality(2) only with the argument values listed at perLinux;
//   - socket(2) for every address family except AF_ALG (the kernel crypto
//     API, a large attack surface no container needs) and AF_VSOCK (a way
//     out to the hypervisor);
//   - without CAP_SYS_ADMIN, clone(2) only without namespace flags (on
//     s390 the flags are the second argument) and clone3(2) fails with
//     ENOSYS: its flags sit in a struct that seccomp cannot read, and
//     ENOSYS makes glibc and others fall back to clone;
//   - ptrace, process_vm_readv and process_vm_writev on kernels 4.8 and
//     later, where ptrace can no longer be used to bypass a seccomp filter;
//     with CAP_SYS_PTRACE on any kernel;
//   - the calls of capSyscalls when the container holds the capability,
//     and the calls of archSyscalls on their architectures.
//
// On an x86_64 host the filter covers x86_64, x86 and x32 binaries, on
// arm64 arm64 and arm binaries, as listed in ArchMap.
func DefaultSeccompProfile() *SeccompProfile {
	eperm, enosys := uint(unix.EPERM), uint(unix.ENOSYS)
	p := &SeccompProfile{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: &eperm,
		ArchMap: []SeccompArch{
			{specs.ArchX86_64, []specs.Arch{specs.ArchX86, specs.ArchX32}},
			{specs.ArchAARCH64, []specs.Arch{specs.ArchARM}},
			{specs.ArchMIPS64, []specs.Arch{specs.ArchMIPS, specs.ArchMIPS64N32}},
			{specs.ArchMIPS64N32, []specs.Arch{specs.ArchMIPS, specs.ArchMIPS64}},
			{specs.ArchMIPSEL64, []specs.Arch{specs.ArchMIPSEL, specs.ArchMIPSEL64N32}},
			{specs.ArchMIPSEL64N32, []specs.Arch{specs.ArchMIPSEL, specs.ArchMIPSEL64}},
			{specs.ArchS390X, []specs.Arch{specs.ArchS390}},
			{specs.ArchRISCV64, nil},
			{specs.ArchLOONGARCH64, nil},
		},
	}
	allow := func(names []string, args []specs.LinuxSeccompArg, in, ex *SeccompFilter) {
		p.Syscalls = append(p.Syscalls, SeccompRule{
			Names: names, Action: specs.ActAllow, Args: args, Includes: in, Excludes: ex,
		})
	}
	arg0 := func(op specs.LinuxSeccompOperator, v uint64) []specs.LinuxSeccompArg {
		return []specs.LinuxSeccompArg{{Index: 0, Value: v, Op: op}}
	}

	var names []string
	for _, group := range seccompAllowed {
		names = append(names, group...)
	}
	slices.Sort(names)
	allow(slices.Compact(names), nil, nil, nil)

	allow([]string{"ptrace", "process_vm_readv", "process_vm_writev"}, nil,
		&SeccompFilter{MinKernel: "4.8"}, nil)

	// One rule per range of families: runtimes turn several conditions on
	// the same argument into alternatives (libseccomp cannot AND them), so
	// "!= AF_ALG and != AF_VSOCK" cannot be written as one rule.
	allow([]string{"socket"}, arg0(specs.OpLessThan, afALG), nil, nil)
	allow([]string{"socket"}, arg0(specs.OpEqualTo, afNFC), nil, nil)
	allow([]string{"socket"}, arg0(specs.OpGreaterThan, afVSOCK), nil, nil)

	for _, v := range []uint64{perLinux, perLinux32, perUname26, perLinux32U26, perQuery} {
		allow([]string{"personality"}, arg0(specs.OpEqualTo, v), nil, nil)
	}

	for _, a := range archSyscalls {
		allow(slices.Clone(a.names), nil, &SeccompFilter{Arches: slices.Clone(a.arches)}, nil)
	}

	for _, c := range capSyscalls {
		allow(slices.Clone(c.names), nil, &SeccompFilter{Caps: []string{c.cap}}, nil)
	}
	noSysAdmin := func() *SeccompFilter { return &SeccompFilter{Caps: []string{"CAP_SYS_ADMIN"}} }
	cloneFlags := []specs.LinuxSeccompArg{{Index: 0, Value: cloneNewNamespaces, ValueTwo: 0, Op: specs.OpMaskedEqual}}
	allow([]string{"clone"}, cloneFlags, nil,
		&SeccompFilter{Caps: []string{"CAP_SYS_ADMIN"}, Arches: []string{"s390", "s390x"}})
	s390Flags := slices.Clone(cloneFlags)
	s390Flags[0].Index = 1
	allow([]string{"clone"}, s390Flags, &SeccompFilter{Arches: []string{"s390", "s390x"}}, noSysAdmin())
	p.Syscalls = append(p.Syscalls, SeccompRule{
		Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys, Excludes: noSysAdmin(),
	})
	return p
}
