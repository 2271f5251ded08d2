package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-project/berth/shim/internal/api"
	"github.com/berth-project/berth/shim/internal/bundle"
	"github.com/berth-project/berth/shim/internal/mount"
	"github.com/berth-project/berth/shim/internal/oci"
	"github.com/berth-project/berth/shim/internal/reaper"
	"github.com/berth-project/berth/shim/internal/task"
	"github.com/berth-project/berth/shim/internal/wire"
)

// runDelete is the `delete` action: containerd runs it when a shim died or
// cannot be reached. It force-deletes the container with the runtime that
// created it (options.json), unmounts the rootfs and prints the protobuf
// DeleteResponse, and only that, on stdout. The exit status is the recorded
// one if the shim wrote it, else 137 as for a killed process.
func runDelete(o *options, stdout, stderr io.Writer) error {
	if err := o.need("delete", true, true, false); err != nil {
		return err
	}
	dir := o.bundle
	if dir == "" {
		var err error
		if dir, err = os.Getwd(); err != nil {
			return err
		}
	}
	rt := &oci.Runtime{Log: bundle.RuntimeLog(dir)}
	if opts, err := bundle.ReadOptions(dir); err == nil {
		rt.Binary, rt.Root, rt.SystemdCgroup = opts.Binary, opts.Root, opts.SystemdCgroup
	} else {
		rt.Root = filepath.Join(task.DefaultRuntimeRoot, o.namespace)
		if rt.Binary, err = oci.Resolve(""); err != nil {
			fmt.Fprintf(stderr, "delete %s: runtime: %v\n", o.id, err)
		}
	}
	// runc and berth-runtime keep one directory per container under
	// --root. Without it there is nothing to delete: the usual case, as
	// containerd runs this action even after a clean Delete and Shutdown,
	// and skipping the runtime saves a process on every `ctr run --rm`.
	_, statErr := os.Stat(filepath.Join(rt.Root, o.id))
	if rt.Binary != "" && !os.IsNotExist(statErr) {
		rp, err := reaper.New()
		if err != nil {
			return err
		}
		rt.Reaper = rp
		if err := rt.Delete(o.id, true); err != nil && !oci.NotRunning(err) {
			fmt.Fprintf(stderr, "delete %s: %v\n", o.id, err)
		}
	}
	if err := mount.UnmountAll(bundle.Rootfs(dir)); err != nil {
		fmt.Fprintf(stderr, "delete %s: %v\n", o.id, err)
	}
	resp := &api.DeleteResponse{ExitStatus: 137, ExitedAt: api.NewTimestamp(time.Now())}
	if pid, err := bundle.ReadPid(bundle.PidFile(dir, "")); err == nil {
		resp.Pid = uint32(pid)
	}
	if e, err := bundle.ReadExit(dir, ""); err == nil {
		resp.Pid, resp.ExitStatus, resp.ExitedAt = uint32(e.Pid), uint32(e.ExitStatus), api.NewTimestamp(e.ExitedAt)
	}
	_, err := stdout.Write(wire.Marshal(resp))
	return err
}
