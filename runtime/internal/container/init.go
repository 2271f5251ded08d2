package container

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/runtime/internal/console"
	"github.com/berth-project/berth/runtime/internal/rootfs"
)

// Init is the child side: it runs as `berth-runtime init` once the nsenter
// constructor has put the process into its namespaces. The caller must have
// locked the main goroutine to the main thread (capabilities are per thread
// and execve keeps only the calling one). Init never returns.
func Init() {
	// The init lives for milliseconds before execve: garbage collection
	// would only cost time.
	debug.SetGCPercent(-1)
	fd, err := strconv.Atoi(os.Getenv("_BERTH_SYNCFD"))
	if err != nil {
		os.Exit(1)
	}
	for _, k := range []string{"_BERTH_INIT", "_BERTH_SYNCFD", "_BERTH_NSJOIN", "_BERTH_NSNEW"} {
		os.Unsetenv(k)
	}
	sock := os.NewFile(uintptr(fd), "sync")
	enc := json.NewEncoder(sock)
	dec := json.NewDecoder(sock)
	var m message
	if err := dec.Decode(&m); err != nil || m.Config == nil {
		os.Exit(1)
	}
	cfg := m.Config
	spec, err := decodeInitSpec(cfg.Spec)
	if err != nil {
		enc.Encode(message{Type: msgError, Error: "init: parse config: " + err.Error()})
		os.Exit(1)
	}
	process := spec.Process
	if len(cfg.ExtraEnv) > 0 && process != nil {
		process.Env = append(process.Env, cfg.ExtraEnv...)
	}
	if len(cfg.Process) > 0 {
		process = new(specs.Process)
		if err := json.Unmarshal(cfg.Process, process); err != nil {
			enc.Encode(message{Type: msgError, Error: "init: parse process: " + err.Error()})
			os.Exit(1)
		}
	}
	if hasUserNS(spec) {
		// nsenter made us non-dumpable, which in a user namespace makes
		// our own /proc/self/fd unusable (it belongs to the host's root).
		unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0)
	}
	fail := func(err error) {
		enc.Encode(message{Type: msgError, Error: err.Error()})
		os.Exit(1)
	}
	if cfg.Exec {
		err = initExec(cfg, spec, process, sock)
	} else {
		err = initContainer(cfg, spec, sock, enc, dec)
	}
	fail(err)
}

// initSpec is the part of config.json the init uses, in types of its own.
// encoding/json builds its field tables, and with them encoders, for every
// type reachable from the one it decodes into, whether the JSON has it or
// not: from specs.Spec that is the Windows, VM, z/OS and FreeBSD sections
// and every resource and seccomp type, which cost the init more than
// decoding the config itself. The parent compiles the seccomp profile and
// applies the resources; the init never reads them.
type initSpec struct {
	Version     string            `json:"ociVersion"`
	Process     *specs.Process    `json:"process,omitempty"`
	Root        *specs.Root       `json:"root,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Domainname  string            `json:"domainname,omitempty"`
	Mounts      []specs.Mount     `json:"mounts,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Linux       *initLinux        `json:"linux,omitempty"`
}

type initLinux struct {
	UIDMappings       []specs.LinuxIDMapping           `json:"uidMappings,omitempty"`
	GIDMappings       []specs.LinuxIDMapping           `json:"gidMappings,omitempty"`
	Sysctl            map[string]string                `json:"sysctl,omitempty"`
	CgroupsPath       string                           `json:"cgroupsPath,omitempty"`
	Namespaces        []specs.LinuxNamespace           `json:"namespaces,omitempty"`
	Devices           []specs.LinuxDevice              `json:"devices,omitempty"`
	RootfsPropagation string                           `json:"rootfsPropagation,omitempty"`
	MaskedPaths       []string                         `json:"maskedPaths,omitempty"`
	ReadonlyPaths     []string                         `json:"readonlyPaths,omitempty"`
	MountLabel        string                           `json:"mountLabel,omitempty"`
	Personality       *specs.LinuxPersonality          `json:"personality,omitempty"`
	TimeOffsets       map[string]specs.LinuxTimeOffset `json:"timeOffsets,omitempty"`
}

// decodeInitSpec decodes the spec the init needs: everything but the
// linux resources, seccomp, intelRdt, memoryPolicy and netDevices, and
// the other platforms' sections, which are left nil. Linux is never nil.
func decodeInitSpec(raw []byte) (*specs.Spec, error) {
	var s initSpec
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	spec := &specs.Spec{
		Version: s.Version, Process: s.Process, Root: s.Root, Hostname: s.Hostname, Domainname: s.Domainname,
		Mounts: s.Mounts, Hooks: s.Hooks, Annotations: s.Annotations, Linux: &specs.Linux{},
	}
	if l := s.Linux; l != nil {
		spec.Linux = &specs.Linux{
			UIDMappings: l.UIDMappings, GIDMappings: l.GIDMappings, Sysctl: l.Sysctl, CgroupsPath: l.CgroupsPath,
			Namespaces: l.Namespaces, Devices: l.Devices, RootfsPropagation: l.RootfsPropagation,
			MaskedPaths: l.MaskedPaths, ReadonlyPaths: l.ReadonlyPaths, MountLabel: l.MountLabel,
			Personality: l.Personality, TimeOffsets: l.TimeOffsets,
		}
	}
	return spec, nil
}

// initContainer prepares the container's init and waits for start.
func initContainer(cfg *initConfig, spec *specs.Spec, sock *os.File, enc *json.Encoder, dec *json.Decoder) error {
	if cfg.NewUTS {
		if spec.Hostname != "" {
			if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
				return fmt.Errorf("sethostname: %w", err)
			}
		}
		if spec.Domainname != "" {
			if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
				return fmt.Errorf("setdomainname: %w", err)
			}
		}
	}
	beforePivot := func() error {
		if cfg.ParentHooks {
			if err := enc.Encode(message{Type: msgHooks}); err != nil {
				return err
			}
			var m message
			if err := dec.Decode(&m); err != nil || m.Type != msgAck {
				return fmt.Errorf("waiting for the runtime's hooks: %v", err)
			}
		}
		if spec.Hooks != nil {
			return runHooks("createContainer", spec.Hooks.CreateContainer, hookState(cfg.ID, cfg.Bundle, cfg.Pid, spec.Annotations, Created))
		}
		return nil
	}
	if cfg.HostMounts {
		if err := beforePivot(); err != nil {
			return err
		}
		// The rootfs has no /proc of its own here: keep the host's
		// /proc/self/fd at hand for reopening the fifo and closing fds.
		d, err := os.Open("/proc/self/fd")
		if err != nil {
			return err
		}
		procFdDir = d
		if err := chroot(cfg.Rootfs); err != nil {
			return err
		}
	} else if err := rootfs.Setup(spec, cfg.Rootfs, cfg.NoPivot, cfg.MountFds, beforePivot); err != nil {
		return err
	}
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	if cfg.ConsoleFd >= 0 {
		if err := setupConsole(cfg.ConsoleFd, spec.Process.ConsoleSize); err != nil {
			return err
		}
	}
	if !cfg.NoNewKeyring {
		// A fresh session keyring, so the container cannot see or use the
		// host's keys. Kernels without keyrings answer ENOSYS.
		if _, err := unix.KeyctlJoinSessionKeyring("_ses." + cfg.ID); err != nil && err != unix.ENOSYS {
			return fmt.Errorf("join session keyring: %w", err)
		}
	}
	if !cfg.HostMounts {
		if err := rootfs.Finish(spec); err != nil {
			return err
		}
	}
	if spec.Process.OOMScoreAdj != nil {
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(*spec.Process.OOMScoreAdj)), 0); err != nil {
			return fmt.Errorf("set oom_score_adj: %w", err)
		}
	}
	pp, err := prepareProcess(spec.Process, cfg.Seccomp)
	if err != nil {
		return err
	}
	if err := enc.Encode(message{Type: msgReady}); err != nil {
		os.Exit(1)
	}
	sock.Close()
	// Block until `start` opens the fifo for reading. The path is reached
	// through our own fd: the state dir is not visible after pivot_root.
	fifo, err := openFdPath(cfg.FifoFd, os.O_WRONLY|unix.O_CLOEXEC)
	if err != nil {
		fmt.Fprintf(os.Stderr, "berth-runtime init: open exec fifo: %v\n", err)
		os.Exit(1)
	}
	unix.Close(cfg.FifoFd)
	// The fifo stays open, close-on-exec: `start` reads until end of file,
	// so it returns once the user process really runs, and gets our error
	// text if it cannot.
	fifo.Write([]byte{'0'})
	startFail := func(err error) {
		fifo.Write([]byte(err.Error()))
		os.Exit(1)
	}
	if spec.Hooks != nil {
		if err := runHooks("startContainer", spec.Hooks.StartContainer, hookState(cfg.ID, cfg.Bundle, cfg.Pid, spec.Annotations, Created)); err != nil {
			startFail(err)
		}
	}
	startFail(pp.exec(cfg.PreserveFds))
	return nil
}

// initExec runs a process inside a running container; the namespaces were
// joined by the constructor, including the mount namespace whose root is the
// container's.
func initExec(cfg *initConfig, spec *specs.Spec, process *specs.Process, sock *os.File) error {
	if cfg.Chroot != "" {
		d, err := os.Open("/proc/self/fd")
		if err != nil {
			return err
		}
		procFdDir = d
		if err := chroot(cfg.Chroot); err != nil {
			return err
		}
	}
	if process.Terminal {
		if _, err := unix.Setsid(); err != nil {
			return fmt.Errorf("setsid: %w", err)
		}
	}
	if cfg.ConsoleFd >= 0 {
		if err := setupConsole(cfg.ConsoleFd, process.ConsoleSize); err != nil {
			return err
		}
	}
	pp, err := prepareProcess(process, cfg.Seccomp)
	if err != nil {
		return err
	}
	// The sync socket stays open and close-on-exec: "execing" then EOF tells
	// the parent that execve succeeded, an error message that it did not.
	pp.announce = func() { json.NewEncoder(sock).Encode(message{Type: msgExecing}) }
	return pp.exec(cfg.PreserveFds)
}

// setupConsole creates the pty, sends its master over the console socket and
// makes the slave our stdio and controlling terminal.
func setupConsole(fd int, size *specs.Box) error {
	sock := os.NewFile(uintptr(fd), "console-socket")
	master, slavePath, err := console.NewPty()
	if err != nil {
		return err
	}
	if size != nil {
		ws := &unix.Winsize{Row: uint16(size.Height), Col: uint16(size.Width)}
		if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("set pty size: %w", err)
		}
	}
	if err := console.SendFd(sock, master); err != nil {
		return err
	}
	master.Close()
	sock.Close()
	slave, err := unix.Open(slavePath, unix.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", slavePath, err)
	}
	for i := 0; i < 3; i++ {
		if err := unix.Dup3(slave, i, 0); err != nil {
			return fmt.Errorf("dup pty to fd %d: %w", i, err)
		}
	}
	if slave > 2 {
		unix.Close(slave)
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("set controlling terminal: %w", err)
	}
	return nil
}

func hasUserNS(spec *specs.Spec) bool {
	if spec == nil || spec.Linux == nil {
		return false
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			return true
		}
	}
	return false
}

// chroot makes dir our root and cwd (containers without a mount namespace).
func chroot(dir string) error {
	if err := unix.Chroot(dir); err != nil {
		return fmt.Errorf("chroot %s: %w", dir, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// procFdDir is the host's /proc/self/fd, for containers whose rootfs has
// no /proc mounted (no mount namespace); nil otherwise.
var procFdDir *os.File

// openFdPath reopens our own fd through its /proc/self/fd magic link.
func openFdPath(fd, flags int) (*os.File, error) {
	name := strconv.Itoa(fd)
	if procFdDir == nil {
		return os.OpenFile("/proc/self/fd/"+name, flags, 0)
	}
	nfd, err := unix.Openat(int(procFdDir.Fd()), name, flags, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/proc/self/fd/" + name, Err: err}
	}
	return os.NewFile(uintptr(nfd), name), nil
}
