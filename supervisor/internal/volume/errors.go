package volume

import (
	"errors"

	"github.com/berth-project/berth/supervisor/internal/errcat"
)

// Error categories, mapped to ttrpc status codes at the API edge.
var (
	ErrNotFound        = errors.New("not found")
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrInUse is returned when removing a volume that containers use.
	ErrInUse = errors.New("in use")
)

// errorf formats an error of the given category (errcat).
func errorf(category error, format string, args ...any) error {
	return errcat.Errorf(category, format, args...)
}
