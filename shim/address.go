package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// defaultSocketDir is where containerd's own shims put their sockets.
const defaultSocketDir = "/run/containerd/s"

// maxSocketPath is sun_path's size minus room for the terminating NUL
// (containerd uses the same limit).
const maxSocketPath = 106

// socketDir picks the directory of the shim's socket: "s" next to the
// caller's socket (so /run/containerd/s for the default containerd, and a
// temp dir for a test instance), unless that path would be too long.
func socketDir(callerAddress string) string {
	if callerAddress == "" {
		return defaultSocketDir
	}
	dir := filepath.Join(filepath.Dir(strings.TrimPrefix(callerAddress, "unix://")), "s")
	if !filepath.IsAbs(dir) || len(dir)+1+sha256.Size*2 > maxSocketPath {
		return defaultSocketDir
	}
	return dir
}

// socketAddress is unix://DIR/<sha256 of caller address/namespace/group>:
// the same inputs always give the same socket, which lets `start` find a
// group's running shim.
func socketAddress(dir, callerAddress, namespace, group string) string {
	sum := sha256.Sum256([]byte(filepath.Join(callerAddress, namespace, group)))
	return "unix://" + filepath.Join(dir, hex.EncodeToString(sum[:]))
}

func socketPath(address string) string { return strings.TrimPrefix(address, "unix://") }

// listen creates the socket, owner-only. ok is false when a live shim
// already listens there.
func listen(address string) (l *net.UnixListener, ok bool, err error) {
	path := socketPath(address)
	if len(path) > maxSocketPath {
		return nil, false, fmt.Errorf("socket path %s is longer than %d bytes", path, maxSocketPath)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o711); err != nil {
		return nil, false, err
	}
	for attempt := 0; ; attempt++ {
		l, err = net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EADDRINUSE) || attempt > 0 {
			return nil, false, fmt.Errorf("listen %s: %w", path, err)
		}
		if canConnect(path) {
			return nil, false, nil
		}
		os.Remove(path) // a dead shim's socket
	}
	// Closing the listener must not remove the socket: the daemon keeps
	// serving on its copy of the fd.
	l.SetUnlinkOnClose(false)
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		os.Remove(path)
		return nil, false, err
	}
	return l, true, nil
}

func canConnect(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
