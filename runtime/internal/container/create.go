package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/runstate"
	"github.com/berth-project/berth/runtime/internal/cgroups"
	"github.com/berth-project/berth/runtime/internal/nsenter"
	rfs "github.com/berth-project/berth/runtime/internal/rootfs"
)

// CreateOpts are the inputs of `create` (and `run`).
type CreateOpts struct {
	Root          string // state root (--root)
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	NoPivot       bool
	NoNewKeyring  bool
	PreserveFds   int
	ExtraEnv      []string // added to the process's environment (LISTEN_FDS)
	SystemdCgroup bool
	Stdin         *os.File
	Stdout        *os.File
	Stderr        *os.File
	// consoleConn, when set, is used instead of dialing ConsoleSocket (run -t
	// without --console-socket receives the pty master itself).
	consoleConn *os.File
}

// Create sets up a container from a bundle and leaves its init waiting for
// Start. On error nothing is left behind: no state dir, cgroup or process.
func Create(o CreateOpts) (*Container, error) {
	c, ch, _, err := create(o)
	if err != nil {
		return nil, err
	}
	ch.sock.Close()
	return c, nil
}

// parentSpec is the part of config.json the runtime's own process needs.
// The container's init decodes all of it; decoding only this here spares
// encoding/json building its caches for the rest of the spec types, which
// is a visible part of a container's start-up time.
type parentSpec struct {
	Root    *specs.Root `json:"root"`
	Process *struct {
		Terminal bool     `json:"terminal"`
		Args     []string `json:"args"`
	} `json:"process"`
	Hooks       json.RawMessage   `json:"hooks"`
	Annotations map[string]string `json:"annotations"`
	Linux       *parentLinux      `json:"linux"`
	Mounts      []specs.Mount     `json:"mounts"`
}

type parentLinux struct {
	Namespaces  []specs.LinuxNamespace `json:"namespaces"`
	UIDMappings []specs.LinuxIDMapping `json:"uidMappings"`
	GIDMappings []specs.LinuxIDMapping `json:"gidMappings"`
	CgroupsPath string                 `json:"cgroupsPath"`
	Resources   *specs.LinuxResources  `json:"resources"`
	// Seccomp is compiled here (or found in the cache, by these bytes)
	// while the init starts, and sent to it ready to load.
	Seccomp json.RawMessage `json:"seccomp"`
}

func create(o CreateOpts) (c *Container, ch *child, spec *parentSpec, err error) {
	if err := ValidateID(o.ID); err != nil {
		return nil, nil, nil, err
	}
	bundle, err := filepath.Abs(o.Bundle)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("bundle %s: %w", o.Bundle, err)
	}
	spec, raw, err := loadSpec(bundle)
	if err != nil {
		return nil, nil, nil, err
	}
	rootfs := spec.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(bundle, rootfs)
	}
	if fi, err := os.Stat(rootfs); err != nil {
		return nil, nil, nil, fmt.Errorf("invalid rootfs: %w", err)
	} else if !fi.IsDir() {
		return nil, nil, nil, fmt.Errorf("invalid rootfs: %s is not a directory", rootfs)
	}
	join, newFlags, err := namespaces(spec.Linux.Namespaces)
	if err != nil {
		return nil, nil, nil, err
	}
	if p := nsenter.HostMountNS(); p != "" && !hasNamespace(spec.Linux.Namespaces, specs.MountNamespace) {
		join = append(join, nsJoin{typ: "mnt", path: p})
	}
	if spec.Process.Terminal && o.ConsoleSocket == "" && o.consoleConn == nil {
		return nil, nil, nil, errors.New("process.terminal is true: a --console-socket is needed to receive the pty")
	}
	mgr, err := cgroups.New(spec.Linux.CgroupsPath, o.ID, o.SystemdCgroup)
	if err != nil {
		return nil, nil, nil, err
	}

	if err := os.MkdirAll(o.Root, 0o700); err != nil {
		return nil, nil, nil, fmt.Errorf("create state root: %w", err)
	}
	dir := filepath.Join(o.Root, o.ID)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, nil, nil, fmt.Errorf("container %s %w", o.ID, ErrExist)
		}
		return nil, nil, nil, fmt.Errorf("create state dir: %w", err)
	}
	var cgroupUsed bool
	// The cgroup is made while the init starts and its limits are written
	// while the init sets itself up, as runc does (it writes them when the
	// init reports ready). waitCgroup and waitSet return once each is
	// done; waitSet before any hook runs and before create returns, so the
	// limits are in place before the user process can start.
	waitCgroup, waitSet := noWait, noWait
	defer func() {
		if err != nil {
			if ch != nil {
				ch.kill()
			}
			if cgroupUsed {
				waitCgroup()
				waitSet()
				mgr.Destroy()
			}
			os.RemoveAll(dir)
		}
	}()

	fifoPath := filepath.Join(dir, runstate.FifoName)
	if err := unix.Mkfifo(fifoPath, 0o600); err != nil {
		return nil, nil, nil, fmt.Errorf("mkfifo %s: %w", fifoPath, err)
	}
	// The init opens the fifo as the container's root, which in a user
	// namespace is another host uid.
	if uid, gid := rootIDs(spec.Linux.UIDMappings, spec.Linux.GIDMappings); uid != 0 || gid != 0 {
		if err := os.Chown(fifoPath, uid, gid); err != nil {
			return nil, nil, nil, fmt.Errorf("chown %s: %w", fifoPath, err)
		}
	}
	fifo, err := os.OpenFile(fifoPath, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open %s: %w", fifoPath, err)
	}
	defer fifo.Close()

	extra := preservedFiles(o.PreserveFds)
	cfg := &initConfig{
		ID:           o.ID,
		Spec:         raw,
		Rootfs:       rootfs,
		Bundle:       bundle,
		NoPivot:      o.NoPivot,
		NoNewKeyring: o.NoNewKeyring,
		NewUTS:       newFlags&unix.CLONE_NEWUTS != 0,
		HostMounts:   !hasNamespace(spec.Linux.Namespaces, specs.MountNamespace),
		PreserveFds:  o.PreserveFds,
		ExtraEnv:     o.ExtraEnv,
		FifoFd:       3 + len(extra),
		ConsoleFd:    -1,
	}
	extra = append(extra, fifo)
	if spec.Process.Terminal {
		console := o.consoleConn
		if console == nil {
			console, err = dialConsole(o.ConsoleSocket)
			if err != nil {
				return nil, nil, nil, err
			}
			defer console.Close()
		}
		cfg.ConsoleFd = 3 + len(extra)
		extra = append(extra, console)
	}

	// Idmapped mounts (a mount's uidMappings) are made through the
	// container's own user namespace, so they must map as it does.
	var idmapped []int
	for i, m := range spec.Mounts {
		if len(m.UIDMappings) == 0 && len(m.GIDMappings) == 0 {
			continue
		}
		if newFlags&unix.CLONE_NEWUSER == 0 || cfg.HostMounts {
			return nil, nil, nil, fmt.Errorf("mount %s: uidMappings and gidMappings need a new user namespace", m.Destination)
		}
		if !slices.Equal(m.UIDMappings, spec.Linux.UIDMappings) || !slices.Equal(m.GIDMappings, spec.Linux.GIDMappings) {
			return nil, nil, nil, fmt.Errorf("mount %s: its uidMappings and gidMappings must be the container's", m.Destination)
		}
		idmapped = append(idmapped, i)
	}
	var srcFiles map[int]*os.File
	if newFlags&unix.CLONE_NEWUSER != 0 && !cfg.HostMounts {
		srcs, err := rfs.OpenBindSources(bundle, spec.Mounts)
		if err != nil {
			return nil, nil, nil, err
		}
		srcFiles = srcs
		cfg.MountFds = map[int]int{}
		for i, f := range srcs {
			defer f.Close()
			cfg.MountFds[i] = 3 + len(extra)
			extra = append(extra, f)
		}
		for _, j := range join {
			if j.typ != "net" {
				continue
			}
			i, f, err := rfs.OpenSysfs(j.path, spec.Mounts)
			if err != nil {
				return nil, nil, nil, err
			}
			if f != nil {
				defer f.Close()
				cfg.MountFds[i] = 3 + len(extra)
				extra = append(extra, f)
			}
		}
	}
	filter := compileAsync(o.Root, spec.Linux.Seccomp)
	cgJoin := ""
	if selfJoinPossible(join, newFlags) {
		// The init joins the cgroup itself, after stage1's ack: making the
		// cgroup (a mkdir per v1 hierarchy, about a millisecond) overlaps
		// the init's exec and namespace set-up.
		cgroupUsed = true
		cgJoin = joinPlanEnv(mgr)
		waitCgroup = goWait(mgr.Prepare)
	}
	ch, err = spawn(spawnOpts{
		mode:     "init",
		dir:      bundle,
		join:     join,
		newFlags: newFlags,
		stdin:    orStd(o.Stdin, os.Stdin),
		stdout:   orStd(o.Stdout, os.Stdout),
		stderr:   orStd(o.Stderr, os.Stderr),
		extra:    extra,
		userns: func(pid int) error {
			if err := writeIDMaps(pid, spec.Linux.UIDMappings, spec.Linux.GIDMappings); err != nil {
				return err
			}
			for _, i := range idmapped {
				f := srcFiles[i]
				if f == nil {
					return fmt.Errorf("mount %s: uidMappings on a mount that is not a bind", spec.Mounts[i].Destination)
				}
				if err := rfs.IDMap(f, pid, rfs.IsRecursiveBind(&spec.Mounts[i])); err != nil {
					return err
				}
			}
			return nil
		},
		stage1: func(pid int) error {
			cgroupUsed = true
			if err := waitCgroup(); err != nil {
				return fmt.Errorf("create cgroup: %w", err)
			}
			if cgJoin == "" {
				if err := mgr.Apply(pid); err != nil {
					return fmt.Errorf("join cgroup: %w", err)
				}
			}
			// Taken now: spec is a named result, which a failing
			// return sets to nil while this may still run.
			res := cgroupResources(spec.Linux.Resources)
			waitSet = goWait(func() error { return mgr.Set(res) })
			return nil
		},
		cgroupJoin: cgJoin,
	})
	if err != nil {
		return nil, ch, nil, err
	}
	cfg.Pid = ch.pid
	if cfg.Seccomp, err = filter(); err != nil {
		return nil, ch, nil, err
	}
	h, err := decodeHooks(spec.Hooks)
	if err != nil {
		return nil, ch, nil, err
	}
	cfg.ParentHooks = h != nil && (len(h.Prestart) > 0 || len(h.CreateRuntime) > 0)
	if err := ch.send(cfg); err != nil {
		return nil, ch, nil, err
	}
	err = ch.wait(false, func() error {
		if err := waitSet(); err != nil {
			return err
		}
		st := hookState(o.ID, bundle, ch.pid, spec.Annotations, Created)
		if err := runHooks("prestart", h.Prestart, st); err != nil {
			return err
		}
		return runHooks("createRuntime", h.CreateRuntime, st)
	})
	if err == nil {
		err = waitSet()
	}
	if err != nil {
		return nil, ch, nil, err
	}
	start, _, err := runstate.ProcStart(ch.pid)
	if err != nil {
		return nil, ch, nil, fmt.Errorf("init process %d: %w", ch.pid, err)
	}
	c = &Container{Record: runstate.Record{
		Format:      runstate.Format,
		ID:          o.ID,
		Bundle:      bundle,
		Rootfs:      rootfs,
		InitPid:     ch.pid,
		InitStart:   start,
		Created:     time.Now().UTC(),
		Owner:       "",
		CgroupPaths: mgr.Paths(),
		Annotations: spec.Annotations,
		Hooks:       spec.Hooks,
	}, dir: dir}
	if err := os.WriteFile(filepath.Join(dir, runstate.ConfigFile), raw, 0o600); err != nil {
		return nil, ch, nil, fmt.Errorf("write state: %w", err)
	}
	if err := c.save(); err != nil {
		return nil, ch, nil, err
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, ch.pid); err != nil {
			return nil, ch, nil, err
		}
	}
	return c, ch, spec, nil
}

// loadSpec reads and checks bundle/config.json; it also returns the raw
// bytes, which are passed on as they are.
func loadSpec(bundle string) (*parentSpec, []byte, error) {
	path := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load config.json: %w", err)
	}
	var spec parentSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return nil, nil, fmt.Errorf("%s: root.path is missing", path)
	}
	if spec.Process == nil {
		return nil, nil, fmt.Errorf("%s: process is missing", path)
	}
	if len(spec.Process.Args) == 0 {
		return nil, nil, fmt.Errorf("%s: process.args is empty", path)
	}
	if spec.Linux == nil {
		spec.Linux = &parentLinux{}
	}
	return &spec, data, nil
}

// decodeHooks decodes the hooks section; nil when there is none.
func decodeHooks(raw json.RawMessage) (*specs.Hooks, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var h specs.Hooks
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, fmt.Errorf("parse hooks: %w", err)
	}
	return &h, nil
}

// namespaces splits the spec's namespaces into ones to join and clone flags
// for new ones.
func namespaces(list []specs.LinuxNamespace) ([]nsJoin, int, error) {
	var join []nsJoin
	flags := 0
	seen := map[specs.LinuxNamespaceType]bool{}
	for _, ns := range list {
		f, ok := nsFlag[string(ns.Type)]
		if !ok {
			return nil, 0, fmt.Errorf("unknown namespace type %q in config.json", ns.Type)
		}
		if seen[ns.Type] {
			return nil, 0, fmt.Errorf("namespace %q listed twice in config.json", ns.Type)
		}
		seen[ns.Type] = true
		if ns.Path == "" {
			flags |= f.flag
			continue
		}
		if _, err := os.Stat(ns.Path); err != nil {
			return nil, 0, fmt.Errorf("namespace %s: %w", ns.Type, err)
		}
		join = append(join, nsJoin{typ: f.name, path: ns.Path})
	}
	return join, flags, nil
}

// writeIDMaps writes the user namespace's id maps of pid.
func writeIDMaps(pid int, uids, gids []specs.LinuxIDMapping) error {
	write := func(file string, maps []specs.LinuxIDMapping) error {
		var b []byte
		for _, m := range maps {
			b = fmt.Appendf(b, "%d %d %d\n", m.ContainerID, m.HostID, m.Size)
		}
		path := "/proc/" + strconv.Itoa(pid) + "/" + file
		if err := os.WriteFile(path, b, 0); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}
	if len(uids) == 0 || len(gids) == 0 {
		return errors.New("a new user namespace needs linux.uidMappings and linux.gidMappings")
	}
	if err := write("uid_map", uids); err != nil {
		return err
	}
	return write("gid_map", gids)
}

// preservedFiles wraps our fds 3..3+n-1, which --preserve-fds passes on.
func preservedFiles(n int) []*os.File {
	var fs []*os.File
	for i := 0; i < n; i++ {
		fs = append(fs, os.NewFile(uintptr(3+i), "preserved-"+strconv.Itoa(3+i)))
	}
	return fs
}

func dialConsole(path string) (*os.File, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("console socket %s: %w", path, err)
	}
	defer conn.Close()
	f, err := conn.(*net.UnixConn).File()
	if err != nil {
		return nil, fmt.Errorf("console socket %s: %w", path, err)
	}
	return f, nil
}

// writePidFile writes pid atomically: callers (containerd, conmon) read
// the file as soon as the command exits, or watch for it.
func writePidFile(path string, pid int) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

func orStd(f, def *os.File) *os.File {
	if f != nil {
		return f
	}
	return def
}

// rootIDs are the host uid and gid of the container's root (0 without a
// user namespace mapping).
func rootIDs(uids, gids []specs.LinuxIDMapping) (int, int) {
	host := func(maps []specs.LinuxIDMapping) int {
		for _, m := range maps {
			if m.ContainerID == 0 {
				return int(m.HostID)
			}
		}
		return 0
	}
	return host(uids), host(gids)
}

func hasNamespace(list []specs.LinuxNamespace, t specs.LinuxNamespaceType) bool {
	for _, ns := range list {
		if ns.Type == t {
			return true
		}
	}
	return false
}

// selfJoinPossible reports whether the init can join its cgroup by itself
// (cgroups.Manager.JoinPlan): it must still see the host's cgroup
// filesystem with the host's root, so neither a user namespace nor a
// mount namespace of the container's own choosing may be involved. The
// host's mount namespace, joined when the config has none, is fine.
func selfJoinPossible(join []nsJoin, newFlags int) bool {
	if newFlags&unix.CLONE_NEWUSER != 0 {
		return false
	}
	host := nsenter.HostMountNS()
	for _, j := range join {
		if j.typ == "user" || (j.typ == "mnt" && j.path != host) {
			return false
		}
	}
	return true
}

func noWait() error { return nil }

// goWait runs fn in the background and returns a function that waits for
// its result; it may be called any number of times.
func goWait(fn func() error) func() error {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	return sync.OnceValue(func() error { return <-ch })
}

// joinPlanEnv renders mgr's JoinPlan for nsenter (spawnOpts.cgroupJoin).
func joinPlanEnv(mgr cgroups.Manager) string {
	tasks, unified, optional := mgr.JoinPlan()
	var b strings.Builder
	for _, t := range tasks {
		fmt.Fprintf(&b, "tasks %s\n", t)
	}
	if unified != "" {
		need := "required"
		if optional {
			need = "optional"
		}
		fmt.Fprintf(&b, "clone %s %s\n", unified, need)
	}
	return b.String()
}
