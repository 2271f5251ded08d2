package containers

import "errors"

// Error categories, mapped to ttrpc status codes once, at the API edge.
var (
	ErrNotFound        = errors.New("not found")
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrConflict: a name in use, removing a running container.
	ErrConflict = errors.New("conflict")
	// ErrNotRunning and friends: the container is not in a state the
	// operation works in.
	ErrFailedPrecondition = errors.New("failed precondition")
)
