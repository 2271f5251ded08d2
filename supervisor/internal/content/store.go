// Package content is berthd's content-addressed blob store. Every blob is
// written to a temporary file under ingest/, verified against the digest and
// size it was announced with, fsynced and only then renamed into
// blobs/sha256/<hex>; a file under blobs/ is therefore always verified data,
// and a crash (or SIGKILL) at any point leaves at most an ingest file that
// the next Open removes.
package content

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ErrDigestMismatch is returned by Commit when the data written does not
// hash to the expected digest.
var ErrDigestMismatch = errors.New("digest mismatch")

// ErrSizeMismatch is returned by Commit when the data written is not of the
// expected size.
var ErrSizeMismatch = errors.New("size mismatch")

// ErrNotFound is returned for blobs that are not in the store.
var ErrNotFound = errors.New("blob not found")

// Store is a directory of verified blobs.
type Store struct {
	root string
}

// Open opens (creating if needed) the store at root and removes leftovers of
// interrupted writes.
func Open(root string) (*Store, error) {
	for _, d := range []string{"blobs/sha256", "ingest"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, fmt.Errorf("open content store: %w", err)
		}
	}
	ing := filepath.Join(root, "ingest")
	ents, err := os.ReadDir(ing)
	if err != nil {
		return nil, fmt.Errorf("open content store: %w", err)
	}
	for _, e := range ents {
		os.RemoveAll(filepath.Join(ing, e.Name()))
	}
	return &Store{root: root}, nil
}

// Path is where the blob with digest d lives (whether or not it exists).
func (s *Store) Path(d v1.Hash) string {
	return filepath.Join(s.root, "blobs", d.Algorithm, d.Hex)
}

// Info returns the size of blob d, or ErrNotFound.
func (s *Store) Info(d v1.Hash) (int64, error) {
	if err := checkDigest(d); err != nil {
		return 0, err
	}
	st, err := os.Stat(s.Path(d))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%s: %w", d, ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// Has reports whether blob d is in the store with the given size (any size
// when size < 0).
func (s *Store) Has(d v1.Hash, size int64) bool {
	n, err := s.Info(d)
	return err == nil && (size < 0 || n == size)
}

// Open opens blob d for reading.
func (s *Store) Open(d v1.Hash) (*os.File, error) {
	if err := checkDigest(d); err != nil {
		return nil, err
	}
	f, err := os.Open(s.Path(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", d, ErrNotFound)
	}
	return f, err
}

// ReadBlob returns the whole content of a (small) blob.
func (s *Store) ReadBlob(d v1.Hash) ([]byte, error) {
	f, err := s.Open(d)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Delete removes blob d; a missing blob is not an error.
func (s *Store) Delete(d v1.Hash) error {
	if err := checkDigest(d); err != nil {
		return err
	}
	err := os.Remove(s.Path(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Walk calls fn for every blob in the store.
func (s *Store) Walk(fn func(d v1.Hash, size int64) error) error {
	dir := filepath.Join(s.root, "blobs", "sha256")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		d := v1.Hash{Algorithm: "sha256", Hex: e.Name()}
		if checkDigest(d) != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if err := fn(d, info.Size()); err != nil {
			return err
		}
	}
	return nil
}

// Writer receives a blob's bytes; Commit makes it visible once verified.
type Writer struct {
	s        *Store
	f        *os.File
	h        hash.Hash
	n        int64
	expected v1.Hash
	size     int64
	done     bool
}

// NewWriter starts writing a blob expected to have digest d and size bytes
// (size < 0: unknown, checked by digest only). An empty d means the digest
// is computed and known only at Commit (for blobs berthd makes itself).
func (s *Store) NewWriter(d v1.Hash, size int64) (*Writer, error) {
	if d != (v1.Hash{}) {
		if err := checkDigest(d); err != nil {
			return nil, err
		}
	}
	f, err := os.CreateTemp(filepath.Join(s.root, "ingest"), "blob-")
	if err != nil {
		return nil, fmt.Errorf("create ingest file: %w", err)
	}
	return &Writer{s: s, f: f, h: sha256.New(), expected: d, size: size}, nil
}

// Write implements io.Writer.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

// Size is the number of bytes written so far.
func (w *Writer) Size() int64 { return w.n }

// Digest is the digest of the bytes written so far.
func (w *Writer) Digest() v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", w.h.Sum(nil))}
}

// Commit verifies size and digest, fsyncs and renames the blob into place.
// It returns the blob's digest. On any error the data is discarded.
func (w *Writer) Commit() (v1.Hash, error) {
	if w.done {
		return v1.Hash{}, errors.New("commit: writer already closed")
	}
	w.done = true
	defer os.Remove(w.f.Name())
	defer w.f.Close()
	got := w.Digest()
	want := w.expected
	if want == (v1.Hash{}) {
		want = got
	}
	if w.size >= 0 && w.n != w.size {
		return v1.Hash{}, fmt.Errorf("blob %s: %w: got %d bytes, want %d", want, ErrSizeMismatch, w.n, w.size)
	}
	if got != want {
		return v1.Hash{}, fmt.Errorf("blob %s: %w: got %s", want, ErrDigestMismatch, got)
	}
	if err := w.f.Sync(); err != nil {
		return v1.Hash{}, fmt.Errorf("sync blob %s: %w", want, err)
	}
	if err := w.f.Chmod(0o444); err != nil {
		return v1.Hash{}, err
	}
	if err := os.Rename(w.f.Name(), w.s.Path(want)); err != nil {
		return v1.Hash{}, fmt.Errorf("commit blob %s: %w", want, err)
	}
	syncDir(filepath.Dir(w.s.Path(want)))
	return want, nil
}

// Close discards the blob unless it was committed.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	return os.Remove(w.f.Name())
}

// WriteBlob copies r into the store, verifying digest d and size.
func (s *Store) WriteBlob(d v1.Hash, size int64, r io.Reader) (v1.Hash, error) {
	w, err := s.NewWriter(d, size)
	if err != nil {
		return v1.Hash{}, err
	}
	defer w.Close()
	if _, err := io.Copy(w, r); err != nil {
		return v1.Hash{}, fmt.Errorf("write blob %s: %w", d, err)
	}
	return w.Commit()
}

// PutBytes stores b and returns its digest.
func (s *Store) PutBytes(b []byte) (v1.Hash, error) {
	d := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(b))}
	if s.Has(d, int64(len(b))) {
		return d, nil
	}
	return s.WriteBlob(d, int64(len(b)), strings.NewReader(string(b)))
}

func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

// checkDigest rejects digests that are not sha256 with 64 lowercase hex
// digits: the hex part becomes a file name.
func checkDigest(d v1.Hash) error {
	if d.Algorithm != "sha256" || len(d.Hex) != 64 {
		return fmt.Errorf("invalid digest %q", d.String())
	}
	for _, c := range d.Hex {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return fmt.Errorf("invalid digest %q", d.String())
		}
	}
	return nil
}
