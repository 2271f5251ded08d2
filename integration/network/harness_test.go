// Package network holds black-box tests of berthd's volumes and networks:
// each test starts its own berthd (temp --root/--state/--address, so its
// own nftables table and default bridge, derived from the root) and
// drives the berth CLI. Containers run a busybox image imported from the
// host's static busybox. Traffic goes only to loopback and to the test's
// own containers. The tests need root, nft, ip and busybox; they skip
// without them. The manager-level tests (namespaces and veths driven
// from Go, without containers) are in supervisor/internal/network, the
// only place that may import that package.
package network

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/integration/internal/berthdtest"
)

var berthdBin, berthBin string

func TestMain(m *testing.M) {
	repo, _ := filepath.Abs("../..")
	berthdBin = envOr("BERTHD", filepath.Join(repo, "bin", "berthd"))
	berthBin = envOr("BERTH", filepath.Join(repo, "bin", "berth"))
	os.Exit(m.Run())
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// requireEnv skips unless root with the binaries and tools present.
func requireEnv(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, b := range []string{berthdBin, berthBin} {
		if _, err := os.Stat(b); err != nil {
			t.Skipf("%s not built (make build)", b)
		}
	}
	for _, tool := range []string{"nft", "ip", "busybox"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

type daemon struct {
	root, state, addr, log string
	proc                   berthdtest.Daemon
}

// startBerthd runs berthd on temp dirs, or on root/state when given (to
// restart on kept dirs). It is stopped at the end of the test.
func startBerthd(t *testing.T, root, state string) *daemon {
	t.Helper()
	base := t.TempDir()
	if root == "" {
		root, state = filepath.Join(base, "root"), filepath.Join(base, "state")
	}
	d := &daemon{root: root, state: state, addr: filepath.Join(base, "berthd.sock"), log: filepath.Join(base, "berthd.log")}
	// No resolvers for berth's DNS to relay to: no name leaves the host.
	cfg := filepath.Join(base, "berthd.json")
	os.WriteFile(filepath.Join(base, "resolv.conf"), nil, 0o644)
	os.WriteFile(cfg, []byte(`{"resolv-conf": "`+filepath.Join(base, "resolv.conf")+`"}`), 0o644)
	d.proc = berthdtest.Daemon{Root: d.root, State: d.state, Addr: d.addr, Log: d.log}
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			b, _ := os.ReadFile(d.log)
			t.Logf("berthd log:\n%s", b)
		}
	})
	d.proc.Start(t, berthdBin, "--config", cfg)
	return d
}

func (d *daemon) stop() { d.proc.Stop(20 * time.Second) }

// kill ends berthd with SIGKILL, as a crash would.
func (d *daemon) kill() { d.proc.Kill() }

// bridge is the Linux bridge of network name.
func (d *daemon) bridge(t *testing.T, name string) string {
	t.Helper()
	var n []struct{ Options map[string]string }
	if err := json.Unmarshal([]byte(d.ok(t, "network", "inspect", name)), &n); err != nil || len(n) != 1 {
		t.Fatalf("network inspect %s: %v", name, err)
	}
	return n[0].Options["com.docker.network.bridge.name"]
}

// netState is what of d's containers' networking the kernel and the
// state dir hold: namespace files, veths on the bridges, the table's
// rules that publish the given host ports, bundles. berthd deletes a
// detached container's veth in the background (the namespace file goes
// at once); while there are more veths than namespace files, netState
// gives those deletions up to 5 s before counting.
func (d *daemon) netState(t *testing.T, bridges []string, ports ...int) (netns, veths, rules, bundles int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ents, _ := os.ReadDir(filepath.Join(d.state, "netns"))
		netns, veths = len(ents), 0
		for _, br := range bridges {
			out, _ := exec.Command("ip", "-o", "link", "show", "master", br).Output()
			if s := strings.TrimSpace(string(out)); s != "" {
				veths += len(strings.Split(s, "\n"))
			}
		}
		if veths <= netns || time.Now().After(deadline) {
			break
		}
	}
	tbl, _ := exec.Command("nft", "list", "table", "ip", d.table(t)).Output()
	for _, p := range ports {
		if strings.Contains(string(tbl), fmt.Sprint(p)) {
			rules++
		}
	}
	ents, _ := os.ReadDir(filepath.Join(d.state, "bundles"))
	return netns, veths, rules, len(ents)
}

// berth runs the CLI against d; it returns stdout, stderr and the error.
func (d *daemon) berth(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	return d.berthIn(t, "", args...)
}

// berthIn runs the CLI with stdin.
func (d *daemon) berthIn(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	r := d.proc.Run(t, berthBin, nil, stdin, 2*time.Minute, args...)
	return r.Stdout, r.Stderr, r.Err()
}

// ok runs the CLI and fails the test on a non-zero exit.
func (d *daemon) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := d.berth(t, args...)
	if err != nil {
		t.Fatalf("berth %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// fails runs the CLI, expects a failure and returns stderr.
func (d *daemon) fails(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := d.berth(t, args...)
	if err == nil {
		t.Fatalf("berth %s succeeded:\n%s", strings.Join(args, " "), out)
	}
	return errOut
}

// table is the nftables table of d: berth_ and the first 8 hex digits
// of the SHA-256 of its root (supervisor/networking.go).
func (d *daemon) table(t *testing.T) string {
	t.Helper()
	abs, _ := filepath.Abs(d.root)
	sum := sha256.Sum256([]byte(abs))
	return "berth_" + hex.EncodeToString(sum[:])[:8]
}

// importBusybox imports a one-layer image of the host's static busybox
// (applets as symlinks) as busybox-net:test.
func (d *daemon) importBusybox(t *testing.T) string {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("no /bin/busybox")
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, dir := range []string{"bin/", "etc/", "proc/", "sys/", "dev/", "tmp/", "www/", "data/"} {
		tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755})
	}
	tw.WriteHeader(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bb))})
	tw.Write(bb)
	for _, a := range []string{"sh", "httpd", "nc", "wget", "nslookup", "sleep", "cat", "echo", "ls", "ip", "timeout", "head", "dd", "true", "awk"} {
		tw.WriteHeader(&tar.Header{Name: "bin/" + a, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777})
	}
	page := []byte("image content\n")
	tw.WriteHeader(&tar.Header{Name: "data/from-image", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(page))})
	tw.Write(page)
	tw.Close()
	f := filepath.Join(t.TempDir(), "busybox.tar")
	os.WriteFile(f, buf.Bytes(), 0o644)
	d.ok(t, "import", f, "busybox-net:test")
	return "busybox-net:test"
}

// leftovers lists what of d is still in the kernel: its nftables table,
// bridges on its subnets, veths on them, namespace mounts under its
// state dir.
func leftovers(d *daemon, table string, bridges []string) []string {
	var out []string
	if table != "" {
		if b, _ := exec.Command("nft", "list", "tables").Output(); strings.Contains(string(b), table) {
			out = append(out, "nft table "+table)
		}
	}
	for _, br := range bridges {
		if exec.Command("ip", "link", "show", br).Run() == nil {
			out = append(out, "bridge "+br)
		}
	}
	mounts, _ := os.ReadFile("/proc/mounts")
	for _, line := range strings.Split(string(mounts), "\n") {
		if strings.Contains(line, d.state) {
			out = append(out, "mount "+line)
		}
	}
	return out
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
