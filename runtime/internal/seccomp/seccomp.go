// Package seccomp turns the linux.seccomp section of config.json into a BPF
// filter with libseccomp (Compile, before the container is reported ready)
// and loads it on the calling thread, the one about to execve the
// container process (Program.Load, one system call).
package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Build compiles s into a libseccomp filter without loading it.
func Build(s *specs.LinuxSeccomp) (*libseccomp.ScmpFilter, error) {
	def, err := action(s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("seccomp default action: %w", err)
	}
	if s.ListenerPath != "" {
		return nil, errors.New("seccomp: listenerPath (SCMP_ACT_NOTIFY) is not supported")
	}
	f, err := libseccomp.NewFilter(def)
	if err != nil {
		return nil, fmt.Errorf("seccomp filter: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Release()
		}
	}()
	if err := f.SetNoNewPrivsBit(false); err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	for _, a := range s.Architectures {
		arch, err := libseccomp.GetArchFromString(archName(a))
		if err != nil {
			return nil, fmt.Errorf("seccomp architecture %q: %w", a, err)
		}
		if err := f.AddArch(arch); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("seccomp architecture %q: %w", a, err)
		}
	}
	for _, fl := range s.Flags {
		switch fl {
		case specs.LinuxSeccompFlagLog:
			err = f.SetLogBit(true)
		case specs.LinuxSeccompFlagSpecAllow:
			err = f.SetSSB(true)
		case specs.LinuxSeccompFlagWaitKillableRecv:
			err = f.SetWaitKill(true)
		case "SECCOMP_FILTER_FLAG_TSYNC":
			// Only one thread execs; nothing to synchronise.
		default:
			return nil, fmt.Errorf("seccomp: unknown flag %q", fl)
		}
		if err != nil {
			return nil, fmt.Errorf("seccomp flag %s: %w", fl, err)
		}
	}
	for _, sc := range s.Syscalls {
		act, err := action(sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("seccomp action for %v: %w", sc.Names, err)
		}
		if act == def {
			continue // libseccomp refuses rules that repeat the default
		}
		for _, name := range sc.Names {
			call, err := libseccomp.GetSyscallFromName(name)
			if err != nil {
				continue // unknown on this kernel or arch: nothing to filter
			}
			if err := addRule(f, call, act, sc.Args); err != nil {
				return nil, fmt.Errorf("seccomp rule for %s: %w", name, err)
			}
		}
	}
	ok = true
	return f, nil
}

// addRule adds one syscall's rule. Conditions on distinct arguments are
// ANDed in one rule; several conditions on the same argument can only be
// expressed as alternatives, one rule each (as runc and crun do).
func addRule(f *libseccomp.ScmpFilter, call libseccomp.ScmpSyscall, act libseccomp.ScmpAction, args []specs.LinuxSeccompArg) error {
	if len(args) == 0 {
		return f.AddRule(call, act)
	}
	var conds []libseccomp.ScmpCondition
	sameIndex := false
	seen := map[uint]bool{}
	for _, a := range args {
		c, err := condition(a)
		if err != nil {
			return err
		}
		conds = append(conds, c)
		if seen[a.Index] {
			sameIndex = true
		}
		seen[a.Index] = true
	}
	if !sameIndex {
		return f.AddRuleConditional(call, act, conds)
	}
	for _, c := range conds {
		if err := f.AddRuleConditional(call, act, []libseccomp.ScmpCondition{c}); err != nil {
			return err
		}
	}
	return nil
}

var ops = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

func condition(a specs.LinuxSeccompArg) (libseccomp.ScmpCondition, error) {
	op, ok := ops[a.Op]
	if !ok {
		return libseccomp.ScmpCondition{}, fmt.Errorf("unknown operator %q", a.Op)
	}
	if op == libseccomp.CompareMaskedEqual {
		return libseccomp.MakeCondition(a.Index, op, a.Value, a.ValueTwo)
	}
	return libseccomp.MakeCondition(a.Index, op, a.Value)
}

// action maps an OCI action; errno actions default to EPERM.
func action(a specs.LinuxSeccompAction, errnoRet *uint) (libseccomp.ScmpAction, error) {
	ret := int16(unix.EPERM)
	if errnoRet != nil {
		ret = int16(*errnoRet)
	}
	switch a {
	case specs.ActKill, specs.ActKillThread:
		return libseccomp.ActKillThread, nil
	case specs.ActKillProcess:
		return libseccomp.ActKillProcess, nil
	case specs.ActTrap:
		return libseccomp.ActTrap, nil
	case specs.ActErrno:
		return libseccomp.ActErrno.SetReturnCode(ret), nil
	case specs.ActTrace:
		return libseccomp.ActTrace.SetReturnCode(ret), nil
	case specs.ActAllow:
		return libseccomp.ActAllow, nil
	case specs.ActLog:
		return libseccomp.ActLog, nil
	case specs.ActNotify:
		return 0, errors.New("SCMP_ACT_NOTIFY is not supported")
	}
	return 0, fmt.Errorf("unknown action %q", a)
}

// archName turns "SCMP_ARCH_X86_64" into libseccomp's "x86_64"-style name.
func archName(a specs.Arch) string {
	names := map[specs.Arch]string{
		specs.ArchX86: "x86", specs.ArchX86_64: "amd64", specs.ArchX32: "x32",
		specs.ArchARM: "arm", specs.ArchAARCH64: "arm64", specs.ArchMIPS: "mips",
		specs.ArchMIPS64: "mips64", specs.ArchMIPS64N32: "mips64n32", specs.ArchMIPSEL: "mipsel",
		specs.ArchMIPSEL64: "mipsel64", specs.ArchMIPSEL64N32: "mipsel64n32", specs.ArchPPC: "ppc",
		specs.ArchPPC64: "ppc64", specs.ArchPPC64LE: "ppc64le", specs.ArchS390: "s390",
		specs.ArchS390X: "s390x", specs.ArchRISCV64: "riscv64",
	}
	if n, ok := names[a]; ok {
		return n
	}
	return string(a)
}

// Program is a compiled filter, ready to load with one system call: no
// allocation at load time, so it still works after the container's
// RLIMIT_AS is in force.
type Program struct {
	insns []unix.SockFilter
	flags uintptr
}

// Compile builds s and exports it as BPF.
func Compile(s *specs.LinuxSeccomp) (*Program, error) {
	f, err := Build(s)
	if err != nil {
		return nil, err
	}
	defer f.Release()
	// libseccomp 2.5 can only export to an fd.
	mfd, err := unix.MemfdCreate("seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("seccomp: memfd_create: %w", err)
	}
	file := os.NewFile(uintptr(mfd), "seccomp-bpf")
	defer file.Close()
	if err := f.ExportBPF(file); err != nil {
		return nil, fmt.Errorf("seccomp: export filter: %w", err)
	}
	raw, err := io.ReadAll(io.NewSectionReader(file, 0, 1<<24))
	if err != nil {
		return nil, fmt.Errorf("seccomp: read filter: %w", err)
	}
	if len(raw) == 0 || len(raw)%8 != 0 {
		return nil, fmt.Errorf("seccomp: exported filter has a bad size %d", len(raw))
	}
	p := &Program{insns: parseInsns(raw)}
	for _, fl := range s.Flags {
		switch fl {
		case specs.LinuxSeccompFlagLog:
			p.flags |= unix.SECCOMP_FILTER_FLAG_LOG
		case specs.LinuxSeccompFlagSpecAllow:
			p.flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
		case specs.LinuxSeccompFlagWaitKillableRecv:
			p.flags |= 1 << 5 // SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
		}
	}
	return p, nil
}

// parseInsns reads instructions in the kernel's layout (len(raw) is a
// multiple of 8).
func parseInsns(raw []byte) []unix.SockFilter {
	insns := make([]unix.SockFilter, len(raw)/8)
	for i := range insns {
		b := raw[i*8:]
		insns[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(b[0:]),
			Jt:   b[2],
			Jf:   b[3],
			K:    binary.NativeEndian.Uint32(b[4:]),
		}
	}
	return insns
}

// Load installs the program on the calling thread.
func (p *Program) Load() error {
	prog := unix.SockFprog{Len: uint16(len(p.insns)), Filter: &p.insns[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, p.flags, uintptr(unsafe.Pointer(&prog)))
	if errno != 0 {
		return fmt.Errorf("load seccomp filter: %w", errno)
	}
	return nil
}
