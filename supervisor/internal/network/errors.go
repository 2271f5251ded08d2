package network

import (
	"errors"

	"github.com/berth-project/berth/supervisor/internal/errcat"
)

// Error categories, mapped to ttrpc status codes at the API edge.
var (
	ErrNotFound        = errors.New("not found")
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrConflict: a name, subnet or port already taken.
	ErrConflict = errors.New("conflict")
	// ErrInUse: a network that containers are attached to.
	ErrInUse = errors.New("in use")
	// ErrNotAttached: the container has no network endpoint (not running).
	ErrNotAttached = errors.New("not attached")
)

// errorf formats an error of the given category (errcat).
func errorf(category error, format string, args ...any) error {
	return errcat.Errorf(category, format, args...)
}
