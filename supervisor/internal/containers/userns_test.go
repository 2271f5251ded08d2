package containers

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/supervisor/api"
)

func TestSubIDRange(t *testing.T) {
	tests := []struct {
		name          string
		subuid        string // "" = no file
		subgid        string
		start, size   uint64
		wantErrSubstr string
	}{
		{"no files: the default range", "", "", defaultSubIDStart, defaultSubIDSize, ""},
		{"no berth entry", "alice:100000:65536\n", "alice:100000:65536\n", defaultSubIDStart, defaultSubIDSize, ""},
		{"berth's entries", "alice:100000:65536\nberth:300000:131072\n", "berth:300000:131072\n", 300000, 131072, ""},
		{"entries differ", "berth:300000:131072\n", "berth:400000:131072\n", 0, 0, "must be the same range"},
		{"only in subuid", "berth:300000:131072\n", "", 0, 0, "must be the same range"},
		{"too small", "berth:300000:1000\n", "berth:300000:1000\n", 0, 0, "fewer than"},
		{"malformed", "berth:x:65536\n", "berth:x:65536\n", 0, 0, "bad entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			old := subIDFiles
			defer func() { subIDFiles = old }()
			for i, content := range []string{tt.subuid, tt.subgid} {
				subIDFiles[i] = filepath.Join(dir, []string{"subuid", "subgid"}[i])
				if content != "" {
					os.WriteFile(subIDFiles[i], []byte(content), 0o644)
				}
			}
			start, size, err := subIDRange()
			if tt.wantErrSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrSubstr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErrSubstr)
				}
				return
			}
			if err != nil || start != tt.start || size != tt.size {
				t.Fatalf("subIDRange() = %d, %d, %v; want %d, %d", start, size, err, tt.start, tt.size)
			}
		})
	}
}

func TestAllocUserns(t *testing.T) {
	dir := t.TempDir()
	old := subIDFiles
	defer func() { subIDFiles = old }()
	subIDFiles = [2]string{filepath.Join(dir, "subuid"), filepath.Join(dir, "subgid")}
	for _, f := range subIDFiles {
		os.WriteFile(f, []byte("berth:200000:196608\n"), 0o644) // three blocks
	}
	private := func(base uint32) *container {
		return &container{cfg: &api.ContainerConfig{Host: &api.HostConfig{UsernsMode: usernsPrivate, UsernsHostId: base}}}
	}
	s := &Service{byID: map[string]*container{
		"a": private(200000),
		"b": {cfg: &api.ContainerConfig{Host: &api.HostConfig{}}}, // no user namespace
	}}
	// The lowest free block, held until released.
	got, err := s.allocUserns("c")
	if err != nil || got != 265536 {
		t.Fatalf("first alloc = %d, %v; want 265536", got, err)
	}
	got2, err := s.allocUserns("d")
	if err != nil || got2 != 331072 {
		t.Fatalf("second alloc = %d, %v; want 331072 (265536 is held)", got2, err)
	}
	if _, err := s.allocUserns("e"); !errors.Is(err, ErrConflict) {
		t.Fatalf("alloc with every block taken = %v, want ErrConflict", err)
	}
	s.releaseUserns(got)
	if again, err := s.allocUserns("f"); err != nil || again != got {
		t.Fatalf("alloc after release = %d, %v; want %d", again, err, got)
	}
}

func TestValidateUserns(t *testing.T) {
	tests := []struct {
		h       *api.HostConfig
		wantErr bool
	}{
		{&api.HostConfig{}, false},
		{&api.HostConfig{UsernsMode: "host", UsernsHostId: 5}, false},
		{&api.HostConfig{UsernsMode: usernsPrivate}, false},
		{&api.HostConfig{UsernsMode: "auto"}, true},
		{&api.HostConfig{UsernsMode: usernsPrivate, Privileged: true}, true},
		{&api.HostConfig{UsernsMode: usernsPrivate, NetworkMode: "host"}, true},
	}
	for _, tt := range tests {
		err := validateUserns(tt.h)
		if (err != nil) != tt.wantErr {
			t.Errorf("validateUserns(%v) = %v, want error %v", tt.h, err, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("validateUserns(%v) = %v, want ErrInvalidArgument", tt.h, err)
		}
		if err == nil && tt.h.UsernsMode != usernsPrivate && tt.h.UsernsHostId != 0 {
			t.Errorf("validateUserns(%v) kept a host id without a user namespace", tt.h)
		}
	}
}
