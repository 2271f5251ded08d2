package seccomp

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestBuild(t *testing.T) {
	eperm := uint(1)
	tests := []struct {
		name string
		s    specs.LinuxSeccomp
		ok   bool
	}{
		{"allow default", specs.LinuxSeccomp{DefaultAction: specs.ActAllow}, true},
		{"errno rule", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86},
			Syscalls: []specs.LinuxSyscall{{Names: []string{"getcwd", "no_such_syscall"}, Action: specs.ActErrno, ErrnoRet: &eperm}}}, true},
		{"args same index", specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 0, Op: specs.OpEqualTo}, {Index: 0, Value: 8, Op: specs.OpEqualTo}}}}}, true},
		{"masked", specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"clone"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 0x7E020000, ValueTwo: 0, Op: specs.OpMaskedEqual}}}}}, true},
		{"bad action", specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_NOPE"}, false},
		{"bad op", specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Op: "SCMP_CMP_NOPE"}}}}}, false},
		{"bad flag", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"NOPE"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Build(&tt.s)
			if (err == nil) != tt.ok {
				t.Fatalf("Build() error = %v, want ok=%v", err, tt.ok)
			}
			if f != nil {
				f.Release()
			}
		})
	}
}
