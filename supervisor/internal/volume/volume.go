package volume

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/supervisor/internal/du"
	"github.com/berth-project/berth/supervisor/internal/metadata"
)

// Driver is the only volume driver: a directory on the host.
const Driver = "local"

// Volume is a volume as the API shows it.
type Volume struct {
	Name       string
	Mountpoint string // ROOT/volumes/NAME/_data
	CreatedAt  time.Time
	Labels     map[string]string
	Options    map[string]string
	Anonymous  bool
	// Users are the IDs of the containers that use the volume.
	Users []string
}

// DockerJSON is the volume as `docker volume inspect` prints it.
func (v *Volume) DockerJSON() ([]byte, error) {
	labels, opts := v.Labels, v.Options
	if labels == nil {
		labels = map[string]string{}
	}
	if opts == nil {
		opts = map[string]string{}
	}
	return json.MarshalIndent(struct {
		CreatedAt  string
		Driver     string
		Labels     map[string]string
		Mountpoint string
		Name       string
		Options    map[string]string
		Scope      string
	}{v.CreatedAt.Format(time.RFC3339), Driver, labels, v.Mountpoint, v.Name, opts, "local"}, "", "    ")
}

// Manager keeps the volumes of one berthd.
type Manager struct {
	db  *metadata.DB
	dir string // ROOT/volumes
	// mu serializes the changes that touch both meta.db and the volume
	// directories, so a removal cannot race a container taking the volume.
	mu sync.Mutex
}

// New returns the manager of the volumes under dir (ROOT/volumes).
func New(db *metadata.DB, dir string) (*Manager, error) {
	// 0701: containers running as other users reach their volumes
	// through this directory, but cannot list the volumes of others.
	if err := os.MkdirAll(dir, 0o701); err != nil {
		return nil, fmt.Errorf("volumes: %w", err)
	}
	return &Manager{db: db, dir: dir}, nil
}

// nameRE is the form of a volume name, as Docker accepts it.
var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// ValidName reports whether name can name a volume.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// randomName is the 64-hex-digit name of an anonymous volume.
func randomName() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (m *Manager) mountpoint(name string) string { return filepath.Join(m.dir, name, "_data") }

func (m *Manager) toVolume(r *metadata.Volume) *Volume {
	return &Volume{
		Name: r.Name, Mountpoint: m.mountpoint(r.Name), CreatedAt: r.CreatedAt,
		Labels: r.Labels, Options: r.Options, Anonymous: r.Anonymous, Users: r.Users,
	}
}

// CreateRequest is `volume create`.
type CreateRequest struct {
	Name    string // "" makes a random 64-hex-digit name
	Driver  string // "" or "local"
	Labels  map[string]string
	Options map[string]string
}

// Create makes a volume. As with Docker, creating a volume that exists
// returns it unchanged, unless the labels given differ.
func (m *Manager) Create(ctx context.Context, req CreateRequest) (*Volume, error) {
	if req.Driver != "" && req.Driver != Driver {
		return nil, errorf(ErrInvalidArgument, "create volume: driver %q: only the local driver is supported", req.Driver)
	}
	if len(req.Options) > 0 {
		// The local driver's options (type=, device=, o=) mount a
		// filesystem for the volume; berth does not do that yet.
		return nil, errorf(ErrInvalidArgument, "create volume: options %v: the local driver takes no options", slices.Sorted(maps.Keys(req.Options)))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// An unnamed volume counts as anonymous (Docker 23): prune takes it.
	v, _, err := m.createLocked(req.Name, req.Labels, req.Name == "", "")
	if err != nil {
		return nil, err
	}
	if req.Name != "" && len(req.Labels) > 0 && !maps.Equal(v.Labels, req.Labels) {
		return nil, errorf(ErrInvalidArgument, "create volume %s: it exists with other labels", req.Name)
	}
	return m.toVolume(v), nil
}

// createLocked returns the volume called name, making it if missing (an
// anonymous one when name is "", recorded as mounted at dest); created
// says whether it did.
func (m *Manager) createLocked(name string, labels map[string]string, anonymous bool, dest string) (v *metadata.Volume, created bool, err error) {
	if name == "" {
		name = randomName()
	} else if !ValidName(name) {
		return nil, false, errorf(ErrInvalidArgument, "create volume %q: a name has letters, digits and _.- and does not start with _.-", name)
	}
	err = m.db.View(func(tx *metadata.Tx) error {
		v, err = tx.Volume(name)
		return err
	})
	if err == nil {
		return v, false, nil
	}
	if !errors.Is(err, metadata.ErrNotFound) {
		return nil, false, err
	}
	v = &metadata.Volume{Name: name, CreatedAt: time.Now().UTC().Truncate(time.Second), Labels: labels, Anonymous: anonymous, Destination: dest}
	dir := filepath.Join(m.dir, name)
	// A directory without a record is left over from a crash between
	// mkdir and the record: take it over (its data is the user's).
	if err := os.MkdirAll(filepath.Join(dir, "_data"), 0o755); err != nil {
		return nil, false, fmt.Errorf("create volume %s: %w", name, err)
	}
	if err := m.db.Update(func(tx *metadata.Tx) error { return tx.PutVolume(v) }); err != nil {
		os.RemoveAll(dir)
		return nil, false, fmt.Errorf("create volume %s: %w", name, err)
	}
	return v, true, nil
}

// Get returns the volume called name.
func (m *Manager) Get(ctx context.Context, name string) (*Volume, error) {
	var v *metadata.Volume
	err := m.db.View(func(tx *metadata.Tx) (err error) {
		v, err = tx.Volume(name)
		return err
	})
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, errorf(ErrNotFound, "get %s: no such volume", name)
	}
	if err != nil {
		return nil, err
	}
	return m.toVolume(v), nil
}

// List returns the volumes that pass every filter ("KEY=VALUE": name=
// substring, label=KEY or label=KEY=VALUE, dangling=true|false,
// driver=local), ordered by name.
func (m *Manager) List(ctx context.Context, filters []string) ([]*Volume, error) {
	match, err := parseFilters(filters)
	if err != nil {
		return nil, err
	}
	var all []metadata.Volume
	if err := m.db.View(func(tx *metadata.Tx) (err error) {
		all, err = tx.Volumes()
		return err
	}); err != nil {
		return nil, err
	}
	var out []*Volume
	for i := range all {
		if v := m.toVolume(&all[i]); match(v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// parseFilters turns `volume ls -f` values into one predicate.
func parseFilters(filters []string) (func(*Volume) bool, error) {
	var preds []func(*Volume) bool
	for _, f := range filters {
		k, val, ok := strings.Cut(f, "=")
		if !ok {
			return nil, errorf(ErrInvalidArgument, "filter %q: want KEY=VALUE", f)
		}
		switch k {
		case "name":
			preds = append(preds, func(v *Volume) bool { return strings.Contains(v.Name, val) })
		case "label":
			lk, lv, withValue := strings.Cut(val, "=")
			preds = append(preds, func(v *Volume) bool {
				have, ok := v.Labels[lk]
				return ok && (!withValue || have == lv)
			})
		case "dangling":
			want := val == "true" || val == "1"
			if !want && val != "false" && val != "0" {
				return nil, errorf(ErrInvalidArgument, "filter %q: dangling is true or false", f)
			}
			preds = append(preds, func(v *Volume) bool { return (len(v.Users) == 0) == want })
		case "driver":
			preds = append(preds, func(*Volume) bool { return val == Driver })
		default:
			return nil, errorf(ErrInvalidArgument, "filter %q: unknown filter %q", f, k)
		}
	}
	return func(v *Volume) bool {
		for _, p := range preds {
			if !p(v) {
				return false
			}
		}
		return true
	}, nil
}

// Remove deletes a volume and its data. A volume that containers use is
// refused with ErrInUse, whatever force says; force only makes a
// missing volume no error, as `docker volume rm -f` does.
func (m *Manager) Remove(ctx context.Context, name string, force bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	err := m.removeLocked(name)
	if force && errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func (m *Manager) removeLocked(name string) error {
	err := m.db.Update(func(tx *metadata.Tx) error {
		v, err := tx.Volume(name)
		if err != nil {
			return err
		}
		if len(v.Users) > 0 {
			return errorf(ErrInUse, "remove %s: volume is in use - [%s]", name, strings.Join(shortIDs(v.Users), ", "))
		}
		return tx.DeleteVolume(name)
	})
	if errors.Is(err, metadata.ErrNotFound) {
		return errorf(ErrNotFound, "get %s: no such volume", name)
	}
	if err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(m.dir, name)); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	return nil
}

func shortIDs(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id[:min(len(id), 12)]
	}
	return out
}

// Prune removes the volumes no container uses: the anonymous ones, or
// all of them with all (Docker 23's `volume prune` and `prune -a`), that
// pass the filters (label=..., as for List). It returns the names removed
// and the bytes their data took.
func (m *Manager) Prune(ctx context.Context, all bool, filters []string) ([]string, uint64, error) {
	vols, err := m.List(ctx, append(slices.Clone(filters), "dangling=true"))
	if err != nil {
		return nil, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var names []string
	var size uint64
	for _, v := range vols {
		if !all && !v.Anonymous {
			continue
		}
		n := uint64(du.Size(filepath.Join(m.dir, v.Name)))
		// A container may have taken the volume since List: removeLocked
		// checks again under the lock and then refuses.
		if err := m.removeLocked(v.Name); err != nil {
			if errors.Is(err, ErrInUse) || errors.Is(err, ErrNotFound) {
				continue
			}
			return names, size, err
		}
		names = append(names, v.Name)
		size += n
	}
	return names, size, nil
}
