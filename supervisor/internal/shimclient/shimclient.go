// Package shimclient starts containerd shims for berthd (the daemon
// directly, with the socket `start` would have made; then the task API
// over ttrpc), reconnects to them after
// a restart from the bundle's address file, and runs the `delete` action
// for a shim that is gone.
package shimclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	taskapi "github.com/containerd/containerd/api/runtime/task/v2"
	runcopts "github.com/containerd/containerd/api/types/runc/options"
	"github.com/containerd/ttrpc"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/berth-project/berth/internal/oomscore"
)

// Namespace is the containerd namespace berthd's shims run in.
const Namespace = "berth"

// Config says which shim binary to run and where its caller listens.
type Config struct {
	// Binary is the shim's path (containerd-shim-berth-v2).
	Binary string
	// Address is berthd's ttrpc socket: the shim's -address, and
	// TTRPC_ADDRESS, where it forwards task events.
	Address string
	// Runtime is the OCI runtime binary and RuntimeRoot its --root.
	Runtime     string
	RuntimeRoot string
}

// Shim is a connection to one container's shim.
type Shim struct {
	Address string
	conn    *ttrpc.Client
	Task    taskapi.TTRPCTaskService
	closed  chan struct{}
}

// Spawn starts the shim daemon for a container, as its `start` action
// would but one process sooner: berthd creates the socket, hands it to
// the daemon as fd 3 (the daemon's whole contract with `start`), writes
// the bundle's address file and connects. containerd keeps using
// `start`. The daemon runs in its own process group, so a ^C meant for a
// foreground berthd does not reach it; berthd reaps it if it outlives
// the daemon, and init does otherwise.
func Spawn(ctx context.Context, cfg Config, id, bundle string) (_ *Shim, err error) {
	path := socketPath(cfg.Address, id)
	if err := os.MkdirAll(filepath.Dir(path), 0o711); err != nil {
		return nil, fmt.Errorf("shim socket dir: %w", err)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("start shim: a shim for %s already listens on %s", id, path)
	}
	os.Remove(path) // a dead shim's
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("start shim: %w", err)
	}
	l.SetUnlinkOnClose(false)
	defer func() {
		if err != nil {
			os.Remove(path)
		}
	}()
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("start shim: %w", err)
	}
	lf, err := l.File()
	l.Close()
	if err != nil {
		return nil, fmt.Errorf("start shim: %w", err)
	}
	defer lf.Close()
	cmd := exec.Command(cfg.Binary, "-namespace", Namespace, "-id", id, "-address", cfg.Address)
	cmd.Dir = bundle
	cmd.Env = append(os.Environ(), "TTRPC_ADDRESS="+cfg.Address)
	cmd.ExtraFiles = []*os.File{lf} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start shim: %w", err)
	}
	go cmd.Wait()
	defer func() {
		if err != nil {
			cmd.Process.Kill()
		}
	}()
	oomscore.Follow(cmd.Process.Pid)
	address := "unix://" + path
	if err := os.WriteFile(filepath.Join(bundle, "address"), []byte(address), 0o644); err != nil {
		return nil, fmt.Errorf("shim address file: %w", err)
	}
	return Connect(ctx, address)
}

// maxSocketPath is sun_path's size minus its terminating NUL, as the
// shim's own `start` counts it.
const maxSocketPath = 106

// socketPath is s/<sha256 of berthd's address and the id> next to
// berthd's socket, or under /run/berth/s when that would be too long.
func socketPath(callerAddress, id string) string {
	sum := sha256.Sum256([]byte(callerAddress + "\x00" + Namespace + "\x00" + id))
	name := hex.EncodeToString(sum[:])
	dir := filepath.Join(filepath.Dir(callerAddress), "s")
	if len(dir)+1+len(name) > maxSocketPath {
		dir = "/run/berth/s"
	}
	return filepath.Join(dir, name)
}

// Connect dials a shim's address (unix://PATH).
func Connect(ctx context.Context, address string) (*Shim, error) {
	path, ok := strings.CutPrefix(address, "unix://")
	if !ok {
		return nil, fmt.Errorf("shim address %q: want unix://PATH", address)
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("connect to shim: %w", err)
	}
	s := &Shim{Address: address, closed: make(chan struct{})}
	s.conn = ttrpc.NewClient(conn, ttrpc.WithOnClose(func() { close(s.closed) }))
	s.Task = taskapi.NewTTRPCTaskClient(s.conn)
	return s, nil
}

// ConnectBundle reconnects to the shim whose address file is in bundle.
func ConnectBundle(ctx context.Context, bundle string) (*Shim, error) {
	b, err := os.ReadFile(filepath.Join(bundle, "address"))
	if err != nil {
		return nil, err
	}
	return Connect(ctx, strings.TrimSpace(string(b)))
}

// Close closes the connection (the shim keeps running).
func (s *Shim) Close() error { return s.conn.Close() }

// Closed is closed when the connection is gone (the shim exited).
func (s *Shim) Closed() <-chan struct{} { return s.closed }

// Context adds the namespace containerd passes with every task call.
func Context(ctx context.Context) context.Context {
	return ttrpc.WithMetadata(ctx, ttrpc.MD{"containerd-namespace-ttrpc": []string{Namespace}})
}

// RuntimeOptions are the Create request's options: which runtime binary
// the shim runs and with which --root.
func RuntimeOptions(cfg Config) (*anypb.Any, error) {
	a, err := typeurl.MarshalAny(&runcopts.Options{BinaryName: cfg.Runtime, Root: cfg.RuntimeRoot})
	if err != nil {
		return nil, err
	}
	return &anypb.Any{TypeUrl: a.GetTypeUrl(), Value: a.GetValue()}, nil
}

// Delete runs the shim's `delete` action for a shim that is gone: it
// force-deletes the container from the runtime and unmounts the bundle's
// rootfs. The response carries the recorded exit status, if any.
func Delete(ctx context.Context, cfg Config, id, bundle string) (*taskapi.DeleteResponse, error) {
	cmd := exec.CommandContext(ctx, cfg.Binary, "-namespace", Namespace, "-address", cfg.Address, "-id", id, "-bundle", bundle, "delete")
	cmd.Dir = bundle
	if _, err := os.Stat(bundle); err != nil {
		cmd.Dir = "/"
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("shim delete: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var resp taskapi.DeleteResponse
	if err := proto.Unmarshal(stdout.Bytes(), &resp); err != nil {
		return nil, fmt.Errorf("shim delete: %w", err)
	}
	return &resp, nil
}

// IsGone reports errors that mean the shim (or its connection) is gone.
func IsGone(err error) bool {
	return errors.Is(err, ttrpc.ErrClosed) || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrNotExist)
}
