package container

import "errors"

// Sentinel errors. Their texts are what containerd, conmon and podman match
// on ("does not exist", "container not running"), so keep them stable.
var (
	ErrNotExist   = errors.New("does not exist")
	ErrExist      = errors.New("already exists")
	ErrNotRunning = errors.New("container not running")
	ErrBadID      = errors.New("invalid container id")
)
