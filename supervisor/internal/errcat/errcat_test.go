package errcat

import (
	"errors"
	"io/fs"
	"testing"
)

func TestErrorf(t *testing.T) {
	errNotFound := errors.New("not found")
	err := Errorf(errNotFound, "volume %q: %w", "v1", fs.ErrNotExist)
	if err.Error() != `volume "v1": file does not exist` {
		t.Errorf("message %q repeats or loses something", err)
	}
	if !errors.Is(err, errNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is misses the category or the wrapped error")
	}
	if errors.Is(err, errors.New("not found")) {
		t.Errorf("matched another error with the same text")
	}
}
