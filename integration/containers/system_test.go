package containers

import (
	"encoding/json"
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestVersionAndInfo: `berth version` and `berth info` report the daemon,
// its binaries and its objects, in Docker's layout and keys (--format);
// with no daemon, version still prints the client and fails.
func TestVersionAndInfo(t *testing.T) {
	d := startBerthd(t)

	out := d.ok("version")
	for _, want := range []string{"Client:", "Server:", " Engine:", " berth-runtime:", " containerd-shim-berth-v2:", "OS/Arch:           " + runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(out, want) {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}
	var v struct {
		Client, Server struct {
			Version, ApiVersion, Os string
			Components              []struct{ Name, Version string }
		}
	}
	if err := json.Unmarshal([]byte(d.ok("version", "--format", "{{json .}}")), &v); err != nil {
		t.Fatalf("version --format '{{json .}}': %v", err)
	}
	if v.Server.Version == "" || v.Server.ApiVersion != "1" || v.Client.Os != runtime.GOOS {
		t.Errorf("version JSON: %+v", v)
	}
	names := map[string]string{}
	for _, c := range v.Server.Components {
		names[c.Name] = c.Version
	}
	if names["berth-runtime"] == "" || names["containerd-shim-berth-v2"] == "" || names["Engine"] != v.Server.Version {
		t.Errorf("components without versions: %v", names)
	}

	// One running, one paused, one stopped; one image (the test image).
	d.ok("run", "-d", "--name", "up", "busybox", "sleep", "300")
	d.ok("run", "-d", "--name", "frozen", "busybox", "sleep", "300")
	d.ok("pause", "frozen")
	d.ok("run", "--name", "done", "busybox", "true")
	got := d.out("info", "--format", "{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}} {{.Images}} {{.DockerRootDir}} {{.ClientInfo.Version}}")
	if f := strings.Fields(got); len(f) != 7 || strings.Join(f[:6], " ") != "3 1 1 1 1 "+d.root || f[6] == "" {
		t.Errorf("info --format = %q, want counts 3 1 1 1 1, root %s, a client version", got, d.root)
	}
	info := d.ok("info")
	for _, want := range []string{"Server:", " Containers: 3", "  Running: 1", "  Paused: 1", "  Stopped: 1", " Images: 1", " Storage Driver: overlayfs", " Default Runtime: berth-runtime", "  seccomp", " Live Restore Enabled: true"} {
		if !strings.Contains(info, want+"\n") {
			t.Errorf("info output lacks line %q:\n%s", want, info)
		}
	}
	d.ok("rm", "-f", "up", "frozen", "done")

	// No daemon at the address: the client part, then the error.
	r := d.berth("-H", d.dir+"/nothing.sock", "version")
	if r.code != 1 || !strings.Contains(r.stdout, "Client:") || strings.Contains(r.stdout, "Server:") || !strings.Contains(r.stderr, "is berthd running?") {
		t.Errorf("version without a daemon: %v", r)
	}
	if _, err := os.Stat(d.dir + "/nothing.sock"); err == nil {
		t.Error("version created the socket path it tried")
	}
}
