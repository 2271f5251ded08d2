package metadata

import "time"

var bVolumes = []byte("volumes")

// Volume is one named or anonymous volume, keyed by its name. Its data
// lives in ROOT/volumes/NAME/_data.
type Volume struct {
	Name      string            `json:"name"`
	CreatedAt time.Time         `json:"createdAt"`
	Labels    map[string]string `json:"labels,omitempty"`
	Options   map[string]string `json:"options,omitempty"`
	// Anonymous volumes were made for one container (an image VOLUME or a
	// -v without a name); `rm -v` and `volume prune` remove them.
	Anonymous bool `json:"anonymous,omitempty"`
	// Destination is where an anonymous volume is mounted in the
	// container it was made for, so that each start of that container
	// mounts the same volume there.
	Destination string `json:"destination,omitempty"`
	// Users are the IDs of the containers that mount the volume; a volume
	// with users cannot be removed.
	Users []string `json:"users,omitempty"`
}

// Volume returns the volume called name.
func (t *Tx) Volume(name string) (*Volume, error) { return get[Volume](t.tx, bVolumes, name) }

// PutVolume stores v.
func (t *Tx) PutVolume(v *Volume) error { return put(t.tx, bVolumes, v.Name, v) }

// DeleteVolume removes the record of the volume called name.
func (t *Tx) DeleteVolume(name string) error { return t.tx.Bucket(bVolumes).Delete([]byte(name)) }

// Volumes lists all volumes, ordered by name.
func (t *Tx) Volumes() ([]Volume, error) { return list[Volume](t.tx, bVolumes) }
