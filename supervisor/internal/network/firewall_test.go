package network

import (
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func testRuleset() ruleset {
	return ruleset{
		Table: "berthunit",
		Bridges: []bridgeRules{
			{Name: "berth0", Subnet: netip.MustParsePrefix("172.30.0.0/16"), Gateway: netip.MustParseAddr("172.30.0.1")},
			{Name: "br-aaa", Subnet: netip.MustParsePrefix("172.31.0.0/16"), Gateway: netip.MustParseAddr("172.31.0.1"), Internal: true},
		},
		Ports: []portRule{
			{Proto: "udp", HostPort: 5353, CtrIP: netip.MustParseAddr("172.30.0.3"), CtrPort: 53},
			{Proto: "tcp", HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 8080, CtrIP: netip.MustParseAddr("172.30.0.2"), CtrPort: 80},
		},
	}
}

func TestScript(t *testing.T) {
	s := testRuleset().script()
	for _, want := range []string{
		"table ip berthunit\ndelete table ip berthunit\ntable ip berthunit {",
		`elements = { "berth0", "br-aaa" }`,
		"elements = { 127.0.0.1 . tcp . 8080 : 172.30.0.2 . 80 }",
		"elements = { udp . 5353 : 172.30.0.3 . 53 }",
		"set nat_subnets {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 172.30.0.0/16 }",
		`iifname "berth0" oifname @bridges oifname != "berth0" drop`,
		`iifname "br-aaa" oifname @bridges oifname != "br-aaa" drop`,
		`iifname "br-aaa" oifname != @bridges drop`,
		"oifname @bridges ip saddr 127.0.0.0/8 masquerade",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	if s != testRuleset().script() {
		t.Error("rendering is not stable")
	}
}

// TestScriptIsValid has nft check the rendered script (-c: parse and
// validate against the kernel, change nothing).
func TestScriptIsValid(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("no nft")
	}
	for _, rs := range []ruleset{testRuleset(), {Table: "berthunit", Bridges: testRuleset().Bridges[:1]}} {
		cmd := exec.Command("nft", "-c", "-f", "-")
		cmd.Stdin = strings.NewReader(rs.script())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("nft -c: %v\n%s\n%s", err, out, rs.script())
		}
	}
}
