package network

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// containerEnv starts berthd with the busybox image and a user-defined
// network. At the end it removes every container and the network, stops
// berthd and checks that nothing is left in the kernel.
func containerEnv(t *testing.T) (*daemon, string) {
	t.Helper()
	requireEnv(t)
	d := startBerthd(t, "", "")
	img := d.importBusybox(t)
	d.ok(t, "network", "create", "appnet")
	d.ok(t, "run", "--rm", "--network", "appnet", img, "true")
	bridges := []string{d.bridge(t, "bridge"), d.bridge(t, "appnet")}
	t.Cleanup(func() {
		table := d.table(t)
		ids, _, _ := d.berth(t, "ps", "-aq")
		for _, id := range strings.Fields(ids) {
			d.berth(t, "rm", "-f", "-v", id)
		}
		d.berth(t, "network", "rm", "appnet")
		d.stop()
		if left := leftovers(d, table, bridges); len(left) > 0 {
			t.Errorf("left after the containers and berthd stopped: %v", left)
		}
	})
	return d, img
}

const serveWWW = `echo "$MSG" > /www/index.html && exec httpd -f -p 80 -h /www`

// resolveAndFetch is the client side: resolve NAME with berth's DNS
// (busybox nslookup; Debian's static busybox wget cannot resolve names
// itself) and fetch / from it.
const resolveAndFetch = `ip=$(nslookup "$NAME" | awk '/^Address/ && $2 !~ /:53$/ {a=$2} END {print a}'); ` +
	`[ -n "$ip" ] || { echo "cannot resolve $NAME" >&2; exit 3; }; timeout 5 wget -q -O - "http://$ip/"`

func TestContainersReachEachOtherByName(t *testing.T) {
	d, img := containerEnv(t)
	d.ok(t, "run", "-d", "--name", "web", "--network", "appnet", "-e", "MSG=hello by name", img, "sh", "-c", serveWWW)
	waitHTTP(t, d, "appnet", "web")
	out := d.ok(t, "run", "--rm", "--network", "appnet", "-e", "NAME=web", img, "sh", "-c", resolveAndFetch)
	if out != "hello by name\n" {
		t.Errorf("client got %q", out)
	}
	// Another network cannot resolve nor reach web.
	d.ok(t, "network", "create", "othernet")
	defer d.berth(t, "network", "rm", "othernet")
	if out, e, err := d.berth(t, "run", "--rm", "--network", "othernet", "-e", "NAME=web", img, "sh", "-c", resolveAndFetch); err == nil {
		t.Errorf("othernet reached web: %q %q", out, e)
	}
	// Nor can a container on the default bridge.
	if out, _, err := d.berth(t, "run", "--rm", "-e", "NAME=web", img, "sh", "-c", resolveAndFetch); err == nil {
		t.Errorf("the default bridge reached web by name: %q", out)
	}
	if e := d.fails(t, "network", "rm", "appnet"); !strings.Contains(e, "active endpoints") {
		t.Errorf("network rm in use: %q", e)
	}
	// A network alias resolves too; inspect and ps show the network.
	d.ok(t, "run", "-d", "--name", "aliased", "--network", "appnet", "--network-alias", "db", "-e", "MSG=by alias", img, "sh", "-c", serveWWW)
	waitHTTP(t, d, "appnet", "db")
	if out := d.ok(t, "run", "--rm", "--network", "appnet", "-e", "NAME=db", img, "sh", "-c", resolveAndFetch); out != "by alias\n" {
		t.Errorf("client of the alias got %q", out)
	}
	ip := strings.TrimSpace(d.ok(t, "inspect", "-f", "{{.NetworkSettings.Networks.appnet.IPAddress}}", "web"))
	if out := d.ok(t, "run", "--rm", "--network", "appnet", img, "sh", "-c", "nslookup web | awk '/^Address/ && $2 !~ /:53$/ {print $2}'"); strings.TrimSpace(out) != ip || ip == "" {
		t.Errorf("web resolves to %q, inspect says %q", out, ip)
	}
	if ps := d.ok(t, "ps", "--format", "{{.Names}} {{.Networks}}", "-f", "name=web"); ps != "web appnet\n" {
		t.Errorf("ps networks: %q", ps)
	}
	// Another network cannot reach web by address either (isolation).
	// (wget runs under sh: as the container's PID 1 it would ignore the
	// SIGTERM of timeout.)
	if out, _, err := d.berth(t, "run", "--rm", "--network", "othernet", img, "sh", "-c", "timeout 3 wget -q -O - http://"+ip+"/ || exit 1"); err == nil {
		t.Errorf("othernet reached web at %s: %q", ip, out)
	}
}

// waitHTTP waits until a container on net serves / under name.
func waitHTTP(t *testing.T, d *daemon, net, name string) {
	t.Helper()
	for i := 0; i < 20; i++ {
		if _, _, err := d.berth(t, "run", "--rm", "--network", net, "-e", "NAME="+name, "busybox-net:test", "sh", "-c", resolveAndFetch); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s does not serve", name)
}

func TestPublishedPortFromLoopback(t *testing.T) {
	d, img := containerEnv(t)
	hp := freePort(t)
	d.ok(t, "run", "-d", "--name", "pub", "-p", fmt.Sprintf("127.0.0.1:%d:80", hp), "-e", "MSG=published", img, "sh", "-c", serveWWW)
	url := fmt.Sprintf("http://127.0.0.1:%d/", hp)
	var body string
	for i := 0; i < 50; i++ {
		if body = get(url); body != "" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if body != "published\n" {
		t.Fatalf("GET %s = %q", url, body)
	}
	// The port is taken: a second container cannot publish it.
	e := d.fails(t, "run", "-d", "--name", "pub2", "-p", fmt.Sprintf("127.0.0.1:%d:80", hp), img, "sleep", "60")
	if !strings.Contains(e, "already allocated") {
		t.Errorf("second publish of %d: %q", hp, e)
	}
	if got := get(url); got != "published\n" {
		t.Errorf("after the refused publish: %q", got)
	}
	// The refused start left nothing half-configured: one namespace, one
	// veth, one bundle, those of pub; pub2 stays created, as in Docker.
	bridges := []string{d.bridge(t, "bridge")}
	if netns, veths, _, bundles := d.netState(t, bridges); netns != 1 || veths != 1 || bundles != 1 {
		t.Errorf("after the refused publish: %d netns, %d veths, %d bundles; want 1 each", netns, veths, bundles)
	}
	if st := strings.TrimSpace(d.ok(t, "inspect", "-f", "{{.State.Status}}", "pub2")); st != "created" {
		t.Errorf("pub2 is %s, want created", st)
	}
	d.ok(t, "rm", "pub2")
	// port, ps and inspect show the mapping.
	want := fmt.Sprintf("127.0.0.1:%d", hp)
	if out := d.ok(t, "port", "pub"); out != "80/tcp -> "+want+"\n" {
		t.Errorf("port pub = %q", out)
	}
	if out := d.ok(t, "port", "pub", "80"); out != want+"\n" {
		t.Errorf("port pub 80 = %q", out)
	}
	if e := d.fails(t, "port", "pub", "81/udp"); !strings.Contains(e, "No public port '81/udp'") {
		t.Errorf("port pub 81/udp: %q", e)
	}
	if ps := d.ok(t, "ps", "--format", "{{.Names}} {{.Ports}}"); ps != "pub "+want+"->80/tcp\n" {
		t.Errorf("ps ports: %q", ps)
	}
	if got := d.ok(t, "inspect", "-f", `{{range $p, $b := .NetworkSettings.Ports}}{{$p}}={{(index $b 0).HostPort}}{{end}}`, "pub"); got != fmt.Sprintf("80/tcp=%d\n", hp) {
		t.Errorf("inspect Ports: %q", got)
	}
	if got := d.ok(t, "inspect", "-f", `{{json .HostConfig.PortBindings}}`, "pub"); got != fmt.Sprintf(`{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"%d"}]}`+"\n", hp) {
		t.Errorf("inspect HostConfig.PortBindings: %q", got)
	}
	// -p without a host port takes a free one.
	d.ok(t, "run", "-d", "--name", "random", "-p", "127.0.0.1::80", "-e", "MSG=random", img, "sh", "-c", serveWWW)
	rp := strings.TrimSpace(d.ok(t, "port", "random", "80/tcp"))
	if !strings.HasPrefix(rp, "127.0.0.1:") || strings.HasSuffix(rp, ":0") {
		t.Fatalf("port random 80 = %q", rp)
	}
	for i := 0; i < 50 && get("http://"+rp+"/") == ""; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if got := get("http://" + rp + "/"); got != "random\n" {
		t.Errorf("GET %s = %q", rp, got)
	}
	d.ok(t, "rm", "-f", "random")

	d.ok(t, "rm", "-f", "pub")
	if got := get(url); got != "" {
		t.Errorf("after rm, %s still answers %q", url, got)
	}
	rules, _ := exec.Command("nft", "list", "table", "ip", d.table(t)).Output()
	if strings.Contains(string(rules), fmt.Sprint(hp)) {
		t.Errorf("rules still mention %d after rm:\n%s", hp, rules)
	}
	if netns, veths, _, bundles := d.netState(t, bridges); netns+veths+bundles != 0 {
		t.Errorf("after rm: %d netns, %d veths, %d bundles", netns, veths, bundles)
	}
}

func get(url string) string {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestNamedVolumeOutlivesContainer(t *testing.T) {
	d, img := containerEnv(t)
	if _, e, err := d.berth(t, "run", "--name", "writer", "-v", "shared:/data", img, "sh", "-c", "echo kept > /data/note"); err != nil {
		if strings.Contains(e, "not supported") {
			t.Skipf("berthd's containers do not use the volume manager yet: %s", e)
		}
		t.Fatalf("run -v shared:/data: %v\n%s", err, e)
	}
	if e := d.fails(t, "volume", "rm", "shared"); !strings.Contains(e, "in use") {
		t.Errorf("volume rm while writer exists: %q", e)
	}
	d.ok(t, "rm", "writer")
	if out := d.ok(t, "run", "--rm", "-v", "shared:/data:ro", img, "cat", "/data/note"); out != "kept\n" {
		t.Errorf("second container read %q", out)
	}
	// A new volume is filled from the image at its mount point first.
	if out := d.ok(t, "run", "--rm", "-v", "fresh:/data", img, "cat", "/data/from-image"); out != "image content\n" {
		t.Errorf("copy-up: %q", out)
	}
	// Bad input: a --mount bind source that does not exist.
	e := d.fails(t, "run", "--rm", "--mount", "type=bind,src=/nonexistent/berth,dst=/x", img, "true")
	if !strings.Contains(e, "bind source path does not exist") {
		t.Errorf("missing bind source: %q", e)
	}
	d.ok(t, "volume", "rm", "shared", "fresh")

	// An image VOLUME gets an anonymous volume filled from the image,
	// the same one at every start; rm -v removes it.
	d.ok(t, "create", "--name", "base", img, "true")
	d.ok(t, "commit", "-c", "VOLUME /data", "base", "busybox-vol:test")
	d.ok(t, "rm", "base")
	if out := d.ok(t, "run", "--name", "anon", "busybox-vol:test", "sh", "-c", "cat /data/from-image; echo again >> /data/from-image"); out != "image content\n" {
		t.Errorf("image volume: %q", out)
	}
	vols := strings.Fields(d.ok(t, "volume", "ls", "-q"))
	if len(vols) != 1 || len(vols[0]) != 64 {
		t.Fatalf("volumes after run of an image with a VOLUME: %q", vols)
	}
	if out := d.ok(t, "start", "-a", "anon"); out != "image content\nagain\n" {
		t.Errorf("second start sees %q, want the first start's data", out)
	}
	if n := len(strings.Fields(d.ok(t, "volume", "ls", "-q"))); n != 1 {
		t.Errorf("%d volumes after the second start, want 1", n)
	}
	if got := d.ok(t, "inspect", "-f", "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}}{{end}}", "anon"); got != "volume "+vols[0]+" /data\n" {
		t.Errorf("inspect Mounts: %q", got)
	}
	if e := d.fails(t, "volume", "rm", vols[0]); !strings.Contains(e, "in use") {
		t.Errorf("volume rm of the anonymous volume: %q", e)
	}
	d.ok(t, "rm", "-v", "anon")
	if ls := d.ok(t, "volume", "ls", "-q"); ls != "" {
		t.Errorf("rm -v left volumes: %q", ls)
	}
	// Without -v the anonymous volume stays, for volume prune.
	d.ok(t, "run", "--name", "anon2", "busybox-vol:test", "true")
	d.ok(t, "rm", "anon2")
	if n := len(strings.Fields(d.ok(t, "volume", "ls", "-q"))); n != 1 {
		t.Errorf("rm without -v: %d volumes, want 1", n)
	}
	d.ok(t, "volume", "prune", "-f")
}

// TestBerthdRestartKeepsNetworks: containers keep their addresses, names
// and published ports across a berthd stop and a crash; one that exits
// while berthd is down loses its network when berthd comes back; after
// rm and stop nothing is left.
func TestBerthdRestartKeepsNetworks(t *testing.T) {
	requireEnv(t)
	d := startBerthd(t, "", "")
	img := d.importBusybox(t)
	table := d.table(t)
	d.ok(t, "network", "create", "appnet")
	bridges := []string{d.bridge(t, "bridge"), d.bridge(t, "appnet")}
	hp, shortHP := freePort(t), freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", hp)
	d.ok(t, "run", "-d", "--name", "web", "--network", "appnet", "-e", "MSG=named", img, "sh", "-c", serveWWW)
	d.ok(t, "run", "-d", "--name", "pub", "-p", fmt.Sprintf("127.0.0.1:%d:80", hp), "-e", "MSG=kept", img, "sh", "-c", serveWWW)
	waitHTTP(t, d, "appnet", "web")
	ip := d.ok(t, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", "pub")

	check := func(d *daemon, when string) {
		t.Helper()
		var body string
		for i := 0; i < 30; i++ {
			if body = get(url); body != "" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if body != "kept\n" {
			t.Errorf("%s: GET %s = %q", when, url, body)
		}
		if out, e, err := d.berth(t, "run", "--rm", "--network", "appnet", "-e", "NAME=web", img, "sh", "-c", resolveAndFetch); out != "named\n" {
			t.Errorf("%s: fetch by name: %q %v %s", when, out, err, e)
		}
		if got := d.ok(t, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", "pub"); got != ip {
			t.Errorf("%s: pub's address %q, was %q", when, got, ip)
		}
	}

	// A clean stop keeps the containers' networks; so does a crash.
	d.stop()
	if body := get(url); body != "kept\n" {
		t.Errorf("while berthd is stopped: GET %s = %q", url, body)
	}
	d2 := startBerthd(t, d.root, d.state)
	check(d2, "after a stop")
	d2.ok(t, "run", "-d", "--name", "short", "--network", "appnet", "-p", fmt.Sprintf("127.0.0.1:%d:80", shortHP), img, "sleep", "1")
	d2.kill()
	time.Sleep(1500 * time.Millisecond) // short exits while berthd is down
	d3 := startBerthd(t, d.root, d.state)
	check(d3, "after a crash")
	if st := strings.TrimSpace(d3.ok(t, "inspect", "-f", "{{.State.Status}}", "short")); st != "exited" {
		t.Errorf("short is %s, want exited", st)
	}
	if netns, veths, rules, _ := d3.netState(t, bridges, shortHP); netns != 2 || veths != 2 || rules != 0 {
		t.Errorf("after short exited while berthd was down: %d netns, %d veths, %d rules for its port; want 2, 2, 0", netns, veths, rules)
	}
	d3.ok(t, "rm", "-f", "web", "pub", "short")
	if netns, veths, rules, bundles := d3.netState(t, bridges, hp, shortHP); netns+veths+rules+bundles != 0 {
		t.Errorf("after rm: %d netns, %d veths, %d port rules, %d bundles", netns, veths, rules, bundles)
	}
	d3.ok(t, "network", "rm", "appnet")
	d3.stop()
	if left := leftovers(d3, table, bridges); len(left) > 0 {
		t.Errorf("after the last stop: %v", left)
	}
}

// TestConnectDisconnect: `network connect` gives a running container an
// interface on another network, reachable by the others there, and adds
// its new address to the container's /etc/hosts; `disconnect` takes both
// away again.
func TestConnectDisconnect(t *testing.T) {
	d, img := containerEnv(t)
	d.ok(t, "network", "create", "--subnet", "10.234.0.0/24", "second")
	t.Cleanup(func() { d.berth(t, "network", "rm", "second") })
	d.ok(t, "run", "-d", "--name", "roamer", "--hostname", "roamer", "--network", "appnet", img, "sleep", "300")
	t.Cleanup(func() { d.berth(t, "rm", "-f", "roamer") })
	hosts := func() string { return d.ok(t, "exec", "roamer", "cat", "/etc/hosts") }
	before := hosts()
	if strings.Contains(before, "10.234.0.") {
		t.Fatalf("hosts before connect already has the second network:\n%s", before)
	}

	d.ok(t, "network", "connect", "second", "roamer")
	ip := strings.TrimSpace(d.ok(t, "inspect", "-f", "{{.NetworkSettings.Networks.second.IPAddress}}", "roamer"))
	if !strings.HasPrefix(ip, "10.234.0.") {
		t.Fatalf("address on the second network = %q", ip)
	}
	if h := hosts(); !strings.Contains(h, ip+"\troamer\n") || !strings.Contains(h, "127.0.0.1\tlocalhost") {
		t.Errorf("hosts after connect lacks %s roamer:\n%s", ip, h)
	}
	if out := d.ok(t, "run", "--rm", "--network", "second", img, "busybox", "ping", "-c", "1", "-W", "2", ip); !strings.Contains(out, "1 packets received") {
		t.Errorf("ping %s from the second network:\n%s", ip, out)
	}

	d.ok(t, "network", "disconnect", "second", "roamer")
	if h := hosts(); strings.Contains(h, ip) {
		t.Errorf("hosts after disconnect still has %s:\n%s", ip, h)
	}
}
