package specs

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A SeccompProfile is a seccomp profile in Docker's JSON format, the format
// of `--security-opt seccomp=FILE`. It is a superset of the OCI
// linux.seccomp section: rules may apply only on some architectures, only
// from some kernel version on, or only when the container holds (or lacks)
// some capabilities. Resolving a profile for a spec (WithSeccomp) drops the
// rules that do not apply and yields plain OCI rules.
type SeccompProfile struct {
	DefaultAction   specs.LinuxSeccompAction `json:"defaultAction"`
	DefaultErrnoRet *uint                    `json:"defaultErrnoRet,omitempty"`
	// Architectures lists the architectures to filter, in the old format;
	// newer profiles use ArchMap instead (a profile may not have both).
	Architectures []specs.Arch `json:"architectures,omitempty"`
	// ArchMap gives, for each native architecture, the architectures to
	// filter on a host of that kind: the native one and the ones its
	// kernel can also run (x86 and x32 binaries on x86_64).
	ArchMap          []SeccompArch            `json:"archMap,omitempty"`
	Flags            []specs.LinuxSeccompFlag `json:"flags,omitempty"`
	ListenerPath     string                   `json:"listenerPath,omitempty"`
	ListenerMetadata string                   `json:"listenerMetadata,omitempty"`
	Syscalls         []SeccompRule            `json:"syscalls"`
}

// SeccompArch is an entry of SeccompProfile.ArchMap.
type SeccompArch struct {
	Arch      specs.Arch   `json:"architecture"`
	SubArches []specs.Arch `json:"subArchitectures"`
}

// SeccompRule is one rule of a SeccompProfile: what happens to the named
// syscalls (when Args match), provided Includes and Excludes allow the
// rule on this host for this container.
type SeccompRule struct {
	// Name is the single-syscall form of old profiles; use Names.
	Name     string                   `json:"name,omitempty"`
	Names    []string                 `json:"names,omitempty"`
	Action   specs.LinuxSeccompAction `json:"action"`
	ErrnoRet *uint                    `json:"errnoRet,omitempty"`
	Args     []specs.LinuxSeccompArg  `json:"args,omitempty"`
	Comment  string                   `json:"comment,omitempty"`
	// Includes must all hold for the rule to apply.
	Includes *SeccompFilter `json:"includes,omitempty"`
	// Excludes drops the rule if any of them holds.
	Excludes *SeccompFilter `json:"excludes,omitempty"`
}

// SeccompFilter is the condition of SeccompRule.Includes or Excludes.
type SeccompFilter struct {
	// Caps are capability names ("CAP_SYS_ADMIN") looked up in the
	// container's bounding set.
	Caps []string `json:"caps,omitempty"`
	// Arches are libseccomp's names of native architectures ("amd64",
	// "arm64", "x86", "s390x"...), compared with the host's.
	Arches []string `json:"arches,omitempty"`
	// MinKernel is a kernel version "MAJOR.MINOR" compared with the
	// host's (patch level and suffixes ignored).
	MinKernel string `json:"minKernel,omitempty"`
}

// ParseSeccompProfile decodes and checks a Docker-format seccomp profile.
// Checking here, rather than when the runtime loads the filter, gives the
// user an error that names the rule at fault.
func ParseSeccompProfile(data []byte) (*SeccompProfile, error) {
	var p SeccompProfile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, invalidf("seccomp profile: %v", err)
	}
	if err := p.check(); err != nil {
		return nil, invalidf("seccomp profile: %v", err)
	}
	return &p, nil
}

// LoadSeccompProfile reads and parses the Docker-format profile at path.
func LoadSeccompProfile(path string) (*SeccompProfile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load seccomp profile: %w", err)
	}
	p, err := ParseSeccompProfile(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return p, nil
}

var seccompActions = []specs.LinuxSeccompAction{
	specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap,
	specs.ActErrno, specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify,
}

var seccompOps = []specs.LinuxSeccompOperator{
	specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
	specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual,
}

func (p *SeccompProfile) check() error {
	if p.DefaultAction != "" && !slices.Contains(seccompActions, p.DefaultAction) {
		return fmt.Errorf("unknown defaultAction %q", p.DefaultAction)
	}
	if len(p.Architectures) > 0 && len(p.ArchMap) > 0 {
		return fmt.Errorf("both architectures and archMap are set; use one")
	}
	for i, r := range p.Syscalls {
		if r.Name != "" && len(r.Names) > 0 {
			return fmt.Errorf("syscalls[%d]: both name and names are set; use one", i)
		}
		if !slices.Contains(seccompActions, r.Action) {
			return fmt.Errorf("syscalls[%d]: unknown action %q", i, r.Action)
		}
		for _, a := range r.Args {
			if !slices.Contains(seccompOps, a.Op) {
				return fmt.Errorf("syscalls[%d]: unknown operator %q", i, a.Op)
			}
			if a.Index > 5 {
				return fmt.Errorf("syscalls[%d]: argument index %d out of range 0-5", i, a.Index)
			}
		}
		for _, f := range []*SeccompFilter{r.Includes, r.Excludes} {
			if f == nil || f.MinKernel == "" {
				continue
			}
			if _, err := parseKernelVersion(f.MinKernel); err != nil {
				return fmt.Errorf("syscalls[%d]: minKernel: %v", i, err)
			}
		}
	}
	return nil
}

// kernelVersion is a kernel's major and minor version, all that profile
// conditions look at.
type kernelVersion struct{ major, minor int }

// parseKernelVersion reads "6.1" out of "6.1", "6.1.0-18-amd64" or
// "6.18.44-fc-v1300".
func parseKernelVersion(s string) (kernelVersion, error) {
	major, rest, ok := strings.Cut(s, ".")
	if !ok {
		return kernelVersion{}, fmt.Errorf("kernel version %q is not MAJOR.MINOR", s)
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end == -1 {
		end = len(rest)
	}
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(rest[:end])
	if err1 != nil || err2 != nil || (ma == 0 && mi == 0) {
		return kernelVersion{}, fmt.Errorf("kernel version %q is not MAJOR.MINOR", s)
	}
	return kernelVersion{ma, mi}, nil
}

func (k kernelVersion) atLeast(min kernelVersion) bool {
	return k.major > min.major || (k.major == min.major && k.minor >= min.minor)
}

// seccompHost is what resolving a profile needs to know about the machine
// the container will run on.
type seccompHost struct {
	arch   string // libseccomp's native name: "amd64", "arm64"...
	kernel kernelVersion
}

// nativeArch maps GOARCH to libseccomp's name for the architecture, the
// vocabulary of SeccompFilter.Arches.
var nativeArch = map[string]string{
	"386": "x86", "amd64": "amd64", "arm": "arm", "arm64": "arm64",
	"loong64": "loongarch64", "mips": "mips", "mipsle": "mipsel",
	"mips64": "mips64", "mips64le": "mipsel64", "ppc64": "ppc64",
	"ppc64le": "ppc64le", "riscv64": "riscv64", "s390x": "s390x",
}

// scmpArch maps libseccomp's native names to the OCI architecture names,
// to find the host's entry in SeccompProfile.ArchMap.
var scmpArch = map[string]specs.Arch{
	"x86": specs.ArchX86, "amd64": specs.ArchX86_64, "x32": specs.ArchX32,
	"arm": specs.ArchARM, "arm64": specs.ArchAARCH64,
	"loongarch64": specs.ArchLOONGARCH64, "mips": specs.ArchMIPS,
	"mipsel": specs.ArchMIPSEL, "mips64": specs.ArchMIPS64,
	"mipsel64": specs.ArchMIPSEL64, "ppc64": specs.ArchPPC64,
	"ppc64le": specs.ArchPPC64LE, "riscv64": specs.ArchRISCV64,
	"s390": specs.ArchS390, "s390x": specs.ArchS390X,
}

// thisHost describes the running machine for profile resolution. If the
// kernel version cannot be read, minKernel conditions count as unmet: the
// rules that need a new kernel are the ones that allow more.
func thisHost() seccompHost {
	return seccompHost{arch: hostArch(), kernel: hostKernel()}
}

// resolve turns the profile into the OCI section for a container with the
// bounding set caps on host h. A profile with no default action and no
// rules means no filter, as in Docker, so it resolves to nil.
func (p *SeccompProfile) resolve(caps []string, h seccompHost) *specs.LinuxSeccomp {
	if p.DefaultAction == "" && len(p.Syscalls) == 0 {
		return nil
	}
	out := &specs.LinuxSeccomp{
		DefaultAction:    p.DefaultAction,
		DefaultErrnoRet:  cloneUint(p.DefaultErrnoRet),
		Architectures:    slices.Clone(p.Architectures),
		Flags:            slices.Clone(p.Flags),
		ListenerPath:     p.ListenerPath,
		ListenerMetadata: p.ListenerMetadata,
	}
	for _, a := range p.ArchMap {
		if a.Arch == scmpArch[h.arch] {
			out.Architectures = append([]specs.Arch{a.Arch}, a.SubArches...)
			break
		}
	}
	for _, r := range p.Syscalls {
		if !r.applies(caps, h) {
			continue
		}
		names := r.Names
		if r.Name != "" {
			names = []string{r.Name}
		}
		if len(names) == 0 {
			continue
		}
		out.Syscalls = append(out.Syscalls, specs.LinuxSyscall{
			Names:    slices.Clone(names),
			Action:   r.Action,
			ErrnoRet: cloneUint(r.ErrnoRet),
			Args:     slices.Clone(r.Args),
		})
	}
	return out
}

// applies reports whether the rule's conditions hold: every Includes
// condition, and none of the Excludes ones.
func (r SeccompRule) applies(caps []string, h seccompHost) bool {
	if ex := r.Excludes; ex != nil {
		if slices.Contains(ex.Arches, h.arch) {
			return false
		}
		for _, c := range ex.Caps {
			if slices.Contains(caps, c) {
				return false
			}
		}
		if ex.MinKernel != "" && h.kernel.atLeast(mustKernel(ex.MinKernel)) {
			return false
		}
	}
	if in := r.Includes; in != nil {
		if len(in.Arches) > 0 && !slices.Contains(in.Arches, h.arch) {
			return false
		}
		for _, c := range in.Caps {
			if !slices.Contains(caps, c) {
				return false
			}
		}
		if in.MinKernel != "" && !h.kernel.atLeast(mustKernel(in.MinKernel)) {
			return false
		}
	}
	return true
}

// mustKernel parses a minKernel that check already accepted; a profile
// built in Go without check gets an unmeetable version for a bad value.
func mustKernel(s string) kernelVersion {
	k, err := parseKernelVersion(s)
	if err != nil {
		return kernelVersion{1 << 30, 0}
	}
	return k
}

func cloneUint(p *uint) *uint {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// defaultSeccomp is the default profile resolved for caps on this host.
func defaultSeccomp(caps []string) *specs.LinuxSeccomp {
	return DefaultSeccompProfile().resolve(caps, thisHost())
}

// WithSeccomp sets linux.seccomp to the profile p resolved for the spec's
// current capabilities on this host. Apply it after the capability options:
// a rule that depends on a capability is decided when this option runs.
// (The default profile is the exception; capability options keep it up to
// date themselves.)
func WithSeccomp(p *SeccompProfile) Opt {
	return func(s *specs.Spec) error {
		linux(s).Seccomp = p.resolve(currentCaps(s), thisHost())
		return nil
	}
}

// WithDefaultSeccomp sets the default profile (DefaultSeccompProfile), the
// `--security-opt seccomp=builtin` of Docker.
func WithDefaultSeccomp() Opt {
	return func(s *specs.Spec) error {
		linux(s).Seccomp = defaultSeccomp(currentCaps(s))
		return nil
	}
}

// WithSeccompProfile loads the Docker-format profile at path and sets it
// as WithSeccomp does.
func WithSeccompProfile(path string) Opt {
	return func(s *specs.Spec) error {
		p, err := LoadSeccompProfile(path)
		if err != nil {
			return err
		}
		return WithSeccomp(p)(s)
	}
}

// WithSeccompUnconfined removes the seccomp filter
// (`--security-opt seccomp=unconfined`).
func WithSeccompUnconfined() Opt {
	return func(s *specs.Spec) error {
		if s.Linux != nil {
			s.Linux.Seccomp = nil
		}
		return nil
	}
}
