package specs

import (
	"errors"
	"fmt"
)

// ErrNoArgs is returned by WithArgs when it is given no arguments: a
// container's process needs at least the program to run.
var ErrNoArgs = errors.New("empty process args")

// ErrNoCommand is returned by NewDocker when neither the image nor the
// options gave the container a command to run; the text is Docker's.
var ErrNoCommand = errors.New("no command specified")

// ErrInvalid marks every error caused by a bad value from a user or an
// image: a flag, an image config field, a seccomp profile. berthd maps it to
// InvalidArgument with errors.Is. Its text is the first word of those
// errors: `invalid memory size "12x": unknown unit "x"`.
var ErrInvalid = errors.New("invalid")

// invalidf returns an error wrapping ErrInvalid that reads
// "invalid " + the formatted text.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w "+format, append([]any{ErrInvalid}, args...)...)
}
