package containers

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestContainerLayer: files a container writes live in its layer: diff
// lists them, commit turns them into an image layer (deletions included),
// cp copies both ways, export has them, and rm makes them vanish.
func TestContainerLayer(t *testing.T) {
	d := startBerthd(t)
	d.ok("run", "--name", "wr", "busybox", "sh", "-c",
		"echo data > /root/new.txt && rm /bin/vi && mkdir -p /opt/app && echo cfg > /opt/app/conf && ln /opt/app/conf /opt/app/hard")
	diff := d.ok("diff", "wr")
	for _, want := range []string{"C /root\n", "A /root/new.txt\n", "C /bin\n", "D /bin/vi\n", "A /opt\n", "A /opt/app/conf\n"} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, diff)
		}
	}
	if strings.Contains(diff, "/etc/hosts") || strings.Contains(diff, "/proc") {
		t.Errorf("diff shows mount points:\n%s", diff)
	}

	// commit: a new image with the layer; the file is there, vi is gone,
	// the hard link is one.
	img := d.out("commit", "-m", "with data", "-c", "ENV COMMITTED=yes", "wr", "committed:v1")
	if !strings.HasPrefix(img, "sha256:") {
		t.Fatalf("commit printed %q", img)
	}
	if got := d.out("run", "--rm", "committed:v1", "sh", "-c", "cat /root/new.txt; test -e /bin/vi || echo no-vi; echo $COMMITTED; stat -c %h /opt/app/conf"); got != "data\nno-vi\nyes\n2" {
		t.Errorf("committed image: %q", got)
	}
	if hist := d.ok("history", "committed:v1"); !strings.Contains(hist, "with data") {
		t.Errorf("history of the committed image:\n%s", hist)
	}

	// cp out: a file, a directory, to stdout as tar.
	out := t.TempDir()
	d.ok("cp", "wr:/root/new.txt", filepath.Join(out, "copy.txt"))
	if b, _ := os.ReadFile(filepath.Join(out, "copy.txt")); string(b) != "data\n" {
		t.Errorf("cp file out: %q", b)
	}
	d.ok("cp", "wr:/opt/app", out)
	if b, _ := os.ReadFile(filepath.Join(out, "app", "conf")); string(b) != "cfg\n" {
		t.Errorf("cp dir out: %q", b)
	}
	d.ok("cp", "wr:/opt/app/.", filepath.Join(out, "contents"))
	if b, _ := os.ReadFile(filepath.Join(out, "contents", "conf")); string(b) != "cfg\n" {
		t.Errorf("cp dir/. out: %q", b)
	}
	r := d.berth("cp", "wr:/root/new.txt", "-")
	if names := tarNames(t, r.stdout); len(names) != 1 || names[0] != "new.txt" {
		t.Errorf("cp to - gave entries %v (%d bytes, stderr %q)", names, len(r.stdout), r.stderr)
	}
	if r := d.fails("cp", "wr:/no/such/file", out); !strings.Contains(r.stderr, "Could not find the file") {
		t.Errorf("cp of a missing file: %v", r)
	}

	// cp in: a file under a new name, a directory into an existing one.
	src := filepath.Join(out, "in")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "sub", "f"), []byte("in-file\n"), 0o640)
	os.WriteFile(filepath.Join(out, "single"), []byte("single\n"), 0o600)
	d.ok("cp", filepath.Join(out, "single"), "wr:/renamed")
	d.ok("cp", src, "wr:/opt")
	// A symlink in the container must not lead a copy out of it.
	d.ok("run", "--name", "evil", "busybox", "sh", "-c", "ln -s / /escape && ln -s /etc /etclink")
	d.ok("cp", filepath.Join(out, "single"), "evil:/escape/")
	d.ok("cp", filepath.Join(out, "single"), "evil:/etclink/single")
	if _, err := os.Stat("/single"); err == nil {
		os.Remove("/single")
		t.Fatal("cp through a symlink wrote to the host's /")
	}
	if got := d.out("start", "-a", "evil"); got != "" {
		t.Logf("%s", got)
	}

	// export: the whole filesystem.
	r = d.berth("export", "wr")
	names := tarNames(t, r.stdout)
	for _, want := range []string{"root/new.txt", "bin/busybox", "renamed", "opt/in/sub/f", "opt/app/hard"} {
		if !contains(names, want) {
			t.Errorf("export lacks %s (%d entries)", want, len(names))
		}
	}
	if contains(names, "bin/vi") {
		t.Errorf("export has the deleted bin/vi")
	}
	if got := d.out("run", "--rm", "committed:v1", "cat", "/renamed"); got == "single" {
		t.Errorf("a file copied after the commit is in the committed image")
	}

	// rm: the container layer goes, the committed image stays.
	upper := filepath.Join(d.root, "containers")
	d.ok("rm", "wr", "evil")
	ents, _ := os.ReadDir(upper)
	if len(ents) != 0 {
		t.Errorf("after rm, %d container directories are left", len(ents))
	}
	if got := d.out("run", "--rm", "committed:v1", "cat", "/root/new.txt"); got != "data" {
		t.Errorf("committed image after rm: %q", got)
	}
	if got := d.out("run", "--rm", "busybox", "sh", "-c", "test -e /root/new.txt && echo leaked || echo clean"); got != "clean" {
		t.Errorf("the base image sees the container's file: %s", got)
	}
	// The committed image survives a save/load through another tool.
	if _, err := exec.LookPath("skopeo"); err == nil {
		arch := filepath.Join(out, "c.tar")
		d.ok("save", "-o", arch, "committed:v1")
		if b, err := exec.Command("skopeo", "inspect", "docker-archive:"+arch).CombinedOutput(); err != nil || !strings.Contains(string(b), `"Layers"`) {
			t.Errorf("skopeo inspect of the saved commit: %v\n%s", err, b)
		}
	}
	d.assertClean()
}

func tarNames(t *testing.T, data string) []string {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader([]byte(data)))
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("read tar: %v (after %v)", err, names)
		}
		names = append(names, strings.TrimSuffix(h.Name, "/"))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
