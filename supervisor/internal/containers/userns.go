package containers

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/bundle"
	"github.com/berth-project/berth/supervisor/internal/rootfs"
)

// usernsPrivate is HostConfig.UsernsMode for --user-namespace.
const usernsPrivate = "private"

// Without a "berth" entry in /etc/subuid and /etc/subgid, the ids of
// containers with a user namespace come from [defaultSubIDStart,
// defaultSubIDStart+defaultSubIDSize): far above the ids of users and of
// the subordinate ranges tools hand out from 100000 on.
const (
	defaultSubIDStart = 1 << 31
	defaultSubIDSize  = 1 << 30
	subIDUser         = "berth"
)

// subIDFiles are /etc/subuid and /etc/subgid; tests point them elsewhere.
var subIDFiles = [2]string{"/etc/subuid", "/etc/subgid"}

// usernsRoot is the host id of the container's root, or -1 without a
// user namespace of its own.
func usernsRoot(h *api.HostConfig) int {
	if h.GetUsernsMode() != usernsPrivate {
		return -1
	}
	return int(h.UsernsHostId)
}

// validateUserns checks --user-namespace against the options Docker
// refuses with a user namespace.
func validateUserns(h *api.HostConfig) error {
	switch h.UsernsMode {
	case "", "host":
		h.UsernsMode, h.UsernsHostId = "", 0
		return nil
	case usernsPrivate:
	default:
		return fmt.Errorf("invalid user namespace mode %q (want \"host\" or \"private\"): %w", h.UsernsMode, ErrInvalidArgument)
	}
	switch {
	case h.Privileged:
		return fmt.Errorf("--privileged cannot be used with --user-namespace: a privileged container must run in the host's user namespace: %w", ErrInvalidArgument)
	case h.NetworkMode == "host":
		return fmt.Errorf("--network host cannot be used with --user-namespace: %w", ErrInvalidArgument)
	}
	return nil
}

// subIDRange is the range of host ids berth hands out: the "berth"
// entries of /etc/subuid and /etc/subgid (which must agree, since a
// container's uids and gids are mapped alike), or the default range.
func subIDRange() (start, size uint64, err error) {
	var found [2]bool
	var r [2][2]uint64
	for i, f := range subIDFiles {
		r[i][0], r[i][1], found[i], err = readSubID(f, subIDUser)
		if err != nil {
			return 0, 0, err
		}
	}
	switch {
	case !found[0] && !found[1]:
		return defaultSubIDStart, defaultSubIDSize, nil
	case found[0] != found[1] || r[0] != r[1]:
		return 0, 0, fmt.Errorf("--user-namespace: the %q entries of %s and %s must be the same range", subIDUser, subIDFiles[0], subIDFiles[1])
	case r[0][1] < bundle.IDMapSize:
		return 0, 0, fmt.Errorf("--user-namespace: the %q range of %s has %d ids, fewer than the %d a container needs", subIDUser, subIDFiles[0], r[0][1], bundle.IDMapSize)
	}
	return r[0][0], r[0][1], nil
}

// readSubID returns user's first range in a subuid/subgid file
// ("name:start:count" lines); a missing file has none.
func readSubID(path, user string) (start, size uint64, found bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(fields) != 3 || fields[0] != user {
			continue
		}
		start, err1 := strconv.ParseUint(fields[1], 10, 32)
		size, err2 := strconv.ParseUint(fields[2], 10, 32)
		if err1 != nil || err2 != nil || start+size > 1<<32 {
			return 0, 0, false, fmt.Errorf("%s: bad entry %q", path, sc.Text())
		}
		return start, size, true, nil
	}
	return 0, 0, false, sc.Err()
}

// allocUserns picks the lowest block of IDMapSize host ids that no other
// container uses and reserves it for id until releaseUserns.
func (s *Service) allocUserns(id string) (uint32, error) {
	start, size, err := subIDRange()
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	used := map[uint32]bool{}
	for _, c := range s.byID {
		if h := c.cfg.Host; h.GetUsernsMode() == usernsPrivate {
			used[h.UsernsHostId] = true
		}
	}
	for base := range s.usernsHeld {
		used[base] = true
	}
	for base := start; base+bundle.IDMapSize <= start+size; base += bundle.IDMapSize {
		if !used[uint32(base)] {
			if s.usernsHeld == nil {
				s.usernsHeld = map[uint32]string{}
			}
			s.usernsHeld[uint32(base)] = id
			return uint32(base), nil
		}
	}
	return 0, fmt.Errorf("--user-namespace: all %d id ranges are in use: %w", size/bundle.IDMapSize, ErrConflict)
}

// releaseUserns drops create's reservation: the container record (or
// nothing, on failure) holds the range now.
func (s *Service) releaseUserns(base uint32) {
	s.mu.Lock()
	delete(s.usernsHeld, base)
	s.mu.Unlock()
}

// openRoot opens a container's mounted root filesystem for berthd's own
// reads and writes (cp, export, the working directory): with a user
// namespace, with the container's ids (see rootfs.OpenShifted).
func openRoot(h *api.HostConfig, dir string) (*rootfs.Root, error) {
	if root := usernsRoot(h); root >= 0 {
		return rootfs.OpenShifted(dir, uint32(root))
	}
	return rootfs.Open(dir)
}
