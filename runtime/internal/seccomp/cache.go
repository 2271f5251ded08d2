package seccomp

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
)

// Compiling Docker's default profile with libseccomp takes about 12 ms of
// CPU, more than the rest of `create` together, and every container of an
// engine uses one of a handful of profiles. So compiled programs are kept
// in a cache directory under the runtime's --root (root-only, like the
// state dirs), one file per profile, named by a digest of the profile's
// JSON as config.json has it, the architecture, the libseccomp version and
// the file format. Keying on the bytes rather than the decoded profile
// spares every create decoding the profile (hundreds of syscall names) and
// encoding it again: only a miss decodes it. A file that is missing,
// unreadable or malformed is compiled again; nothing else depends on the
// cache. At most maxCached programs are kept.

// magic starts every cache file and every Program encoding.
const magic = "BERTHBPF1\x00\x00\x00\x00\x00\x00\x00"

// Cached returns the program for raw, the JSON of a linux.seccomp
// section, compiling it only if dir holds no copy. dir == "" disables the
// cache.
func Cached(dir string, raw []byte) (*Program, error) {
	compile := func() (*Program, error) {
		var s specs.LinuxSeccomp
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("seccomp: parse profile: %w", err)
		}
		return Compile(&s)
	}
	if dir == "" {
		return compile()
	}
	maj, min, micro := libseccomp.GetLibraryVersion()
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%d.%d.%d\n", magic, runtime.GOARCH, maj, min, micro)
	h.Write(raw)
	path := filepath.Join(dir, hex.EncodeToString(h.Sum(nil)))
	if data, err := os.ReadFile(path); err == nil {
		if p, err := Decode(data); err == nil {
			return p, nil
		}
	}
	p, err := compile()
	if err != nil {
		return nil, err
	}
	store(dir, path, p.Encode())
	return p, nil
}

// store writes data to path atomically; failures only cost a later
// compile, so they are not reported.
func store(dir, path string, data []byte) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	f, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr != nil || cerr != nil {
		os.Remove(f.Name())
		return
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return
	}
	trim(dir, maxCached)
}

// maxCached bounds the cache: an engine uses a handful of profiles, but
// one whose users vary them freely must not fill the state directory.
const maxCached = 64

// trim removes the least recently written entries beyond keep.
func trim(dir string, keep int) {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) <= keep {
		return
	}
	type entry struct {
		name string
		mod  int64
	}
	var es []entry
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			es = append(es, entry{e.Name(), fi.ModTime().UnixNano()})
		}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].mod < es[j].mod })
	for i := 0; i < len(es)-keep; i++ {
		os.Remove(filepath.Join(dir, es[i].name))
	}
}

// Encode serialises p: magic, flags (8 bytes), then the instructions in
// the kernel's layout.
func (p *Program) Encode() []byte {
	out := make([]byte, 0, len(magic)+8+8*len(p.insns))
	out = append(out, magic...)
	out = binary.NativeEndian.AppendUint64(out, uint64(p.flags))
	for _, in := range p.insns {
		out = binary.NativeEndian.AppendUint16(out, in.Code)
		out = append(out, in.Jt, in.Jf)
		out = binary.NativeEndian.AppendUint32(out, in.K)
	}
	return out
}

// maxInsns is the kernel's limit on a filter's length (BPF_MAXINSNS).
const maxInsns = 4096

// Decode is the inverse of Encode.
func Decode(data []byte) (*Program, error) {
	if len(data) < len(magic)+8 || string(data[:len(magic)]) != magic {
		return nil, errors.New("seccomp: not an encoded filter")
	}
	data = data[len(magic):]
	flags := binary.NativeEndian.Uint64(data)
	data = data[8:]
	if len(data) == 0 || len(data)%8 != 0 || len(data)/8 > maxInsns {
		return nil, fmt.Errorf("seccomp: encoded filter has a bad size %d", len(data))
	}
	p := &Program{flags: uintptr(flags), insns: parseInsns(data)}
	return p, nil
}
