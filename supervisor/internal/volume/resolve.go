package volume

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"

	rspec "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/specs"
	"github.com/berth-project/berth/supervisor/internal/metadata"
)

// MountRequest is what a container asked to have mounted, as the user
// and the image gave it.
type MountRequest struct {
	Binds  []string // -v values
	Mounts []string // --mount values
	Tmpfs  []string // --tmpfs values
	// ImageVolumes are the image config's Volumes: each gets an anonymous
	// volume unless a user mount has the same destination.
	ImageVolumes []string
	// ImageRootfs is the container's rootfs, mounted (the overlay before
	// the container starts): a volume that is still empty is filled with
	// the files at its destination there. "" skips the copy.
	ImageRootfs string
}

// ParseMounts parses the user's mount flags and adds the image's volumes,
// without side effects: what Resolve will mount, volumes still unresolved.
// Two mounts on one destination are an error, as in Docker.
func ParseMounts(req MountRequest) ([]specs.MountPoint, error) {
	var mps []specs.MountPoint
	for _, list := range []struct {
		vals  []string
		parse func(string) (specs.MountPoint, error)
	}{{req.Binds, specs.ParseVolume}, {req.Mounts, specs.ParseMount}, {req.Tmpfs, specs.ParseTmpfs}} {
		for _, v := range list.vals {
			mp, err := list.parse(v)
			if err != nil {
				return nil, errorf(ErrInvalidArgument, "%w", err)
			}
			mps = append(mps, mp)
		}
	}
	seen := map[string]bool{}
	for _, mp := range mps {
		d := path.Clean(mp.Destination)
		if seen[d] {
			return nil, errorf(ErrInvalidArgument, "duplicate mount point: %s", d)
		}
		seen[d] = true
	}
	for _, d := range req.ImageVolumes {
		if !path.IsAbs(d) {
			d = "/" + d // Docker accepts VOLUME data, meaning /data
		}
		d = path.Clean(d)
		if d == "/" || seen[d] {
			continue
		}
		seen[d] = true
		mps = append(mps, specs.MountPoint{Type: specs.MountVolume, Destination: d})
	}
	return mps, nil
}

// Resolve turns a container's mounts into config.json mounts: named
// volumes are created when missing, each anonymous one made, the
// container recorded as their user, empty volumes filled from the image;
// bind sources are checked (-v creates a missing one, --mount refuses it).
// On failure nothing it did remains.
func (m *Manager) Resolve(ctx context.Context, containerID string, req MountRequest) (mounts []rspec.Mount, err error) {
	if containerID == "" {
		return nil, errorf(ErrInvalidArgument, "resolve mounts: no container ID")
	}
	mps, err := ParseMounts(req)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()

	var created, used []string
	defer func() {
		if err == nil {
			return
		}
		for _, name := range used {
			m.dropUserLocked(name, containerID)
		}
		for _, name := range created {
			m.removeLocked(name)
		}
	}()
	for _, mp := range mps {
		switch mp.Type {
		case specs.MountBind:
			if err := checkBindSource(mp); err != nil {
				return nil, err
			}
		case specs.MountVolume:
			name, dest := mp.Source, ""
			if name == "" {
				// A container started again gets its anonymous volume back.
				dest = mp.Destination
				if name, err = m.anonymousLocked(containerID, dest); err != nil {
					return nil, err
				}
			}
			v, isNew, err := m.createLocked(name, nil, mp.Source == "", dest)
			if err != nil {
				return nil, err
			}
			if isNew {
				created = append(created, v.Name)
			}
			added, err := m.addUserLocked(v.Name, containerID)
			if err != nil {
				return nil, err
			}
			if added {
				used = append(used, v.Name)
			}
			mp.Source = m.mountpoint(v.Name)
			if req.ImageRootfs != "" && !mp.NoCopy {
				if err := copyUpIfEmpty(req.ImageRootfs, mp.Destination, mp.Source); err != nil {
					return nil, fmt.Errorf("copy image content at %s into volume %s: %w", mp.Destination, v.Name, err)
				}
			}
		}
		sm, err := mp.Spec()
		if err != nil {
			return nil, errorf(ErrInvalidArgument, "%w", err)
		}
		mounts = append(mounts, sm)
	}
	return mounts, nil
}

// anonymousLocked returns the name of the anonymous volume made for the
// container at dest, or "" if there is none yet.
func (m *Manager) anonymousLocked(containerID, dest string) (string, error) {
	var name string
	err := m.db.View(func(tx *metadata.Tx) error {
		all, err := tx.Volumes()
		for _, v := range all {
			if v.Anonymous && v.Destination == dest && slices.Contains(v.Users, containerID) {
				name = v.Name
			}
		}
		return err
	})
	return name, err
}

// checkBindSource makes sure a bind mount's source exists: a -v bind
// creates a missing directory as Docker does, a --mount bind refuses it.
func checkBindSource(mp specs.MountPoint) error {
	_, err := os.Stat(mp.Source)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrNotExist) && mp.CreateSource:
		if err := os.MkdirAll(mp.Source, 0o755); err != nil {
			return fmt.Errorf("create bind source %s: %w", mp.Source, err)
		}
		return nil
	case errors.Is(err, os.ErrNotExist):
		return errorf(ErrInvalidArgument, "invalid mount config for type \"bind\": bind source path does not exist: %s", mp.Source)
	}
	return fmt.Errorf("bind source %s: %w", mp.Source, err)
}

// addUserLocked records id as a user of the volume; added is false when
// it already was one.
func (m *Manager) addUserLocked(name, id string) (added bool, err error) {
	err = m.db.Update(func(tx *metadata.Tx) error {
		v, err := tx.Volume(name)
		if err != nil {
			return err
		}
		if slices.Contains(v.Users, id) {
			return nil
		}
		added = true
		v.Users = append(v.Users, id)
		return tx.PutVolume(v)
	})
	return added, err
}

// dropUserLocked removes id from the volume's users and returns the
// volume as it is now (nil if it has no record).
func (m *Manager) dropUserLocked(name, id string) (*metadata.Volume, error) {
	var out *metadata.Volume
	err := m.db.Update(func(tx *metadata.Tx) error {
		v, err := tx.Volume(name)
		if err != nil {
			return err
		}
		out = v
		if !slices.Contains(v.Users, id) {
			return nil
		}
		v.Users = slices.DeleteFunc(v.Users, func(u string) bool { return u == id })
		return tx.PutVolume(v)
	})
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, nil
	}
	return out, err
}

// Release drops containerID from the users of every volume, and with
// removeAnonymous (`rm -v`) removes the anonymous volumes no other
// container uses. Named volumes always stay. Releasing a container that
// uses no volume is no error.
func (m *Manager) Release(ctx context.Context, containerID string, removeAnonymous bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var names []string
	if err := m.db.View(func(tx *metadata.Tx) error {
		all, err := tx.Volumes()
		for _, v := range all {
			if slices.Contains(v.Users, containerID) {
				names = append(names, v.Name)
			}
		}
		return err
	}); err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		v, err := m.dropUserLocked(name, containerID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if removeAnonymous && v != nil && v.Anonymous && len(v.Users) == 0 {
			if err := m.removeLocked(name); err != nil && !errors.Is(err, ErrNotFound) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
