package seccomp

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCached(t *testing.T) {
	eperm := uint(1)
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
		Syscalls: []specs.LinuxSyscall{{Names: []string{"getcwd"}, Action: specs.ActErrno, ErrnoRet: &eperm}}}
	want, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	raw := func(s *specs.LinuxSeccomp) []byte {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	dir := filepath.Join(t.TempDir(), "cache")

	first, err := Cached(dir, raw(s))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Encode(), want.Encode()) {
		t.Fatal("cached compile differs from Compile")
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 {
		t.Fatalf("cache holds %d files, want 1", len(files))
	}
	path := filepath.Join(dir, files[0].Name())

	// A hit is read from the file: make the file recognisably different.
	marked := want.Encode()
	marked[len(marked)-1] ^= 0xff
	if err := os.WriteFile(path, marked, 0o600); err != nil {
		t.Fatal(err)
	}
	hit, err := Cached(dir, raw(s))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(hit.Encode(), marked) {
		t.Fatal("second Cached did not use the cache file")
	}

	// A malformed file is compiled again and replaced.
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := Cached(dir, raw(s))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Encode(), want.Encode()) {
		t.Fatal("a malformed cache file was not recompiled")
	}
	if data, _ := os.ReadFile(path); !bytes.Equal(data, want.Encode()) {
		t.Fatal("a malformed cache file was not replaced")
	}

	// Another profile gets another file; a bad one none.
	other := *s
	other.DefaultAction = specs.ActErrno
	if _, err := Cached(dir, raw(&other)); err != nil {
		t.Fatal(err)
	}
	if _, err := Cached(dir, raw(&specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_NOPE"})); err == nil {
		t.Fatal("a bad profile compiled")
	}
	if _, err := Cached(dir, []byte(`{"defaultAction": 42}`)); err == nil || !strings.Contains(err.Error(), "parse profile") {
		t.Fatalf("malformed profile JSON: %v", err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 2 {
		t.Fatalf("cache holds %d files, want 2", len(files))
	}
}

func TestDecodeRejects(t *testing.T) {
	good, err := Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow})
	if err != nil {
		t.Fatal(err)
	}
	enc := good.Encode()
	for name, data := range map[string][]byte{
		"empty":     nil,
		"no magic":  append([]byte("XXXX"), enc[4:]...),
		"no insns":  enc[:len(magic)+8],
		"truncated": enc[:len(enc)-3],
	} {
		if _, err := Decode(data); err == nil {
			t.Errorf("%s: Decode accepted it", name)
		}
	}
	p, err := Decode(enc)
	if err != nil || !bytes.Equal(p.Encode(), enc) {
		t.Fatalf("round trip: %v", err)
	}
}

func TestTrimKeepsTheNewest(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 5; i++ {
		p := filepath.Join(dir, string(rune('a'+i)))
		os.WriteFile(p, []byte("x"), 0o600)
		mt := time.Unix(int64(1000+i), 0)
		os.Chtimes(p, mt, mt)
	}
	trim(dir, 3)
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, "") != "cde" {
		t.Errorf("after trim to 3: %v, want c d e", names)
	}
}
