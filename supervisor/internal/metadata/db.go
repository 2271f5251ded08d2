// Package metadata keeps berthd's records in bbolt (ROOT/meta.db): images,
// the tags pointing at them, and the unpacked snapshots. Values are JSON so
// the file stays readable with any bbolt tool. Containers, volumes and
// networks get their own buckets beside these.
package metadata

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotFound is returned for missing records.
var ErrNotFound = errors.New("not found")

var (
	bImages    = []byte("images")
	bTags      = []byte("tags")
	bSnapshots = []byte("snapshots")
	bMeta      = []byte("meta")
	kNextSnap  = []byte("next-snapshot-id")
)

// Descriptor names a blob.
type Descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

// Image is one image, keyed by its ID (the config digest, as Docker does).
type Image struct {
	ID          string     `json:"id"`
	Manifest    Descriptor `json:"manifest"`
	RepoDigests []string   `json:"repoDigests,omitempty"`
	// ChainIDs of the layers, bottom first.
	ChainIDs []string  `json:"chainIDs"`
	Created  time.Time `json:"created"`
	// Size is the unpacked size of all layers.
	Size int64 `json:"size"`
	// Parent is the image this one was committed or built on ("" for
	// pulled and loaded images). Untagged parents are intermediate images:
	// `images` hides them and `image prune` keeps them.
	Parent     string    `json:"parent,omitempty"`
	LastTagged time.Time `json:"lastTagged"`
	Added      time.Time `json:"added"`
}

// Snapshot is one unpacked layer, keyed by chain ID.
type Snapshot struct {
	ChainID string `json:"chainID"`
	// ID names the directory snapshots/<ID>: short, because overlayfs
	// mount options are limited to a page.
	ID     string `json:"id"`
	Parent string `json:"parent,omitempty"`
	DiffID string `json:"diffID"`
	// Size is the bytes of file data; TarSize the uncompressed layer tar.
	Size    int64     `json:"size"`
	TarSize int64     `json:"tarSize"`
	Created time.Time `json:"created"`
}

// DB is the metadata database.
type DB struct {
	db *bolt.DB
}

// Open opens (creating) the database at path.
func Open(path string) (*DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bImages, bTags, bSnapshots, bMeta, bVolumes, bNetworks, bEndpoints, bContainers} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &DB{db: db}, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// Tx is a read-write view used by Update.
type Tx struct{ tx *bolt.Tx }

// View runs fn in a read transaction.
func (d *DB) View(fn func(*Tx) error) error {
	return d.db.View(func(tx *bolt.Tx) error { return fn(&Tx{tx}) })
}

// Update runs fn in a write transaction.
func (d *DB) Update(fn func(*Tx) error) error {
	return d.db.Update(func(tx *bolt.Tx) error { return fn(&Tx{tx}) })
}

func get[T any](tx *bolt.Tx, bucket []byte, key string) (*T, error) {
	v := tx.Bucket(bucket).Get([]byte(key))
	if v == nil {
		return nil, fmt.Errorf("%s %s: %w", bucket, key, ErrNotFound)
	}
	var t T
	if err := json.Unmarshal(v, &t); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", bucket, key, err)
	}
	return &t, nil
}

func put(tx *bolt.Tx, bucket []byte, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put([]byte(key), b)
}

func list[T any](tx *bolt.Tx, bucket []byte) ([]T, error) {
	var out []T
	err := tx.Bucket(bucket).ForEach(func(k, v []byte) error {
		var t T
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("decode %s %s: %w", bucket, k, err)
		}
		out = append(out, t)
		return nil
	})
	return out, err
}

// Image returns the image with the given ID.
func (t *Tx) Image(id string) (*Image, error) { return get[Image](t.tx, bImages, id) }

// PutImage stores img.
func (t *Tx) PutImage(img *Image) error { return put(t.tx, bImages, img.ID, img) }

// DeleteImage removes the image record (not its tags).
func (t *Tx) DeleteImage(id string) error { return t.tx.Bucket(bImages).Delete([]byte(id)) }

// Images lists all images.
func (t *Tx) Images() ([]Image, error) { return list[Image](t.tx, bImages) }

// Tag returns the image ID a tag (a full reference) points to.
func (t *Tx) Tag(ref string) (string, error) {
	v := t.tx.Bucket(bTags).Get([]byte(ref))
	if v == nil {
		return "", fmt.Errorf("tag %s: %w", ref, ErrNotFound)
	}
	return string(v), nil
}

// SetTag points ref at image id.
func (t *Tx) SetTag(ref, id string) error { return t.tx.Bucket(bTags).Put([]byte(ref), []byte(id)) }

// DeleteTag removes ref.
func (t *Tx) DeleteTag(ref string) error { return t.tx.Bucket(bTags).Delete([]byte(ref)) }

// Tags returns every tag and its image ID.
func (t *Tx) Tags() (map[string]string, error) {
	m := map[string]string{}
	err := t.tx.Bucket(bTags).ForEach(func(k, v []byte) error {
		m[string(k)] = string(v)
		return nil
	})
	return m, err
}

// Snapshot returns the snapshot of a chain ID.
func (t *Tx) Snapshot(chainID string) (*Snapshot, error) {
	return get[Snapshot](t.tx, bSnapshots, chainID)
}

// PutSnapshot stores s.
func (t *Tx) PutSnapshot(s *Snapshot) error { return put(t.tx, bSnapshots, s.ChainID, s) }

// DeleteSnapshot removes the record of chainID.
func (t *Tx) DeleteSnapshot(chainID string) error {
	return t.tx.Bucket(bSnapshots).Delete([]byte(chainID))
}

// Snapshots lists all snapshots.
func (t *Tx) Snapshots() ([]Snapshot, error) { return list[Snapshot](t.tx, bSnapshots) }

// NextSnapshotID allocates a new short snapshot directory name.
func (t *Tx) NextSnapshotID() (string, error) {
	b := t.tx.Bucket(bMeta)
	n := uint64(0)
	if v := b.Get(kNextSnap); v != nil {
		n, _ = strconv.ParseUint(string(v), 10, 64)
	}
	n++
	if err := b.Put(kNextSnap, []byte(strconv.FormatUint(n, 10))); err != nil {
		return "", err
	}
	return strconv.FormatUint(n, 36), nil
}
