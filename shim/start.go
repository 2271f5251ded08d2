package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/berth-project/berth/internal/oomscore"
	"github.com/berth-project/berth/shim/internal/api"
	"github.com/berth-project/berth/shim/internal/bundle"
	"github.com/berth-project/berth/shim/internal/wire"
)

// runStart is the `start` action: containerd runs it with the bundle as
// working directory and reads everything it prints as the shim's address,
// so only the address goes to stdout, and the daemon gets /dev/null as its
// stdio (containerd would otherwise wait for the daemon to exit).
//
// It creates the socket, starts the daemon (this binary without an action)
// in its own process group with the listener as fd 3, writes the bundle's
// `address` file and prints the address. When the group's shim already
// runs, it only prints that shim's address.
func runStart(o *options, stdout io.Writer) (err error) {
	if err := o.need("start", true, true, false); err != nil {
		return err
	}
	bundleDir, err := os.Getwd()
	if err != nil {
		return err
	}
	params := readStartInput(os.Stdin, o)

	group := o.id
	if spec, err := bundle.ReadSpec(bundleDir); err == nil {
		for _, key := range []string{bundle.AnnotationGroup, bundle.AnnotationSandbox} {
			if g := spec.Annotations[key]; g != "" {
				group = g
				break
			}
		}
	}
	dir := params.socketDir
	if dir == "" {
		dir = socketDir(o.address)
	}
	address := socketAddress(dir, o.address, o.namespace, group)
	l, fresh, err := listen(address)
	if err != nil {
		return err
	}
	if !fresh {
		if err := writeFile(filepath.Join(bundleDir, "address"), address); err != nil {
			return err
		}
		_, err = fmt.Fprint(stdout, address)
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(socketPath(address))
		}
	}()
	lf, err := l.File()
	l.Close()
	if err != nil {
		return err
	}
	defer lf.Close()

	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"-namespace", o.namespace, "-id", o.id, "-address", o.address}
	if o.debug {
		args = append(args, "-debug")
	}
	cmd := exec.Command(self, args...)
	cmd.Dir = bundleDir
	cmd.ExtraFiles = []*os.File{lf} // fd 3
	// Its own process group: signals to containerd's group (a ^C on a
	// foreground containerd) must not reach the shim.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start shim daemon: %w", err)
	}
	defer func() {
		if err != nil {
			cmd.Process.Kill()
		}
		cmd.Process.Release() // the daemon outlives us; init reaps it
	}()
	if err := writeFile(filepath.Join(bundleDir, "address"), address); err != nil {
		return err
	}
	if params.shimCgroup != "" {
		if err := joinCgroup(cmd.Process.Pid, params.shimCgroup); err != nil {
			return err
		}
	}
	oomscore.Follow(cmd.Process.Pid)
	_, err = fmt.Fprint(stdout, address)
	return err
}

// startParams is what `start` may receive on stdin.
type startParams struct {
	shimCgroup string
	socketDir  string
}

// readStartInput decodes stdin: containerd 2.3+ sends BootstrapParams
// (recognised by matching id and namespace), older ones the runtime
// options as an Any, or nothing.
func readStartInput(r io.Reader, o *options) startParams {
	var p startParams
	data, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil || len(data) == 0 {
		return p
	}
	var bp api.BootstrapParams
	if wire.Unmarshal(data, &bp) == nil && bp.InstanceID == o.id && bp.Namespace == o.namespace {
		if bp.SocketDir != nil {
			p.socketDir = *bp.SocketDir
		}
		for _, ext := range bp.Extensions {
			if ro := runcOptions(ext.Value); ro != nil {
				p.shimCgroup = ro.ShimCgroup
			}
		}
		return p
	}
	var a api.Any
	if wire.Unmarshal(data, &a) == nil {
		if ro := runcOptions(&a); ro != nil {
			p.shimCgroup = ro.ShimCgroup
		}
	}
	return p
}

func runcOptions(a *api.Any) *api.Options {
	if a == nil || !strings.HasSuffix(a.TypeUrl, api.OptionsURL) {
		return nil
	}
	var o api.Options
	if wire.Unmarshal(a.Value, &o) != nil {
		return nil
	}
	return &o
}

// joinCgroup moves pid into cgroup path (relative to each hierarchy's
// root): the unified one on cgroup v2, every v1 hierarchy that has it.
func joinCgroup(pid int, path string) error {
	procs := strconv.Itoa(pid)
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return os.WriteFile(filepath.Join("/sys/fs/cgroup", path, "cgroup.procs"), []byte(procs), 0)
	}
	hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
	joined := false
	for _, h := range hierarchies {
		f := filepath.Join(h, path, "cgroup.procs")
		if _, err := os.Stat(f); err != nil {
			continue
		}
		if err := os.WriteFile(f, []byte(procs), 0); err != nil {
			return fmt.Errorf("join shim cgroup %s: %w", f, err)
		}
		joined = true
	}
	if !joined {
		return fmt.Errorf("shim cgroup %s: %w", path, os.ErrNotExist)
	}
	return nil
}

func writeFile(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
