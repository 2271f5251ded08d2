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
// network, and skips when berthd's containers are not connected to the
// network manager yet.
func containerEnv(t *testing.T) (*daemon, string) {
	t.Helper()
	requireEnv(t)
	d := startBerthd(t, "", "")
	img := d.importBusybox(t)
	d.ok(t, "network", "create", "appnet")
	if _, e, err := d.berth(t, "run", "--rm", "--network", "appnet", img, "true"); err != nil {
		if strings.Contains(e, "not found") || strings.Contains(e, "not supported") {
			t.Skipf("berthd's containers do not use the network manager yet: %s", e)
		}
		t.Fatalf("run --network appnet: %v\n%s", err, e)
	}
	t.Cleanup(func() {
		table := d.table(t)
		ids, _, _ := d.berth(t, "ps", "-aq")
		for _, id := range strings.Fields(ids) {
			d.berth(t, "rm", "-f", "-v", id)
		}
		d.berth(t, "network", "rm", "appnet")
		d.stop()
		if left := leftovers(d, table, nil); len(left) > 0 {
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
	d.ok(t, "rm", "-f", "pub")
	if got := get(url); got != "" {
		t.Errorf("after rm, %s still answers %q", url, got)
	}
	rules, _ := exec.Command("nft", "list", "table", "ip", d.table(t)).Output()
	if strings.Contains(string(rules), fmt.Sprint(hp)) {
		t.Errorf("rules still mention %d after rm:\n%s", hp, rules)
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
}
