// Package errcat makes errors that carry a category (a package's
// ErrNotFound, ErrInUse...) without repeating it in the message: the API
// edge maps the category to a status code (errors.Is) and shows the
// message as it is.
package errcat

import "fmt"

type categorized struct {
	category error
	err      error
}

func (e *categorized) Error() string        { return e.err.Error() }
func (e *categorized) Unwrap() error        { return e.err }
func (e *categorized) Is(target error) bool { return target == e.category }

// Errorf formats an error (as fmt.Errorf; %w works) of the given category.
func Errorf(category error, format string, args ...any) error {
	return &categorized{category, fmt.Errorf(format, args...)}
}
