package images

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berth-project/berth/integration/internal/berthdtest"
)

// TestPushPullDigest: load the Debian-built busybox, push it with berth,
// pull it on a fresh root; the digest is the one skopeo sees. Once against
// an open registry, once behind htpasswd.
func TestPushPullDigest(t *testing.T) {
	requireEnv(t)
	for _, auth := range []bool{false, true} {
		t.Run(fmt.Sprintf("auth=%v", auth), func(t *testing.T) {
			reg := startRegistry(t, auth)
			arch := filepath.Join(t.TempDir(), "bb.tar")
			run(t, "skopeo", "copy", "--quiet", "oci:"+imageDir+":busybox", "oci-archive:"+arch+":busybox:latest")

			a := startBerthd(t, "")
			a.ok(t, "load", "-i", arch)
			ref := reg.addr + "/test/busybox:1"
			a.ok(t, "tag", "busybox", ref)
			a.login(t, reg)
			out := a.ok(t, "push", ref)
			want := reg.skopeoDigest(t, "test/busybox:1")
			if !strings.Contains(out, "1: digest: "+want) {
				t.Errorf("push output lacks the digest %s:\n%s", want, out)
			}
			if m := a.inspect(t, "busybox").Descriptor.Digest; m != want {
				t.Errorf("pushed manifest %s, registry has %s (push changed the manifest)", m, want)
			}

			b := startBerthd(t, "")
			b.login(t, reg)
			b.ok(t, "pull", ref)
			img := b.inspect(t, ref)
			if len(img.RepoDigests) != 1 || img.RepoDigests[0] != reg.addr+"/test/busybox@"+want {
				t.Errorf("RepoDigests = %v, want %s@%s", img.RepoDigests, reg.addr+"/test/busybox", want)
			}
			if img.ID != a.inspect(t, "busybox").ID {
				t.Errorf("image ID differs after push/pull")
			}
			if got := b.ok(t, "images", "--digests"); !strings.Contains(got, want) {
				t.Errorf("images --digests lacks %s:\n%s", want, got)
			}
			// A second push finds every blob in the registry.
			if out := a.ok(t, "push", ref); !strings.Contains(out, "Layer already exists") {
				t.Errorf("second push uploaded again:\n%s", out)
			}
		})
	}
}

// TestPullSkopeoFormats pulls what skopeo pushed as Docker schema2 and OCI.
func TestPullSkopeoFormats(t *testing.T) {
	requireEnv(t)
	reg := startRegistry(t, false)
	d := startBerthd(t, "")
	for format, mt := range map[string]string{
		"v2s2": "application/vnd.docker.distribution.manifest.v2+json",
		"oci":  "application/vnd.oci.image.manifest.v1+json",
	} {
		ref := reg.addr + "/fmt/" + format + ":latest"
		reg.pushBusybox(t, "busybox", "fmt/"+format+":latest", format)
		d.ok(t, "pull", ref)
		img := d.inspect(t, ref)
		if img.Descriptor.MediaType != mt {
			t.Errorf("%s: media type %s, want %s", format, img.Descriptor.MediaType, mt)
		}
		if img.Descriptor.Digest != reg.skopeoDigest(t, "fmt/"+format+":latest") {
			t.Errorf("%s: digest %s differs from skopeo's", format, img.Descriptor.Digest)
		}
	}
}

// TestPullIndexPlatform: an index listing several platforms (amd64 not
// first) yields the host's by default and the one --platform names.
func TestPullIndexPlatform(t *testing.T) {
	requireEnv(t)
	reg := startRegistry(t, false)
	reg.pushBusybox(t, "busybox", "multi/base:latest", "")
	base, err := name.ParseReference(reg.addr+"/multi/base:latest", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(base)
	if err != nil {
		t.Fatal(err)
	}
	variant := func(arch string) v1.Image {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf = cf.DeepCopy()
		cf.Architecture = arch
		out, err := mutate.ConfigFile(img, cf)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: variant("arm64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
		mutate.IndexAddendum{Add: variant("s390x"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "s390x"}}},
		mutate.IndexAddendum{Add: variant("amd64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)
	ref, _ := name.ParseReference(reg.addr+"/multi/img:latest", name.Insecure)
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()

	d := startBerthd(t, "")
	d.ok(t, "pull", ref.String())
	got := d.inspect(t, ref.String())
	if got.Architecture != "amd64" {
		t.Errorf("default platform gave %s, want amd64", got.Architecture)
	}
	if len(got.RepoDigests) != 1 || !strings.HasSuffix(got.RepoDigests[0], "@"+idxDigest.String()) {
		t.Errorf("RepoDigests = %v, want the index digest %s", got.RepoDigests, idxDigest)
	}
	d.ok(t, "pull", "--platform", "linux/arm64", reg.addr+"/multi/img:latest")
	if a := d.inspect(t, reg.addr+"/multi/img:latest").Architecture; a != "arm64" {
		t.Errorf("--platform linux/arm64 gave %s", a)
	}
	if _, errOut, err := d.berth(t, "", "pull", "--platform", "linux/riscv64", ref.String()); err == nil || !strings.Contains(errOut, "no matching manifest") {
		t.Errorf("pull of a missing platform: %v %s", err, errOut)
	}
}

// TestSaveLoadInterop: berth's archives are read by skopeo and podman, and
// berth reads skopeo's docker-archive and oci-archive.
func TestSaveLoadInterop(t *testing.T) {
	requireEnv(t, "podman")
	d := startBerthd(t, "")
	dir := t.TempDir()
	run(t, "skopeo", "copy", "--quiet", "oci:"+imageDir+":busybox", "docker-archive:"+dir+"/sk.tar:sk/busybox:1")
	run(t, "skopeo", "copy", "--quiet", "oci:"+imageDir+":busybox-extra", "oci-archive:"+dir+"/sko.tar:sko/busybox:2")
	if out := d.ok(t, "load", "-i", dir+"/sk.tar"); !strings.Contains(out, "Loaded image: sk/busybox:1") {
		t.Errorf("load docker-archive: %q", out)
	}
	if out := d.ok(t, "load", "-i", dir+"/sko.tar"); !strings.Contains(out, "Loaded image: sko/busybox:2") {
		t.Errorf("load oci-archive: %q", out)
	}

	d.ok(t, "save", "-o", dir+"/save.tar", "sk/busybox:1", "sko/busybox:2")
	out := run(t, "skopeo", "inspect", "docker-archive:"+dir+"/save.tar:sko/busybox:2")
	if !strings.Contains(out, `"Layers"`) {
		t.Errorf("skopeo inspect docker-archive: %s", out)
	}
	pod := t.TempDir()
	pout := run(t, "podman", "--root", pod+"/root", "--runroot", pod+"/run", "--storage-driver", "vfs", "load", "-i", dir+"/save.tar")
	if !strings.Contains(pout, "sk/busybox:1") || !strings.Contains(pout, "sko/busybox:2") {
		t.Errorf("podman load: %s", pout)
	}
	run(t, "podman", "--root", pod+"/root", "--runroot", pod+"/run", "--storage-driver", "vfs", "rmi", "-a", "-f")

	d.ok(t, "save", "--format", "oci-archive", "-o", dir+"/save-oci.tar", "sko/busybox:2")
	run(t, "skopeo", "inspect", "oci-archive:"+dir+"/save-oci.tar")
	// And berth reads back its own archives on a fresh root.
	e := startBerthd(t, "")
	e.ok(t, "load", "-i", dir+"/save.tar")
	e.ok(t, "load", "-i", dir+"/save-oci.tar")
	if out := e.ok(t, "images"); !strings.Contains(out, "sk/busybox") || !strings.Contains(out, "sko/busybox") {
		t.Errorf("images after load:\n%s", out)
	}
}

// TestWrongCredentials: a clear, one-line auth error, exit status 1.
func TestWrongCredentials(t *testing.T) {
	requireEnv(t)
	reg := startRegistry(t, true)
	reg.pushBusybox(t, "busybox", "private/bb:latest", "")
	d := startBerthd(t, "")
	_, errOut, err := d.berth(t, "wrong\n", "login", "-u", reg.user, "--password-stdin", reg.addr)
	if err == nil || !strings.Contains(errOut, "unauthorized") {
		t.Errorf("login with a wrong password: %v %q", err, errOut)
	}
	// Anonymous pull.
	_, errOut, err = d.berth(t, "", "pull", reg.addr+"/private/bb")
	if err == nil || !strings.Contains(errOut, "authentication failed") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("anonymous pull: %v %q", err, errOut)
	}
	if ee, ok := err.(*berthdtest.ExitError); ok && ee.Code != 1 {
		t.Errorf("exit status %d, want 1", ee.Code)
	}
	// Wrong password in config.json.
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.addr, b64(reg.user+":nope"))
	os.WriteFile(filepath.Join(d.dockerConfig, "config.json"), []byte(cfg), 0o600)
	_, errOut, err = d.berth(t, "", "pull", reg.addr+"/private/bb")
	if err == nil || !strings.Contains(errOut, "authentication failed") {
		t.Errorf("pull with a wrong password: %v %q", err, errOut)
	}
	// The right one, through login: config.json is 0600.
	d.login(t, reg)
	if st, err := os.Stat(filepath.Join(d.dockerConfig, "config.json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("config.json: %v %v", st.Mode(), err)
	}
	d.ok(t, "pull", reg.addr+"/private/bb")
	if out := d.ok(t, "logout", reg.addr); !strings.Contains(out, "Removing login credentials") {
		t.Errorf("logout: %q", out)
	}
}

// TestSharedSnapshots: an image on the same base reuses its layer dirs.
func TestSharedSnapshots(t *testing.T) {
	requireEnv(t)
	reg := startRegistry(t, false)
	reg.pushBusybox(t, "busybox", "share/base:latest", "")
	reg.pushBusybox(t, "busybox-extra", "share/extra:latest", "")
	d := startBerthd(t, "")
	d.ok(t, "pull", reg.addr+"/share/base")
	if n := d.snapshotDirs(t); n != 1 {
		t.Fatalf("%d snapshot dirs after the base, want 1", n)
	}
	out := d.ok(t, "pull", reg.addr+"/share/extra")
	if !strings.Contains(out, "Already exists") {
		t.Errorf("second image did not reuse the base layer:\n%s", out)
	}
	if n := d.snapshotDirs(t); n != 2 {
		t.Errorf("%d snapshot dirs after both, want 2", n)
	}
	// Removing the first keeps the shared layer, removing both frees all.
	d.ok(t, "rmi", reg.addr+"/share/base")
	if n := d.snapshotDirs(t); n != 2 {
		t.Errorf("%d snapshot dirs after rmi base, want 2", n)
	}
	d.ok(t, "rmi", reg.addr+"/share/extra")
	if n := d.snapshotDirs(t); n != 0 {
		t.Errorf("%d snapshot dirs after rmi of both, want 0", n)
	}
	blobs, _ := os.ReadDir(filepath.Join(d.root, "content", "blobs", "sha256"))
	if len(blobs) != 0 {
		t.Errorf("%d blobs left after removing every image", len(blobs))
	}
}

// TestKillMidPull: SIGKILL berthd during a pull; a restarted berthd on the
// same root finishes the pull, and the store holds no half-written data.
func TestKillMidPull(t *testing.T) {
	requireEnv(t)
	reg := startRegistry(t, false)
	// A small layer that completes first and a big one still running
	// when berthd is killed.
	var layers []v1.Layer
	for _, size := range []int64{256 << 10, 96 << 20} {
		l, err := random.Layer(size, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, l)
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(reg.addr+"/big/img:latest", name.Insecure)
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d := startBerthd(t, "")
	cmd := exec.Command(berthBin, "pull", ref.String())
	cmd.Env = append(os.Environ(), "BERTH_ADDRESS="+d.addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ing, _ := os.ReadDir(filepath.Join(d.root, "content", "ingest"))
		if len(ing) > 0 && d.snapshotDirs(t) == 1 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	d.kill()
	if err := cmd.Wait(); err == nil {
		t.Log("pull finished before the kill; the restart check still runs")
	}
	d2 := startBerthd(t, d.root)
	out := d2.ok(t, "pull", ref.String())
	t.Logf("re-pull:\n%s", out)
	// The small layer's blob was verified and committed before the kill:
	// either its snapshot is there too, or it unpacks from the stored blob.
	if !strings.Contains(out, "Already exists") && !strings.Contains(out, ": Extracting") {
		t.Errorf("re-pull did not reuse the layer committed before the kill")
	}
	want, _ := img.Digest()
	if got := d2.inspect(t, ref.String()).Descriptor.Digest; got != want.String() {
		t.Errorf("digest after re-pull %s, want %s", got, want)
	}
	if n := d2.snapshotDirs(t); n != 2 {
		t.Errorf("%d snapshot dirs, want 2", n)
	}
	ing, _ := os.ReadDir(filepath.Join(d2.root, "content", "ingest"))
	if len(ing) != 0 {
		t.Errorf("ingest leftovers: %v", ing)
	}
}

// TestBadInput: malformed reference, missing tag, a blob that does not
// match its digest, a layer escaping its root: clear errors, nothing
// stored, existing images untouched.
func TestBadInput(t *testing.T) {
	requireEnv(t)
	reg := startRegistry(t, false)
	reg.pushBusybox(t, "busybox", "bad/ok:latest", "")
	d := startBerthd(t, "")
	d.ok(t, "pull", reg.addr+"/bad/ok")
	before := d.ok(t, "images", "-q")

	cases := []struct {
		ref, want string
	}{
		{"Bad/Name", "invalid reference format"},
		{reg.addr + "/bad/ok:nope", "not found"},
		{reg.addr + "/bad/missing", "not found"},
	}
	for _, c := range cases {
		_, errOut, err := d.berth(t, "", "pull", c.ref)
		if err == nil || !strings.Contains(errOut, c.want) {
			t.Errorf("pull %s: %v %q, want %q", c.ref, err, errOut, c.want)
		}
	}

	// A registry serving a corrupted blob: overwrite its data in storage.
	reg.pushBusybox(t, "busybox-extra", "bad/corrupt:latest", "")
	rref, _ := name.ParseReference(reg.addr+"/bad/corrupt:latest", name.Insecure)
	rimg, err := remote.Image(rref)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := rimg.Layers()
	top, _ := layers[len(layers)-1].Digest()
	data := filepath.Join(reg.dir, "data/docker/registry/v2/blobs/sha256", top.Hex[:2], top.Hex, "data")
	b, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	os.WriteFile(data, b, 0o644)
	_, errOut, err := d.berth(t, "", "pull", reg.addr+"/bad/corrupt")
	if err == nil || !strings.Contains(errOut, "sha256") {
		t.Errorf("pull of a corrupt blob: %v %q", err, errOut)
	}
	if _, err := os.Stat(filepath.Join(d.root, "content/blobs/sha256", top.Hex)); err == nil {
		t.Errorf("corrupt blob stored")
	}

	// A layer with ../ and a symlink-then-write escape.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "lnk", Typeflag: tar.TypeSymlink, Linkname: "/../../../..", Mode: 0o777})
	tw.WriteHeader(&tar.Header{Name: "lnk/berth-escape-test", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644})
	tw.Write([]byte("x"))
	tw.WriteHeader(&tar.Header{Name: "../berth-escape-test", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644})
	tw.Write([]byte("x"))
	tw.Close()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	evil, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	eref, _ := name.ParseReference(reg.addr+"/bad/escape:latest", name.Insecure)
	if err := remote.Write(eref, evil, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		t.Fatal(err)
	}
	_, errOut, err = d.berth(t, "", "pull", eref.String())
	if err == nil || !strings.Contains(errOut, "escapes") {
		t.Errorf("pull of an escaping layer: %v %q", err, errOut)
	}
	for _, p := range []string{"/berth-escape-test", filepath.Join(d.root, "berth-escape-test"), filepath.Join(d.root, "snapshots", "berth-escape-test")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("escape: %s written", p)
			os.Remove(p)
		}
	}
	if after := d.ok(t, "images", "-q"); after != before {
		t.Errorf("images changed by failed pulls:\nbefore %s\nafter %s", before, after)
	}
	if n := d.snapshotDirs(t); n != 1 {
		t.Errorf("%d snapshot dirs after failed pulls, want 1", n)
	}
}
