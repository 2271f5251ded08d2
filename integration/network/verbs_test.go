package network

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestVolumeVerbs(t *testing.T) {
	requireEnv(t)
	d := startBerthd(t, "", "")
	if out := d.ok(t, "volume", "create", "--label", "team=a", "data"); out != "data\n" {
		t.Errorf("volume create printed %q", out)
	}
	anon := strings.TrimSpace(d.ok(t, "volume", "create"))
	if len(anon) != 64 {
		t.Errorf("unnamed volume name %q, want 64 hex digits", anon)
	}
	ls := d.ok(t, "volume", "ls")
	lines := strings.Split(strings.TrimSpace(ls), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "DRIVER") || !strings.Contains(lines[0], "VOLUME NAME") {
		t.Fatalf("volume ls:\n%s", ls)
	}
	if !strings.Contains(ls, "local") || !strings.Contains(ls, "data") {
		t.Errorf("volume ls:\n%s", ls)
	}
	if q := d.ok(t, "volume", "ls", "-q", "-f", "label=team=a"); q != "data\n" {
		t.Errorf("volume ls -q -f label=team=a = %q", q)
	}

	var v []map[string]any
	if err := json.Unmarshal([]byte(d.ok(t, "volume", "inspect", "data")), &v); err != nil || len(v) != 1 {
		t.Fatalf("volume inspect: %v %v", err, v)
	}
	mp := filepath.Join(d.root, "volumes", "data", "_data")
	for k, want := range map[string]any{"Name": "data", "Driver": "local", "Scope": "local", "Mountpoint": mp} {
		if v[0][k] != want {
			t.Errorf("inspect %s = %v, want %v", k, v[0][k], want)
		}
	}
	if labels, _ := v[0]["Labels"].(map[string]any); labels["team"] != "a" {
		t.Errorf("inspect Labels = %v", v[0]["Labels"])
	}
	if f := d.ok(t, "volume", "inspect", "-f", "{{.Mountpoint}}", "data"); f != mp+"\n" {
		t.Errorf("inspect -f = %q", f)
	}
	if fi, err := os.Stat(mp); err != nil || !fi.IsDir() {
		t.Errorf("mountpoint: %v", err)
	}

	if e := d.fails(t, "volume", "inspect", "nope"); !strings.Contains(e, "no such volume") {
		t.Errorf("inspect missing: %q", e)
	}
	if e := d.fails(t, "volume", "create", "bad/name"); !strings.Contains(e, "bad/name") {
		t.Errorf("create bad name: %q", e)
	}
	if e := d.fails(t, "volume", "create", "-d", "nfs", "x1"); !strings.Contains(e, "local driver") {
		t.Errorf("create -d nfs: %q", e)
	}
	if e := d.fails(t, "volume", "rm", "nope"); !strings.Contains(e, "no such volume") {
		t.Errorf("rm missing: %q", e)
	}
	d.ok(t, "volume", "rm", "-f", "nope")

	// prune takes the anonymous volume only; -a the named one too.
	out := d.ok(t, "volume", "prune", "-f")
	if !strings.Contains(out, anon) || strings.Contains(out, "data\n") || !strings.Contains(out, "Total reclaimed space") {
		t.Errorf("volume prune:\n%s", out)
	}
	os.WriteFile(filepath.Join(mp, "f"), make([]byte, 2000), 0o644)
	out = d.ok(t, "volume", "prune", "-a", "-f")
	if !strings.Contains(out, "data") || !strings.Contains(out, "2kB") {
		t.Errorf("volume prune -a:\n%s", out)
	}
	if ls := d.ok(t, "volume", "ls", "-q"); ls != "" {
		t.Errorf("volumes left: %q", ls)
	}
}

func TestNetworkVerbs(t *testing.T) {
	requireEnv(t)
	d := startBerthd(t, "", "")
	table := d.table(t)
	ls := d.ok(t, "network", "ls")
	if err := exec.Command("nft", "list", "table", "ip", table).Run(); err != nil {
		t.Fatalf("berthd made no nftables table %s: %v", table, err)
	}
	for _, want := range []string{"NETWORK ID", "NAME", "DRIVER", "SCOPE", "bridge", "host", "none", "null", "local"} {
		if !strings.Contains(ls, want) {
			t.Errorf("network ls lacks %q:\n%s", want, ls)
		}
	}
	id := strings.TrimSpace(d.ok(t, "network", "create", "--subnet", "10.231.0.0/24", "--label", "x=y", "testnet"))
	if len(id) != 64 {
		t.Fatalf("network create printed %q", id)
	}
	var n []struct {
		Name, Id, Driver, Scope string
		IPAM                    struct {
			Config []struct{ Subnet, Gateway string }
		}
		Options    map[string]string
		Labels     map[string]string
		Containers map[string]any
	}
	if err := json.Unmarshal([]byte(d.ok(t, "network", "inspect", "testnet")), &n); err != nil || len(n) != 1 {
		t.Fatalf("network inspect: %v", err)
	}
	if n[0].Id != id || n[0].Driver != "bridge" || n[0].Scope != "local" || n[0].Labels["x"] != "y" ||
		len(n[0].IPAM.Config) != 1 || n[0].IPAM.Config[0].Subnet != "10.231.0.0/24" || n[0].IPAM.Config[0].Gateway != "10.231.0.1" {
		t.Errorf("network inspect = %+v", n[0])
	}
	br := n[0].Options["com.docker.network.bridge.name"]
	addr, _ := exec.Command("ip", "-br", "addr", "show", br).Output()
	if !strings.Contains(string(addr), "10.231.0.1/24") {
		t.Errorf("bridge %s: %s", br, addr)
	}
	if q := d.ok(t, "network", "ls", "-q", "-f", "name=testnet"); q != id[:12]+"\n" {
		t.Errorf("network ls -q -f name=testnet = %q", q)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"network", "create", "--subnet", "10.231.0.128/25", "over"}, "overlaps with network testnet"},
		{[]string{"network", "create", "testnet"}, "already exists"},
		{[]string{"network", "create", "--subnet", "10.232.0.1/24", "bad"}, "it should be 10.232.0.0/24"},
		{[]string{"network", "create", "-d", "overlay", "ov"}, "only bridge"},
		{[]string{"network", "rm", "bridge"}, "pre-defined"},
		{[]string{"network", "rm", "nonet"}, "not found"},
		{[]string{"network", "inspect", "nonet"}, "not found"},
		{[]string{"network", "connect", "testnet", "nobody"}, "no running container"},
	} {
		if e := d.fails(t, tc.args...); !strings.Contains(e, tc.want) {
			t.Errorf("berth %s: stderr %q, want %q", strings.Join(tc.args, " "), e, tc.want)
		}
	}
	// The refused overlapping network left no bridge behind.
	if out, _ := exec.Command("ip", "-br", "addr").Output(); strings.Count(string(out), "10.231.0.") != 1 {
		t.Errorf("addresses of 10.231.0.0/24 on the host:\n%s", out)
	}
	if out := d.ok(t, "network", "rm", "testnet"); out != "testnet\n" {
		t.Errorf("network rm printed %q", out)
	}
	if exec.Command("ip", "link", "show", br).Run() == nil {
		t.Errorf("bridge %s left after network rm", br)
	}
	rules, _ := exec.Command("nft", "list", "table", "ip", table).Output()
	if strings.Contains(string(rules), br) {
		t.Errorf("rules still name %s:\n%s", br, rules)
	}
}

// TestRestartLeaksNothing: a berthd stopped with no containers leaves no
// bridge, rule or mount; restarted on the same root it recreates its
// networks as they were.
func TestRestartLeaksNothing(t *testing.T) {
	requireEnv(t)
	d := startBerthd(t, "", "")
	table := d.table(t)
	d.ok(t, "network", "ls")
	if err := exec.Command("nft", "list", "table", "ip", table).Run(); err != nil {
		t.Fatalf("berthd made no nftables table %s: %v", table, err)
	}
	id := strings.TrimSpace(d.ok(t, "network", "create", "--subnet", "10.233.0.0/24", "keep"))
	bridges := []string{"br-" + id[:12]}
	var def []struct{ Options map[string]string }
	json.Unmarshal([]byte(d.ok(t, "network", "inspect", "bridge")), &def)
	bridges = append(bridges, def[0].Options["com.docker.network.bridge.name"])
	d.stop()
	if left := leftovers(d, table, bridges); len(left) > 0 {
		t.Errorf("after berthd stopped: %v", left)
	}
	d2 := startBerthd(t, d.root, d.state)
	if out := d2.ok(t, "network", "ls", "-q", "-f", "name=keep"); out != id[:12]+"\n" {
		t.Errorf("after restart: %q", out)
	}
	addr, _ := exec.Command("ip", "-br", "addr", "show", bridges[0]).Output()
	if !strings.Contains(string(addr), "10.233.0.1/24") {
		t.Errorf("after restart, bridge %s: %q", bridges[0], addr)
	}
	d2.ok(t, "network", "rm", "keep")
	d2.stop()
	if left := leftovers(d2, table, bridges); len(left) > 0 {
		t.Errorf("after the second stop: %v", left)
	}
}

// TestPrune: network prune removes the user-defined networks no running
// container is attached to (bridge and rules with them) and keeps the
// others and the predefined ones; system prune then removes stopped
// containers, unused networks and, with --volumes, anonymous volumes.
func TestPrune(t *testing.T) {
	requireEnv(t)
	d := startBerthd(t, "", "")
	img := d.importBusybox(t)
	d.ok(t, "network", "create", "--subnet", "10.233.0.0/24", "idle")
	d.ok(t, "network", "create", "--subnet", "10.233.1.0/24", "busy")
	idleBr, busyBr := d.bridge(t, "idle"), d.bridge(t, "busy")
	d.ok(t, "run", "-d", "--name", "user", "--network", "busy", img, "sleep", "300")
	t.Cleanup(func() { d.berth(t, "rm", "-f", "user") })

	if out := d.ok(t, "network", "prune", "-f"); out != "Deleted Networks:\nidle\n\n" {
		t.Errorf("network prune printed %q, want only idle deleted", out)
	}
	ls := d.ok(t, "network", "ls", "--format", "{{.Name}}")
	if strings.Contains(ls, "idle") || !strings.Contains(ls, "busy") || !strings.Contains(ls, "bridge") {
		t.Errorf("networks after prune:\n%s", ls)
	}
	if exec.Command("ip", "link", "show", idleBr).Run() == nil {
		t.Errorf("bridge %s of the pruned network left", idleBr)
	}
	if rules, _ := exec.Command("nft", "list", "table", "ip", d.table(t)).Output(); strings.Contains(string(rules), idleBr) {
		t.Errorf("rules still name %s", idleBr)
	}
	// Without -f it asks, and "n" keeps everything.
	if out, _, _ := d.berthIn(t, "n\n", "network", "prune"); !strings.Contains(out, "Are you sure you want to continue? [y/N]") || strings.Contains(out, "Deleted") {
		t.Errorf("network prune answered n printed %q", out)
	}

	// Once its user is gone, system prune takes the network, the stopped
	// container and an anonymous volume.
	d.ok(t, "run", "--name", "stopped", "-v", "/data", img, "true")
	d.ok(t, "rm", "-f", "user")
	out := d.ok(t, "system", "prune", "-f", "--volumes")
	for _, want := range []string{"Deleted Containers:\n", "Deleted Networks:\nbusy\n", "Deleted Volumes:\n", "Total reclaimed space: "} {
		if !strings.Contains(out, want) {
			t.Errorf("system prune output lacks %q:\n%s", want, out)
		}
	}
	if ps := d.ok(t, "ps", "-aq"); ps != "" {
		t.Errorf("containers after system prune: %q", ps)
	}
	if vols := d.ok(t, "volume", "ls", "-q"); vols != "" {
		t.Errorf("volumes after system prune --volumes: %q", vols)
	}
	if exec.Command("ip", "link", "show", busyBr).Run() == nil {
		t.Errorf("bridge %s left after system prune", busyBr)
	}
	// The image is in use by nothing but is tagged: not dangling, kept.
	if imgs := d.ok(t, "images", "-q"); imgs == "" {
		t.Error("system prune without -a removed a tagged image")
	}
}
