package images

import (
	"errors"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestChoosePlatform(t *testing.T) {
	d := func(os, arch, variant string) v1.Descriptor {
		return v1.Descriptor{Platform: &v1.Platform{OS: os, Architecture: arch, Variant: variant}, Size: int64(len(arch + variant))}
	}
	list := []v1.Descriptor{d("linux", "arm", "v7"), d("linux", "arm64", ""), d("windows", "amd64", ""), d("linux", "s390x", ""), d("linux", "amd64", "")}
	tests := []struct {
		in, arch, variant string
		err               error
	}{
		{"linux/amd64", "amd64", "", nil},
		{"amd64", "amd64", "", nil},
		{"linux/arm64/v8", "arm64", "", nil},
		{"linux/arm/v7", "arm", "v7", nil},
		{"linux/arm/v6", "", "", ErrNotFound},
		{"linux/riscv64", "", "", ErrNotFound},
		{"linux/", "", "", ErrInvalidArgument},
		{"a/b/c/d", "", "", ErrInvalidArgument},
	}
	for _, tt := range tests {
		p, err := ParsePlatform(tt.in)
		var got v1.Descriptor
		if err == nil {
			got, err = choosePlatform(list, p)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("choose(%q) error %v, want %v", tt.in, err, tt.err)
			continue
		}
		if err == nil && (got.Platform.Architecture != tt.arch || got.Platform.Variant != tt.variant || got.Platform.OS != "linux") {
			t.Errorf("choose(%q) = %+v, want linux/%s/%s", tt.in, got.Platform, tt.arch, tt.variant)
		}
	}
}

func TestChainIDs(t *testing.T) {
	a, _ := v1.NewHash("sha256:" + "a1" + "00000000000000000000000000000000000000000000000000000000000000"[:62])
	b, _ := v1.NewHash("sha256:" + "b2" + "00000000000000000000000000000000000000000000000000000000000000"[:62])
	got := chainIDs([]v1.Hash{a, b})
	if got[0] != a.String() {
		t.Errorf("chain[0] = %s, want the first diff ID", got[0])
	}
	if want := sha256Of([]byte(a.String() + " " + b.String())).String(); got[1] != want {
		t.Errorf("chain[1] = %s, want %s", got[1], want)
	}
}
