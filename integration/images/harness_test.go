// Package images holds black-box tests of berthd's image side: each test
// starts its own berthd (temp --root/--state/--address) and its own
// docker-registry on a free 127.0.0.1 port, drives the berth CLI, and
// checks the results with skopeo and podman. They need root and those
// tools; without them they skip.
package images

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/berth-project/berth/integration/internal/berthdtest"
)

var (
	berthdBin, berthBin string
	imageDir            string // OCI layout from hack/make-image.sh: busybox, busybox-extra
	setupErr            error
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	repo, _ := filepath.Abs("../..")
	berthdBin = envOr("BERTHD", filepath.Join(repo, "bin", "berthd"))
	berthBin = envOr("BERTH", filepath.Join(repo, "bin", "berth"))
	if os.Geteuid() == 0 {
		dir, err := os.MkdirTemp("/var/tmp", "berth-images-test-")
		if err != nil {
			setupErr = err
		} else {
			defer os.RemoveAll(dir)
			imageDir = filepath.Join(dir, "oci")
			mk := filepath.Join(repo, "hack", "make-image.sh")
			if out, err := exec.Command(mk, imageDir).CombinedOutput(); err != nil {
				setupErr = fmt.Errorf("make-image.sh: %v\n%s", err, out)
			} else {
				cmd := exec.Command(mk, imageDir)
				cmd.Env = append(os.Environ(), "TAG=busybox-extra", "BASE=busybox", "EXTRA=second layer")
				if out, err := cmd.CombinedOutput(); err != nil {
					setupErr = fmt.Errorf("make-image.sh extra: %v\n%s", err, out)
				}
			}
		}
	}
	return m.Run()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// requireEnv skips unless root with the tools and binaries present.
func requireEnv(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, b := range []string{berthdBin, berthBin} {
		if _, err := os.Stat(b); err != nil {
			t.Skipf("%s not built (make build)", b)
		}
	}
	for _, tool := range append([]string{"docker-registry", "skopeo", "umoci"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	if setupErr != nil {
		t.Fatal(setupErr)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type registry struct {
	addr       string // 127.0.0.1:PORT
	dir        string
	user, pass string
}

// startRegistry runs docker-registry on a free loopback port with its own
// storage; with auth, behind htpasswd (user "berth", password "s3cret").
func startRegistry(t *testing.T, auth bool) *registry {
	t.Helper()
	r := &registry{dir: t.TempDir()}
	r.addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: %s/data
  delete:
    enabled: true
http:
  addr: %s
health:
  storagedriver:
    enabled: false
`, r.dir, r.addr)
	if auth {
		r.user, r.pass = "berth", "s3cret"
		hash, err := bcrypt.GenerateFromPassword([]byte(r.pass), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(r.dir, "htpasswd"), []byte(r.user+":"+string(hash)+"\n"), 0o600)
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: berth-test\n    path: %s/htpasswd\n", r.dir)
	}
	os.WriteFile(filepath.Join(r.dir, "config.yml"), []byte(cfg), 0o644)
	log, _ := os.Create(filepath.Join(r.dir, "registry.log"))
	cmd := exec.Command("docker-registry", "serve", filepath.Join(r.dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		log.Close()
	})
	for i := 0; i < 100; i++ {
		resp, err := http.Get("http://" + r.addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(r.dir, "registry.log"))
	t.Fatalf("registry did not come up:\n%s", b)
	return nil
}

// skopeoCreds is skopeo's credential flag for r, for the given direction.
func (r *registry) skopeoCreds(flag string) []string {
	if r.user == "" {
		return nil
	}
	return []string{flag, r.user + ":" + r.pass}
}

// pushBusybox copies the test image tag (busybox, busybox-extra) into r
// as name with skopeo; format is "", "v2s2" or "oci".
func (r *registry) pushBusybox(t *testing.T, tag, name, format string) {
	t.Helper()
	args := []string{"copy", "--quiet", "--dest-tls-verify=false"}
	if format != "" {
		args = append(args, "--format", format)
	}
	args = append(args, r.skopeoCreds("--dest-creds")...)
	args = append(args, "oci:"+imageDir+":"+tag, "docker://"+r.addr+"/"+name)
	run(t, "skopeo", args...)
}

// skopeoDigest is the manifest digest skopeo reports for ref in r.
func (r *registry) skopeoDigest(t *testing.T, name string) string {
	t.Helper()
	args := append([]string{"inspect", "--tls-verify=false"}, r.skopeoCreds("--creds")...)
	out := run(t, "skopeo", append(args, "docker://"+r.addr+"/"+name)...)
	var v struct{ Digest string }
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("skopeo inspect: %v", err)
	}
	return v.Digest
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

type daemon struct {
	root, state, addr string
	dockerConfig      string
	log               string
	proc              berthdtest.Daemon
}

// startBerthd runs berthd on temp dirs; the same root can be reused by
// passing it (to restart on a kept root).
func startBerthd(t *testing.T, root string) *daemon {
	t.Helper()
	base := t.TempDir()
	if root == "" {
		root = filepath.Join(base, "root")
	}
	d := &daemon{root: root, state: filepath.Join(base, "state"), addr: filepath.Join(base, "berthd.sock"),
		dockerConfig: filepath.Join(base, "docker"), log: filepath.Join(base, "berthd.log")}
	os.MkdirAll(d.dockerConfig, 0o700)
	d.proc = berthdtest.Daemon{Root: d.root, State: d.state, Addr: d.addr, Log: d.log}
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			b, _ := os.ReadFile(d.log)
			t.Logf("berthd log:\n%s", b)
		}
	})
	d.proc.Start(t, berthdBin)
	return d
}

func (d *daemon) stop() { d.proc.Stop(15 * time.Second) }

func (d *daemon) kill() { d.proc.Kill() }

// berth runs the CLI against d (its own Docker config dir for
// credentials); it returns stdout, stderr and the error.
func (d *daemon) berth(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	r := d.proc.Run(t, berthBin, []string{"DOCKER_CONFIG=" + d.dockerConfig}, stdin, 3*time.Minute, args...)
	return r.Stdout, r.Stderr, r.Err()
}

// ok runs the CLI and fails the test on a non-zero exit.
func (d *daemon) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := d.berth(t, "", args...)
	if err != nil {
		t.Fatalf("berth %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// login stores r's credentials for d's CLI.
func (d *daemon) login(t *testing.T, r *registry) {
	t.Helper()
	if r.user == "" {
		return
	}
	out, errOut, err := d.berth(t, r.pass+"\n", "login", "-u", r.user, "--password-stdin", r.addr)
	if err != nil || !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("login: %v\n%s%s", err, out, errOut)
	}
}

type inspected struct {
	ID           string `json:"Id"`
	RepoTags     []string
	RepoDigests  []string
	Architecture string
	Descriptor   struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
	}
}

func (d *daemon) inspect(t *testing.T, name string) inspected {
	t.Helper()
	var v []inspected
	if err := json.Unmarshal([]byte(d.ok(t, "image", "inspect", name)), &v); err != nil || len(v) != 1 {
		t.Fatalf("inspect %s: %v %v", name, err, v)
	}
	return v[0]
}

// snapshotDirs counts the layer directories under d's root.
func (d *daemon) snapshotDirs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(d.root, "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(d.root, "snapshots", e.Name(), "fs")); err == nil && !strings.HasPrefix(e.Name(), "ingest-") {
			n++
		}
	}
	return n
}
