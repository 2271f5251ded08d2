package images

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildPullsBase: `berth build` pulls a FROM image that is not here,
// as Docker's builder does, from the local registry; from one with
// authentication, with the credentials of `berth login`.
func TestBuildPullsBase(t *testing.T) {
	requireEnv(t)
	t.Run("auth", func(t *testing.T) {
		reg := startRegistry(t, true)
		reg.pushBusybox(t, "busybox", "private/busybox:1", "oci")
		d := startBerthd(t, "")
		ctx := t.TempDir()
		os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM "+reg.addr+"/private/busybox:1\nCMD [\"echo\", \"private\"]\n"), 0o644)
		// Without credentials the registry refuses.
		if _, stderr, err := d.berth(t, "", "build", "-t", "priv:1", ctx); err == nil {
			t.Fatalf("build from a private registry without login succeeded: %s", stderr)
		}
		d.login(t, reg)
		d.ok(t, "build", "-t", "priv:1", ctx)
		if got := d.ok(t, "run", "--rm", "priv:1"); got != "private\n" {
			t.Errorf("run priv:1 printed %q", got)
		}
	})
	reg := startRegistry(t, false)
	reg.pushBusybox(t, "busybox", "base/busybox:latest", "oci")
	d := startBerthd(t, "")
	ref := reg.addr + "/base/busybox:latest"

	ctx := t.TempDir()
	df := "FROM " + ref + "\nRUN echo pulled-and-built > /marker\nCMD [\"cat\", \"/marker\"]\n"
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	out := d.ok(t, "build", "-t", "frompull:1", ctx)
	for _, want := range []string{"Unable to find image '" + ref + "' locally", "Status: Downloaded newer image for " + ref, "Successfully tagged frompull:1"} {
		if !strings.Contains(out, want) {
			t.Errorf("build output lacks %q:\n%s", want, out)
		}
	}
	if got := d.ok(t, "run", "--rm", "frompull:1"); got != "pulled-and-built\n" {
		t.Errorf("run frompull:1 printed %q", got)
	}
	// An image that exists nowhere: a clear error naming it, no tag.
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM "+reg.addr+"/nothing/here:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := d.berth(t, "", "build", "-t", "never:1", ctx); err == nil || !strings.Contains(stderr, "nothing/here") {
		t.Errorf("build FROM a missing image: err %v, stderr %q", err, stderr)
	}
	if out := d.ok(t, "images", "-q", "never:1"); out != "" {
		t.Errorf("a failed build tagged never:1: %q", out)
	}
}
