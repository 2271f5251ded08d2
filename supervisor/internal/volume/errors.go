package volume

import (
	"errors"
	"fmt"
)

// Error categories, mapped to ttrpc status codes at the API edge.
var (
	ErrNotFound        = errors.New("not found")
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrInUse is returned when removing a volume that containers use.
	ErrInUse = errors.New("in use")
)

// categorized is an error of one of the categories above whose message
// does not repeat the category: the API edge maps the category to a
// status code and shows the message as it is.
type categorized struct {
	category error
	err      error
}

func (e *categorized) Error() string        { return e.err.Error() }
func (e *categorized) Unwrap() error        { return e.err }
func (e *categorized) Is(target error) bool { return target == e.category }

// errorf formats an error of the given category (fmt.Errorf, %w works).
func errorf(category error, format string, args ...any) error {
	return &categorized{category, fmt.Errorf(format, args...)}
}
