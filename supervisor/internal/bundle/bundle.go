// Package bundle lays out what berthd keeps for one container on disk and
// mounts its root filesystem.
//
// Per container (ID is the 64-hex container ID):
//
//	ROOT/init-layer/               mount points the runtime needs (/etc/hosts, /dev, ...):
//	                               every container's topmost lower layer, so they never
//	                               land in its diff/; the same for all, made once
//	ROOT/containers/ID/            persistent: survives stops and restarts
//	    diff/, work/               the container layer: overlay upper and work dirs
//	    init/                      (containers made before ROOT/init-layer existed)
//	    hosts, hostname, resolv.conf   bind-mounted over the init layer's files
//	    ID-json.log                stdout and stderr, written by the shim
//	STATE/bundles/ID/              one run: removed when the container stops
//	    config.json, rootfs/       the OCI bundle; rootfs is the overlay mount
//	    stdin, stdout, stderr      FIFOs between berthd and the shim
//	    address, init.pid, init.exit, log, ...   the shim's files
package bundle

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Paths names the files of one container.
type Paths struct {
	ID     string
	Dir    string // ROOT/containers/ID
	Bundle string // STATE/bundles/ID
	// Init is the shared init layer, ROOT/init-layer ("": one per
	// container, in Dir).
	Init string
}

// New returns the paths of container id under berthd's root and state.
func New(root, state, id string) Paths {
	return Paths{
		ID:     id,
		Dir:    filepath.Join(root, "containers", id),
		Bundle: filepath.Join(state, "bundles", id),
		Init:   filepath.Join(root, "init-layer"),
	}
}

func (p Paths) Upper() string { return filepath.Join(p.Dir, "diff") }
func (p Paths) Work() string  { return filepath.Join(p.Dir, "work") }

// InitLayer is the container's init layer: its own if it has one (made
// by an older berthd, or Init is unset), else the shared one.
func (p Paths) InitLayer() string {
	own := filepath.Join(p.Dir, "init")
	if p.Init == "" {
		return own
	}
	if _, err := os.Lstat(own); err == nil {
		return own
	}
	return p.Init
}
func (p Paths) Hosts() string      { return filepath.Join(p.Dir, "hosts") }
func (p Paths) Hostname() string   { return filepath.Join(p.Dir, "hostname") }
func (p Paths) ResolvConf() string { return filepath.Join(p.Dir, "resolv.conf") }
func (p Paths) Log() string        { return filepath.Join(p.Dir, p.ID+"-json.log") }
func (p Paths) Rootfs() string     { return filepath.Join(p.Bundle, "rootfs") }
func (p Paths) Spec() string       { return filepath.Join(p.Bundle, "config.json") }
func (p Paths) Address() string    { return filepath.Join(p.Bundle, "address") }

// FIFO is the path of a stdio FIFO of the init process (execID "") or
// of an exec.
func (p Paths) FIFO(execID, stream string) string {
	if execID == "" {
		return filepath.Join(p.Bundle, stream)
	}
	return filepath.Join(p.Bundle, "exec-"+execID+"-"+stream)
}

// InitPath is where --init's binary appears in the container, as in
// Docker.
const InitPath = "/sbin/docker-init"

// initLayer lists the mount points every container needs. Creating them
// in a layer of their own keeps the runtime from writing them into the
// container layer (where diff and commit would see them) and lets a
// read-only rootfs get its /etc/hosts.
var initLayer = []struct {
	path string
	dir  bool
}{
	{"dev", true}, {"dev/pts", true}, {"dev/shm", true}, {"proc", true}, {"sys", true},
	{"etc", true}, {"etc/hosts", false}, {"etc/hostname", false}, {"etc/resolv.conf", false},
	{"dev/console", false}, {"sbin", true}, {"sbin/docker-init", false},
}

// Create makes the persistent directories: container layer and init layer.
func (p Paths) Create() error {
	for _, d := range []string{p.Upper(), p.Work()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	os.Chmod(p.Upper(), 0o755)
	if p.Init == "" {
		return makeInitLayer(p.InitLayer())
	}
	return ensureInitLayer(p.Init)
}

// makeInitLayer writes the init layer's mount points into dir.
func makeInitLayer(dir string) error {
	for _, e := range initLayer {
		path := filepath.Join(dir, e.path)
		var err error
		if e.dir {
			err = os.MkdirAll(path, 0o755)
		} else {
			err = os.WriteFile(path, nil, 0o644)
		}
		if err != nil {
			return fmt.Errorf("init layer: %w", err)
		}
	}
	return nil
}

// ensureInitLayer makes the shared init layer at dir unless it is there.
// It is built aside and renamed into place, so that it is complete
// whenever it exists: a dozen directories and files per container, made
// at create and removed at rm, were a visible part of both.
func ensureInitLayer(dir string) error {
	if _, err := os.Lstat(dir); err == nil {
		return nil
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".init-layer-")
	if err != nil {
		return fmt.Errorf("init layer: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("init layer: %w", err)
	}
	if err := makeInitLayer(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		// Another create made it first.
		if _, serr := os.Lstat(dir); serr == nil {
			return nil
		}
		return fmt.Errorf("init layer: %w", err)
	}
	return nil
}

// RemoveAll deletes everything of the container, persistent files too.
func (p Paths) RemoveAll() error {
	if err := discard(p.Bundle); err != nil {
		return err
	}
	return discard(p.Dir)
}

// trashDir is where discard moves directories: next to the containers or
// bundles directory that dir is in, so on the same file system.
func trashDir(dir string) string { return filepath.Join(filepath.Dir(filepath.Dir(dir)), "trash") }

// discard removes dir: it is renamed into the trash at once and deleted in
// the background. Deleting a run's dozen files took a millisecond or two
// here, on the way out of every `run --rm`; the rename frees the name for
// the container's next run or for another container. What a crash leaves
// in the trash goes at the next start (SweepTrash). If dir cannot be
// renamed it is deleted in place.
func discard(dir string) error {
	trash := trashDir(dir)
	if err := os.MkdirAll(trash, 0o700); err == nil {
		b := make([]byte, 6)
		rand.Read(b)
		dst := filepath.Join(trash, filepath.Base(dir)+"-"+hex.EncodeToString(b))
		if os.Rename(dir, dst) == nil {
			go os.RemoveAll(dst)
			return nil
		}
	}
	return os.RemoveAll(dir)
}

// SweepTrash deletes what discard left in the trash of root and state
// (a crash while deleting), in the background.
func SweepTrash(root, state string) {
	for _, d := range []string{filepath.Join(root, "trash"), filepath.Join(state, "trash")} {
		go os.RemoveAll(d)
	}
}

// MakeBundle creates the bundle directory with its rootfs mount point.
func (p Paths) MakeBundle() error {
	if err := os.MkdirAll(p.Rootfs(), 0o711); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	// The shim writes its warnings to "log" (a FIFO under containerd):
	// a plain file keeps them.
	f, err := os.OpenFile(filepath.Join(p.Bundle, "log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// RemoveBundle deletes the bundle directory of a run. The rootfs must be
// unmounted: removing through a mount would delete the container's files.
func (p Paths) RemoveBundle() error {
	if Mounted(p.Rootfs()) {
		return fmt.Errorf("remove bundle %s: rootfs still mounted", p.Bundle)
	}
	return discard(p.Bundle)
}

// WriteSpec writes config.json.
func (p Paths) WriteSpec(s *specs.Spec) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return os.WriteFile(p.Spec(), b, 0o600)
}

// ReadSpec reads config.json back.
func (p Paths) ReadSpec() (*specs.Spec, error) {
	b, err := os.ReadFile(p.Spec())
	if err != nil {
		return nil, err
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", p.Spec(), err)
	}
	return &s, nil
}

// MakeFIFO creates a FIFO (an existing one is reused).
func MakeFIFO(path string) error {
	if err := unix.Mkfifo(path, 0o600); err != nil && !errors.Is(err, unix.EEXIST) {
		return &os.PathError{Op: "mkfifo", Path: path, Err: err}
	}
	return nil
}
