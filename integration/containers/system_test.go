package containers

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
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

// TestSystemDf: disk usage counts images, containers and volumes, with
// the container layer's and the volume's data and what pruning would
// give back.
func TestSystemDf(t *testing.T) {
	d := startBerthd(t)
	d.ok("run", "-d", "--name", "writer", "-v", "/vol", "busybox", "sh", "-c",
		"dd if=/dev/zero of=/layer bs=1024 count=200 2>/dev/null; dd if=/dev/zero of=/vol/data bs=1024 count=30 2>/dev/null; sleep 300")
	d.ok("run", "--name", "idle", "busybox", "sh", "-c", "dd if=/dev/zero of=/junk bs=1024 count=50 2>/dev/null")
	// The writer has written once its volume holds the data.
	for i := 0; i < 100 && !strings.Contains(d.out("exec", "writer", "ls", "-l", "/vol"), "30720"); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	rows := map[string][]string{}
	for _, l := range lines(d.ok("system", "df", "--format", "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}")) {
		f := strings.Split(l, "|")
		rows[f[0]] = f[1:]
	}
	want := map[string][]string{
		"Images":        {"1", "1"},
		"Containers":    {"2", "1", "256kB", "51.2kB (20%)"},
		"Local Volumes": {"1", "1", "30.7kB", "0B (0%)"},
		"Build Cache":   {"0", "0", "0B", "0B"},
	}
	for typ, w := range want {
		got := rows[typ]
		if len(got) < len(w) || strings.Join(got[:len(w)], "|") != strings.Join(w, "|") {
			t.Errorf("system df %s = %v, want %v", typ, got, w)
		}
	}
	if out := d.ok("system", "df"); !strings.HasPrefix(out, "TYPE ") || !strings.Contains(out, "RECLAIMABLE") {
		t.Errorf("system df table:\n%s", out)
	}
	d.ok("rm", "-fv", "writer", "idle")
}

// TestEvents: a container's life as `berth events` reports it, replayed
// with --since/--until and filtered; a live follower sees a later event.
func TestEvents(t *testing.T) {
	d := startBerthd(t)
	start := time.Now()
	if r := d.berth("run", "--name", "ev", "busybox", "sh", "-c", "exit 3"); r.code != 3 {
		t.Fatalf("run exit 3: %v", r)
	}
	d.ok("rm", "ev")
	end := time.Now()

	since, until := fmt.Sprint(start.Unix()), fmt.Sprint(end.Unix()+1)
	out := d.ok("events", "--since", since, "--until", until, "--filter", "type=container", "--format", "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}")
	if got, want := strings.Fields(strings.ReplaceAll(out, "\n", " | ")), strings.Fields("create ev <no value> | start ev <no value> | die ev 3 | destroy ev <no value> |"); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events:\n%s\nwant create, start, die (exitCode 3), destroy", out)
	}
	// Docker's default line: time type action ID (attributes).
	line := lines(d.ok("events", "--since", since, "--until", until, "-f", "event=die"))
	if len(line) != 1 || !strings.Contains(line[0], " container die ") || !strings.Contains(line[0], "exitCode=3") || !strings.Contains(line[0], "name=ev") {
		t.Errorf("events -f event=die: %q", line)
	}
	// Image events name the image by ID and the tag in name, as Docker's.
	t0 := fmt.Sprint(time.Now().Unix())
	d.ok("tag", "busybox", "evtag:1")
	tagEv := d.ok("events", "--since", t0, "--until", fmt.Sprint(time.Now().Unix()+1), "-f", "type=image", "--format", "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}")
	if f := strings.Fields(tagEv); len(f) != 3 || f[0] != "tag" || !strings.HasPrefix(f[1], "sha256:") || f[2] != "evtag:1" {
		t.Errorf("tag event: %q", tagEv)
	}
	// Exec events, as Docker's: the action names the command; exec_die
	// carries the exit code. event=exec_start matches the family.
	t1 := fmt.Sprint(time.Now().Unix())
	d.ok("run", "-d", "--name", "evx", "busybox", "sleep", "60")
	if r := d.berth("exec", "evx", "sh", "-c", "exit 4"); r.code != 4 {
		t.Errorf("exec exit 4: %v", r)
	}
	execEv := d.ok("events", "--since", t1, "--until", fmt.Sprint(time.Now().Unix()+1), "-f", "container=evx",
		"-f", "event=exec_create", "-f", "event=exec_start", "-f", "event=exec_die", "--format", "{{.Action}}|{{.Actor.Attributes.exitCode}}")
	if execEv != "exec_create: sh -c exit 4|<no value>\nexec_start: sh -c exit 4|<no value>\nexec_die|4\n" {
		t.Errorf("exec events:\n%s", execEv)
	}
	d.ok("rm", "-f", "evx")
	if r := d.fails("events", "--filter", "colour=red", "--until", until); !strings.Contains(r.stderr, "invalid filter") {
		t.Errorf("bad filter: %v", r)
	}

	// A follower without --since sees what happens after it starts.
	cmd := exec.Command(berthBin, "events", "--filter", "event=create", "--format", "{{.Actor.Attributes.name}}")
	cmd.Env = append(os.Environ(), "BERTH_ADDRESS="+d.addr)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	got := make(chan string, 1)
	go func() {
		// One whole line: the template's text and its newline may come
		// in separate writes.
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		got <- line
	}()
	time.Sleep(300 * time.Millisecond) // let it subscribe
	d.ok("create", "--name", "later", "busybox", "true")
	select {
	case s := <-got:
		if s != "later\n" {
			t.Errorf("follower printed %q, want later", s)
		}
	case <-time.After(10 * time.Second):
		t.Error("the follower saw no create event")
	}
	d.ok("rm", "later")
}
