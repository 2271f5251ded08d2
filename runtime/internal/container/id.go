package container

import (
	"fmt"
	"regexp"
)

// idPattern is the set of ids runc accepts; it keeps an id usable as a single
// path component (no "/", no "..") and as a cgroup name.
var idPattern = regexp.MustCompile(`^[\w+\-.]+$`)

// ValidateID rejects ids that are empty or could escape the state root.
func ValidateID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty", ErrBadID)
	}
	if id == "." || id == ".." || !idPattern.MatchString(id) {
		return fmt.Errorf("%w %q: use letters, digits, and _ + - . only", ErrBadID, id)
	}
	if len(id) > 1024 {
		return fmt.Errorf("%w: longer than 1024 characters", ErrBadID)
	}
	return nil
}
