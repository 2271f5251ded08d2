package content

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func digestOf(s string) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256([]byte(s)))}
}

func TestWriteBlobVerifies(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	good := "hello blob"
	tests := []struct {
		name    string
		digest  v1.Hash
		size    int64
		data    string
		wantErr error
	}{
		{"ok", digestOf(good), int64(len(good)), good, nil},
		{"ok unknown size", digestOf(good), -1, good, nil},
		{"wrong content", digestOf(good), int64(len(good)), "hello blub", ErrDigestMismatch},
		{"short", digestOf(good), int64(len(good)), "hello", ErrSizeMismatch},
		{"long", digestOf(good), int64(len(good)), good + "!", ErrSizeMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.Delete(tt.digest)
			_, err := s.WriteBlob(tt.digest, tt.size, strings.NewReader(tt.data))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("WriteBlob = %v, want %v", err, tt.wantErr)
			}
			if has := s.Has(tt.digest, -1); has != (tt.wantErr == nil) {
				t.Fatalf("Has after WriteBlob = %v, want %v", has, tt.wantErr == nil)
			}
			ents, _ := os.ReadDir(filepath.Join(s.root, "ingest"))
			if len(ents) != 0 {
				t.Fatalf("ingest not empty: %v", ents)
			}
		})
	}
}

func TestInvalidDigest(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []v1.Hash{
		{Algorithm: "sha256", Hex: "../../etc/passwd"},
		{Algorithm: "sha512", Hex: strings.Repeat("a", 64)},
		{Algorithm: "sha256", Hex: strings.Repeat("A", 64)},
	} {
		if _, err := s.Open(d); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Open(%q) = %v, want invalid digest error", d, err)
		}
	}
}

func TestOpenCleansIngest(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.NewWriter(digestOf("x"), 1)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("x")) // never committed: a crash mid-write
	if _, err := Open(root); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(root, "ingest"))
	if len(ents) != 0 {
		t.Fatalf("ingest after reopen = %v, want empty", ents)
	}
	if s.Has(digestOf("x"), -1) {
		t.Fatal("uncommitted blob visible")
	}
}
