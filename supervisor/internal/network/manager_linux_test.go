package network

// Root tests of the Manager against the real kernel: bridges, veths,
// namespaces, nftables, the DNS responder. Each test gets its own
// meta.db, state dir, nftables table and default bridge name, and checks
// at the end that nothing of it is left in the kernel. "Containers" are
// namespaces with busybox run inside through nsenter; traffic goes only
// to loopback and to addresses on the test's own bridges.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/supervisor/internal/metadata"
)

type testEnv struct {
	t      *testing.T
	root   string
	state  string
	table  string
	bridge string
	db     *metadata.DB
	m      *Manager
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, tool := range []string{"nft", "busybox", "nsenter", "unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newEnv starts a Manager of its own. At cleanup it purges and checks
// that no veth, bridge, netns mount or nftables table is left.
func newEnv(t *testing.T) *testEnv {
	t.Helper()
	requireRoot(t)
	suffix := randHex(3)
	e := &testEnv{t: t, root: t.TempDir(), state: t.TempDir(), table: "berthtest" + suffix, bridge: "bt" + suffix}
	var err error
	e.db, err = metadata.Open(filepath.Join(e.root, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	e.open()
	t.Cleanup(func() {
		if err := e.m.Purge(context.Background()); err != nil {
			t.Errorf("Purge: %v", err)
		}
		e.m.Close()
		e.db.Close()
		e.checkClean()
	})
	return e
}

// open (re)starts the manager on the same database, as berthd does.
func (e *testEnv) open() {
	e.t.Helper()
	empty := filepath.Join(e.root, "resolv.conf") // no upstream: nothing leaves the host
	os.WriteFile(empty, nil, 0o644)
	m, err := New(Config{DB: e.db, StateDir: e.state, Table: e.table, DefaultBridge: e.bridge, ResolvConf: empty})
	if err != nil {
		e.t.Fatal(err)
	}
	e.m = m
	if err := m.Restore(context.Background(), nil); err != nil {
		e.t.Fatal(err)
	}
}

// checkClean fails if anything of this environment is left in the kernel.
func (e *testEnv) checkClean() {
	e.t.Helper()
	if out, _ := exec.Command("nft", "list", "tables").CombinedOutput(); strings.Contains(string(out), e.table) {
		e.t.Errorf("nft table %s left:\n%s", e.table, out)
	}
	mounts, _ := os.ReadFile("/proc/mounts")
	if strings.Contains(string(mounts), e.state) {
		e.t.Errorf("mounts left under %s:\n%s", e.state, mounts)
	}
	if linkExists(e.bridge) {
		e.t.Errorf("bridge %s left", e.bridge)
	}
}

// attach attaches a container and registers its Detach.
func (e *testEnv) attach(id, name string, req AttachRequest) *Attachment {
	e.t.Helper()
	a, err := e.m.Attach(context.Background(), id, name, req)
	if err != nil {
		e.t.Fatalf("Attach(%s): %v", id, err)
	}
	return a
}

// httpd runs busybox httpd on port 80 in the namespace, serving body at
// /index.html, until the test ends.
func httpd(t *testing.T, ns, body string) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte(body), 0o644)
	cmd := exec.Command("nsenter", "--net="+ns, "busybox", "httpd", "-f", "-p", "80", "-h", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// Wait until it listens.
	for i := 0; i < 50; i++ {
		out, _ := exec.Command("nsenter", "--net="+ns, "busybox", "netstat", "-ltn").Output()
		if strings.Contains(string(out), ":80 ") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("httpd did not start")
}

// inNS runs a command in the namespace with the attachment's resolv.conf
// and hosts on /etc, in a private mount namespace.
func inNS(a *Attachment, args ...string) (string, error) {
	dir, err := os.MkdirTemp("", "berth-netfiles-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	resolv, hosts := filepath.Join(dir, "resolv.conf"), filepath.Join(dir, "hosts")
	if err := errors.Join(os.WriteFile(resolv, a.ResolvConf, 0o644), os.WriteFile(hosts, a.Hosts, 0o644)); err != nil {
		return "", err
	}
	script := fmt.Sprintf(`mount --bind %s /etc/resolv.conf && mount --bind %s /etc/hosts && exec nsenter --net=%s "$@"`,
		resolv, hosts, a.NetNSPath)
	cmd := exec.Command("unshare", append([]string{"-m", "sh", "-c", script, "sh"}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var nslookupAddr = regexp.MustCompile(`Address:\s+(\d+\.\d+\.\d+\.\d+)\s*$`)

// lookup resolves name from inside a container with busybox nslookup
// and its resolv.conf (busybox's own resolver: Debian's static busybox
// wget crashes in glibc's getaddrinfo on any name, so it gets the address).
func lookup(a *Attachment, name string) (string, error) {
	out, err := inNS(a, "busybox", "nslookup", name)
	if err != nil {
		return "", fmt.Errorf("nslookup %s: %v: %s", name, err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if m := nslookupAddr.FindStringSubmatch(line); m != nil && !strings.HasPrefix(line, "Server") {
			if a.Interfaces != nil && m[1] == a.Interfaces[0].Gateway.String() {
				continue // the server's own address line
			}
			return m[1], nil
		}
	}
	return "", fmt.Errorf("nslookup %s: no address in %q", name, out)
}

func fetch(a *Attachment, url string) (string, error) {
	// Not wget -T: Debian's busybox 1.35 wget crashes with it.
	return inNS(a, "timeout", "3", "busybox", "wget", "-q", "-O", "-", url)
}

func TestTwoContainersByName(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n, err := e.m.Create(ctx, CreateRequest{Name: "appnet"})
	if err != nil {
		t.Fatal(err)
	}
	web := e.attach("c1"+randHex(8), "web", AttachRequest{Networks: []string{"appnet"}, Aliases: []string{"www"}, Hostname: "webhost"})
	client := e.attach("c2"+randHex(8), "client", AttachRequest{Networks: []string{n.ID[:8]}})
	httpd(t, web.NetNSPath, "hello from web")

	if web.Interfaces[0].IP.Addr() == client.Interfaces[0].IP.Addr() {
		t.Fatal("two containers got the same address")
	}
	for _, name := range []string{"web", "www", "web.appnet", "WEB"} {
		ip, err := lookup(client, name)
		if err != nil {
			t.Fatal(err)
		}
		if ip != web.Interfaces[0].IP.Addr().String() {
			t.Errorf("%s resolved to %s, want %s", name, ip, web.Interfaces[0].IP.Addr())
		}
	}
	if ip, err := lookup(client, "nosuchname"); err == nil {
		t.Errorf("nosuchname resolved to %s", ip)
	}
	ip, _ := lookup(client, "web")
	out, err := fetch(client, "http://"+ip+"/index.html")
	if err != nil || out != "hello from web" {
		t.Errorf("fetch web from client = %q, %v", out, err)
	}
	hosts := web.Hosts
	if !strings.Contains(string(hosts), web.Interfaces[0].IP.Addr().String()+"\twebhost") {
		t.Errorf("hosts file lacks the container's own name:\n%s", hosts)
	}
	// Inside: eth0 with the address and the default route.
	routes, _ := exec.Command("nsenter", "--net="+client.NetNSPath, "ip", "route").Output()
	if !strings.Contains(string(routes), "default via "+client.Interfaces[0].Gateway.String()+" dev eth0") {
		t.Errorf("routes in the container:\n%s", routes)
	}

	// Removing a network in use fails and changes nothing.
	if err := e.m.Remove(ctx, "appnet"); !errors.Is(err, ErrInUse) {
		t.Errorf("Remove(appnet) in use = %v, want ErrInUse", err)
	}
	if _, err := lookup(client, "web"); err != nil {
		t.Errorf("after the refused Remove: %v", err)
	}
	for _, a := range []*Attachment{web, client} {
		veth := ""
		ep := e.endpoint(a)
		veth = ep.Networks[0].HostVeth
		if err := e.m.Detach(ctx, ep.ContainerID); err != nil {
			t.Fatal(err)
		}
		e.m.Settle()
		if linkExists(veth) {
			t.Errorf("veth %s left after Detach", veth)
		}
		if _, err := os.Stat(a.NetNSPath); !os.IsNotExist(err) {
			t.Errorf("netns file %s after Detach: %v", a.NetNSPath, err)
		}
	}
	br := n.Bridge
	if err := e.m.Remove(ctx, "appnet"); err != nil {
		t.Fatal(err)
	}
	if linkExists(br) {
		t.Errorf("bridge %s left after Remove", br)
	}
	if err := e.m.Detach(ctx, "c-never"); err != nil {
		t.Errorf("Detach of an unknown container = %v, want nil", err)
	}
}

// endpoint finds the record behind an attachment.
func (e *testEnv) endpoint(a *Attachment) *metadata.Endpoint {
	e.t.Helper()
	var ep *metadata.Endpoint
	e.db.View(func(tx *metadata.Tx) error {
		eps, _ := tx.Endpoints()
		for i := range eps {
			if eps[i].NetNS == a.NetNSPath {
				ep = &eps[i]
			}
		}
		return nil
	})
	if ep == nil {
		e.t.Fatalf("no endpoint for %s", a.NetNSPath)
	}
	return ep
}

func freePort(t *testing.T) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

func httpGet(url string) (string, error) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestPublishFromLoopback: -p 127.0.0.1:HOST:80 and -p 80 reach busybox
// httpd in the container from the host; a port in use is refused with
// nothing half-configured; the rules go with Detach.
func TestPublishFromLoopback(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hp := freePort(t)
	ports, err := ParsePorts([]string{fmt.Sprintf("127.0.0.1:%d:80", hp), "80"})
	if err != nil {
		t.Fatal(err)
	}
	id := "p1" + randHex(8)
	a := e.attach(id, "pub", AttachRequest{Ports: ports})
	httpd(t, a.NetNSPath, "published")
	if a.Ports[1].HostPort == 0 {
		t.Fatalf("random host port not filled in: %v", a.Ports)
	}
	for _, p := range a.Ports {
		got, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/index.html", p.HostPort))
		if err != nil || got != "published" {
			t.Errorf("GET through %v = %q, %v", p, got, err)
		}
	}
	rules, _ := exec.Command("nft", "list", "table", "ip", e.table).Output()
	if !strings.Contains(string(rules), fmt.Sprintf("127.0.0.1 . tcp . %d", hp)) {
		t.Errorf("published port not in the ruleset:\n%s", rules)
	}

	// The same host port again: refused, and no trace of the second one.
	_, err = e.m.Attach(ctx, "p2"+randHex(8), "pub2", AttachRequest{Ports: []PortMapping{{Proto: "tcp", HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: hp, ContainerPort: 80}}})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "already allocated") {
		t.Fatalf("second Attach on port %d = %v, want ErrConflict (already allocated)", hp, err)
	}
	entries, _ := os.ReadDir(filepath.Join(e.state, "netns"))
	if len(entries) != 1 {
		t.Errorf("netns files after the failed attach: %v", entries)
	}
	// A program of the host cannot take a published port either.
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", hp)); err == nil {
		l.Close()
		t.Errorf("a host program could listen on published port %d", hp)
	}

	if err := e.m.Detach(ctx, id); err != nil {
		t.Fatal(err)
	}
	rules, _ = exec.Command("nft", "list", "table", "ip", e.table).Output()
	if strings.Contains(string(rules), fmt.Sprintf("%d", hp)) {
		t.Errorf("port %d still in the ruleset after Detach:\n%s", hp, rules)
	}
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", hp)); err != nil {
		t.Errorf("port %d still held after Detach: %v", hp, err)
	} else {
		l.Close()
	}
}

// TestIsolation: containers on different user networks cannot reach each
// other or resolve each other's names; containers on one network can.
func TestIsolation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, n := range []string{"neta", "netb"} {
		if _, err := e.m.Create(ctx, CreateRequest{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	srv := e.attach("i1"+randHex(8), "srv", AttachRequest{Networks: []string{"neta"}})
	same := e.attach("i2"+randHex(8), "same", AttachRequest{Networks: []string{"neta"}})
	other := e.attach("i3"+randHex(8), "other", AttachRequest{Networks: []string{"netb"}})
	httpd(t, srv.NetNSPath, "isolated")
	url := "http://" + srv.Interfaces[0].IP.Addr().String() + "/index.html"
	if out, err := fetch(same, url); err != nil || out != "isolated" {
		t.Errorf("same network: %q, %v", out, err)
	}
	if out, err := fetch(other, url); err == nil {
		t.Errorf("other network reached srv: %q", out)
	}
	if ip, err := lookup(other, "srv"); err == nil {
		t.Errorf("other network resolved srv to %s", ip)
	}
	// Asking netb's gateway... and neta's: refused from outside neta.
	out, _ := inNS(other, "busybox", "nslookup", "srv", srv.Interfaces[0].Gateway.String())
	if strings.Contains(out, srv.Interfaces[0].IP.Addr().String()) {
		t.Errorf("neta's DNS answered a netb container:\n%s", out)
	}

	// connect puts other on neta too: now it reaches and resolves srv.
	if err := e.m.Connect(ctx, "neta", "other", []string{"o2"}); err != nil {
		t.Fatal(err)
	}
	if ip, err := lookup(other, "srv"); err != nil || ip != srv.Interfaces[0].IP.Addr().String() {
		t.Errorf("after connect: srv = %s, %v", ip, err)
	}
	if out, err := fetch(other, url); err != nil || out != "isolated" {
		t.Errorf("after connect: %q, %v", out, err)
	}
	if ip, err := lookup(srv, "o2"); err != nil {
		t.Errorf("alias given at connect: %s, %v", ip, err)
	}
	if err := e.m.Connect(ctx, "neta", "other", nil); !errors.Is(err, ErrConflict) {
		t.Errorf("second connect = %v, want ErrConflict", err)
	}
	if err := e.m.Disconnect(ctx, "neta", "other", false); err != nil {
		t.Fatal(err)
	}
	if out, err := fetch(other, url); err == nil {
		t.Errorf("after disconnect other still reaches srv: %q", out)
	}
	if err := e.m.Disconnect(ctx, "neta", "other", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("second disconnect = %v, want ErrNotFound", err)
	}
}

// TestRestart: a restarted manager keeps running containers' networks
// (published ports work again, no address is handed out twice) and
// removes the endpoints of containers that are gone.
func TestRestart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hp := freePort(t)
	keepID, goneID := "r1"+randHex(8), "r2"+randHex(8)
	a := e.attach(keepID, "keep", AttachRequest{Ports: []PortMapping{{Proto: "tcp", HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: hp, ContainerPort: 80}}})
	gone := e.attach(goneID, "gone", AttachRequest{})
	goneVeth := e.endpoint(gone).Networks[0].HostVeth
	httpd(t, a.NetNSPath, "survived")

	e.m.Close()
	// Someone flushes berth's table while berthd is down.
	exec.Command("nft", "delete", "table", "ip", e.table).Run()
	empty := filepath.Join(e.root, "resolv.conf")
	m, err := New(Config{DB: e.db, StateDir: e.state, Table: e.table, DefaultBridge: e.bridge, ResolvConf: empty})
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	if err := m.Restore(ctx, func(id string) bool { return id == keepID }); err != nil {
		t.Fatal(err)
	}
	if got, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/index.html", hp)); err != nil || got != "survived" {
		t.Errorf("after restart: %q, %v", got, err)
	}
	if linkExists(goneVeth) {
		t.Errorf("veth %s of the gone container left", goneVeth)
	}
	if _, err := os.Stat(gone.NetNSPath); !os.IsNotExist(err) {
		t.Errorf("netns of the gone container: %v", err)
	}
	b := e.attach("r3"+randHex(8), "new", AttachRequest{})
	if b.Interfaces[0].IP == a.Interfaces[0].IP {
		t.Errorf("after restart %s was handed out again", b.Interfaces[0].IP)
	}
	if _, err := e.m.Get(ctx, goneID); !errors.Is(err, ErrNotAttached) {
		t.Errorf("Get(gone) = %v, want ErrNotAttached", err)
	}
}

// TestModesAndBadInput: host and none, and the errors that must leave
// nothing behind.
func TestModesAndBadInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := e.attach("h1"+randHex(8), "h", AttachRequest{Networks: []string{"host"}, Ports: []PortMapping{{Proto: "tcp", ContainerPort: 80}}})
	if h.NetNSPath != "" || h.Mode != HostNetwork || len(h.Ports) != 0 {
		t.Errorf("host mode attachment = %+v", h)
	}
	hosts := h.Hosts
	real, _ := os.ReadFile("/etc/hosts")
	if string(hosts) != string(real) {
		t.Errorf("host mode hosts file is not the host's")
	}
	n := e.attach("n1"+randHex(8), "n", AttachRequest{Networks: []string{"none"}})
	links, _ := exec.Command("nsenter", "--net="+n.NetNSPath, "ip", "-o", "link").Output()
	if strings.Count(string(links), "\n") != 1 || !strings.Contains(string(links), "lo:") {
		t.Errorf("none mode links:\n%s", links)
	}

	nw, err := e.m.Create(ctx, CreateRequest{Name: "fixed", Subnet: "10.213.0.0/24", Gateway: "10.213.0.254"})
	if err != nil {
		t.Fatal(err)
	}
	if nw.Gateway != "10.213.0.254" {
		t.Errorf("gateway = %s", nw.Gateway)
	}
	for _, tc := range []struct {
		req  CreateRequest
		want error
	}{
		{CreateRequest{Name: "fixed"}, ErrConflict},
		{CreateRequest{Name: "over", Subnet: "10.213.0.128/25"}, ErrConflict},
		{CreateRequest{Name: "over2", Subnet: "10.0.0.0/8"}, ErrConflict},
		{CreateRequest{Name: "bad", Subnet: "10.214.0.1/24"}, ErrInvalidArgument},
		{CreateRequest{Name: "bad", Subnet: "10.214.0.0/24", Gateway: "10.215.0.1"}, ErrInvalidArgument},
		{CreateRequest{Name: "-x"}, ErrInvalidArgument},
		{CreateRequest{Name: "x", Driver: "overlay"}, ErrInvalidArgument},
	} {
		if _, err := e.m.Create(ctx, tc.req); !errors.Is(err, tc.want) {
			t.Errorf("Create(%+v) = %v, want %v", tc.req, err, tc.want)
		}
	}
	if err := e.m.Remove(ctx, "bridge"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Remove(bridge) = %v", err)
	}
	if err := e.m.Remove(ctx, "nonet"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove(nonet) = %v", err)
	}
	for _, req := range []AttachRequest{
		{Networks: []string{"nonet"}},
		{Networks: []string{"host", "bridge"}},
		{Networks: []string{"bridge", "none"}},
	} {
		if _, err := e.m.Attach(ctx, "bad"+randHex(4), "", req); err == nil {
			t.Errorf("Attach(%v) succeeded", req.Networks)
		}
	}
	if _, err := e.m.Attach(ctx, "../x", "", AttachRequest{}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Attach(../x) = %v", err)
	}
	id := "dup" + randHex(4)
	e.attach(id, "", AttachRequest{})
	if _, err := e.m.Attach(ctx, id, "", AttachRequest{}); !errors.Is(err, ErrConflict) {
		t.Errorf("Attach twice = %v, want ErrConflict", err)
	}
	entries, _ := os.ReadDir(filepath.Join(e.state, "netns"))
	if len(entries) != 2 { // none + dup
		t.Errorf("netns files: %d, want 2", len(entries))
	}
	list, _ := e.m.List(ctx)
	var names []string
	for _, n := range list {
		names = append(names, n.Name)
	}
	if strings.Join(names, " ") != "bridge fixed host none" {
		t.Errorf("List = %v", names)
	}
}

// countingFirewall counts the scripts that reach nft.
type countingFirewall struct {
	firewall
	n int
}

func (c *countingFirewall) apply(script string) error {
	c.n++
	return c.firewall.apply(script)
}

// TestFirewallOnlyOnChange: a container without published ports leaves
// the table as it was, so its start and stop run no nft; one with ports
// rewrites it on both.
func TestFirewallOnlyOnChange(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fw := &countingFirewall{firewall: e.m.fw}
	e.m.fw = fw
	id := "f1" + randHex(8)
	e.attach(id, "plain", AttachRequest{})
	if err := e.m.Detach(ctx, id); err != nil {
		t.Fatal(err)
	}
	if fw.n != 0 {
		t.Errorf("attach and detach without ports ran nft %d times, want 0", fw.n)
	}
	ports, err := ParsePorts([]string{fmt.Sprintf("127.0.0.1:%d:80", freePort(t))})
	if err != nil {
		t.Fatal(err)
	}
	id = "f2" + randHex(8)
	e.attach(id, "pub", AttachRequest{Ports: ports})
	if err := e.m.Detach(ctx, id); err != nil {
		t.Fatal(err)
	}
	if fw.n != 2 {
		t.Errorf("attach and detach with a port ran nft %d times, want 2", fw.n)
	}
	// The table is really there and current (not only remembered).
	rules, err := exec.Command("nft", "list", "table", "ip", e.table).Output()
	if err != nil || !strings.Contains(string(rules), "chain publish") {
		t.Errorf("table %s after the runs: %v\n%s", e.table, err, rules)
	}
}

// TestNetNSPool: attaches take the namespace made ahead (lo up, nothing
// of it in the mount table while it waits) and each container still gets
// a namespace of its own.
func TestNetNSPool(t *testing.T) {
	e := newEnv(t)
	// Restore started the pool; wait for its namespace.
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		e.m.pool.mu.Lock()
		n := len(e.m.pool.fds)
		e.m.pool.mu.Unlock()
		if n == poolSize {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the pool has %d namespaces, want %d", n, poolSize)
		}
	}
	if mounts, _ := os.ReadFile("/proc/mounts"); strings.Contains(string(mounts), e.state) {
		t.Errorf("a waiting namespace shows in the mount table:\n%s", mounts)
	}
	inode := func(p string) uint64 {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	seen := map[uint64]string{}
	for _, id := range []string{strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64)} {
		a := e.attach(id, "c"+id[:1], AttachRequest{Networks: []string{"none"}})
		if !isNetNS(a.NetNSPath) {
			t.Fatalf("%s is not a network namespace", a.NetNSPath)
		}
		if other, dup := seen[inode(a.NetNSPath)]; dup {
			t.Errorf("%s and %s share a namespace", id[:1], other)
		}
		seen[inode(a.NetNSPath)] = id[:1]
		out, err := exec.Command("nsenter", "--net="+a.NetNSPath, "ip", "-o", "link", "show", "lo").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "UP") {
			t.Errorf("lo in %s: %v %s", id[:1], err, out)
		}
		if err := e.m.Detach(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
}
