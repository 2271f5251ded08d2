package network

import (
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/berth-project/berth/supervisor/internal/metadata"
)

func query(t *testing.T, name string, typ dnsmessage.Type) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 42, RecursionDesired: true})
	b.StartQuestions()
	b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET})
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func parseReply(t *testing.T, msg []byte) (dnsmessage.Header, []netip.Addr) {
	t.Helper()
	var m dnsmessage.Message
	if err := m.Unpack(msg); err != nil {
		t.Fatalf("unpack reply: %v", err)
	}
	var addrs []netip.Addr
	for _, a := range m.Answers {
		if r, ok := a.Body.(*dnsmessage.AResource); ok {
			addrs = append(addrs, netip.AddrFrom4(r.A))
		}
	}
	return m.Header, addrs
}

func TestAnswerQuery(t *testing.T) {
	web := netip.MustParseAddr("10.1.0.2")
	lookup := func(n string) ([]netip.Addr, bool) {
		if n == "web" {
			return []netip.Addr{web}, true
		}
		return nil, false
	}
	h, addrs := parseReply(t, answerQuery(query(t, "WEB.", dnsmessage.TypeA), lookup, nil))
	if h.ID != 42 || !h.Response || h.RCode != dnsmessage.RCodeSuccess || !slices.Equal(addrs, []netip.Addr{web}) {
		t.Errorf("A web = %+v %v", h, addrs)
	}
	h, addrs = parseReply(t, answerQuery(query(t, "web.", dnsmessage.TypeAAAA), lookup, nil))
	if h.RCode != dnsmessage.RCodeSuccess || len(addrs) != 0 {
		t.Errorf("AAAA web = %v %v, want NOERROR without records", h.RCode, addrs)
	}
	h, _ = parseReply(t, answerQuery(query(t, "other.example.", dnsmessage.TypeA), lookup, nil))
	if h.RCode != dnsmessage.RCodeNameError {
		t.Errorf("unknown name without upstream = %v, want NXDOMAIN", h.RCode)
	}
	forwarded := false
	answerQuery(query(t, "other.example.", dnsmessage.TypeA), lookup, func(q []byte) []byte {
		forwarded = true
		return q
	})
	if !forwarded {
		t.Error("unknown name was not forwarded")
	}
	forwarded = false
	h, _ = parseReply(t, answerQuery(query(t, "other.", dnsmessage.TypeA), lookup, func(q []byte) []byte {
		forwarded = true
		return q
	}))
	if forwarded || h.RCode != dnsmessage.RCodeNameError {
		t.Errorf("bare unknown name: forwarded %v, rcode %v; want NXDOMAIN here", forwarded, h.RCode)
	}
	if r := answerQuery([]byte{1, 2, 3}, lookup, nil); r != nil {
		t.Errorf("garbage got a reply: %v", r)
	}
}

// TestBuildNames: containers resolve the names on the user networks they
// share, not on the default bridge nor on networks they are not on.
func TestBuildNames(t *testing.T) {
	nets := map[string]*metadata.Network{
		"d": {ID: "d", Name: DefaultNetwork}, "a": {ID: "a", Name: "neta"}, "b": {ID: "b", Name: "netb"},
	}
	ep := func(id, name string, ens ...metadata.EndpointNetwork) metadata.Endpoint {
		return metadata.Endpoint{ContainerID: id, Name: name, Networks: ens}
	}
	en := func(net, ip string, aliases ...string) metadata.EndpointNetwork {
		return metadata.EndpointNetwork{NetworkID: net, IP: ip, Aliases: aliases}
	}
	eps := []metadata.Endpoint{
		ep("1111111111111111", "web", en("a", "10.1.0.2", "www")),
		ep("2222222222222222", "client", en("a", "10.1.0.3"), en("b", "10.2.0.3")),
		ep("3333333333333333", "db", en("b", "10.2.0.4")),
		ep("4444444444444444", "plain", en("d", "172.30.0.2")),
	}
	names := buildNames(nets, eps)
	a := netip.MustParseAddr
	check := func(from, name string, want ...string) {
		t.Helper()
		got, ok := names[a(from)][name]
		var gs []string
		for _, g := range got {
			gs = append(gs, g.String())
		}
		if ok != (len(want) > 0) || !slices.Equal(gs, want) {
			t.Errorf("from %s, %s = %v (%v), want %v", from, name, gs, ok, want)
		}
	}
	check("10.1.0.2", "client", "10.1.0.3")
	check("10.1.0.2", "www", "10.1.0.2")
	check("10.1.0.2", "db")
	check("10.1.0.3", "db", "10.2.0.4")
	check("10.2.0.3", "web", "10.1.0.2") // any of client's addresses
	check("10.1.0.3", "db.netb", "10.2.0.4")
	check("10.1.0.3", "111111111111", "10.1.0.2")
	check("10.2.0.4", "web")
	check("172.30.0.2", "web")
	check("10.1.0.3", "plain")
}

func TestHostResolvers(t *testing.T) {
	s, search, opts := hostResolvers([]byte("# c\nnameserver 10.0.0.53\nnameserver ::1\nsearch a.example b.example\noptions ndots:2\n"))
	if !slices.Equal(s, []string{"10.0.0.53:53", "[::1]:53"}) || search != "a.example b.example" || opts != "ndots:2" {
		t.Errorf("hostResolvers = %q %q %q", s, search, opts)
	}
	rc := string(resolvConf(netip.MustParseAddr("10.1.0.1"), search, opts))
	if rc != "search a.example b.example\nnameserver 10.1.0.1\noptions ndots:2\n" {
		t.Errorf("resolvConf = %q", rc)
	}
}
