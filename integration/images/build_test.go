package images

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildPullsBase: `berth build` pulls a FROM image that is not here,
// as Docker's builder does, from the local registry.
func TestBuildPullsBase(t *testing.T) {
	requireEnv(t)
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
