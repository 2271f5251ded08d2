package specs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// testHost describes the machine a test pretends to run on.
type testHost struct {
	arch    string
	kernel  kernelVersion
	caps    []string // bounding set; nil means every capability
	devices []specs.LinuxDevice
	thermal []string
}

// fakeHost makes specs see h instead of the real machine until the test
// ends, so results do not depend on where tests run.
func fakeHost(t *testing.T, h testHost) {
	t.Helper()
	if h.arch == "" {
		h.arch = "amd64"
	}
	if h.kernel == (kernelVersion{}) {
		h.kernel = kernelVersion{6, 1}
	}
	if h.caps == nil {
		h.caps = capNames[:]
	}
	oldArch, oldKernel, oldCaps, oldDevs, oldSysctl, oldThermal := hostArch, hostKernel, hostBoundingCaps, hostDevices, sysctlExists, hostThermalPaths
	t.Cleanup(func() {
		hostArch, hostKernel, hostBoundingCaps, hostDevices, sysctlExists, hostThermalPaths = oldArch, oldKernel, oldCaps, oldDevs, oldSysctl, oldThermal
	})
	hostArch = func() string { return h.arch }
	hostKernel = func() kernelVersion { return h.kernel }
	hostBoundingCaps = func() []string { return h.caps }
	hostDevices = func() ([]specs.LinuxDevice, error) { return h.devices, nil }
	sysctlExists = func(string) bool { return true }
	hostThermalPaths = func() []string { return h.thermal }
}

// writeFiles creates files under root; a value starting with "->" makes a
// symlink to the rest of it.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// testRootfs is an image root filesystem with the users and groups the
// user and image tests resolve.
func testRootfs(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"etc/passwd": `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
# a comment
+nis
app:x:1000:1000:App,,,:/home/app:/bin/sh
nohome:x:1001:100::
broken:x:notanumber:1
`,
		"etc/group": `root:x:0:
daemon:x:1:
users:x:100:app
app:x:1000:
audio:x:29:app,other
video:x:44:nohome,app
wheel:x:10:root
`,
	})
	return root
}

// wantInvalid fails the test unless err is an ErrInvalid error whose text
// contains want.
func wantInvalid(t *testing.T, what string, err error, want string) {
	t.Helper()
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
		t.Errorf("%s error = %v, want an ErrInvalid error containing %q", what, err, want)
	}
}

// apply runs opts on s and fails the test if one fails.
func apply(t *testing.T, s *specs.Spec, opts ...Opt) *specs.Spec {
	t.Helper()
	for _, o := range opts {
		if err := o(s); err != nil {
			t.Fatalf("option failed: %v", err)
		}
	}
	return s
}
