package network

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// berth's name service: one DNS responder per bridge network, listening
// on the network's gateway address (UDP and TCP port 53), which every
// container of the network has as its nameserver. It answers A queries
// for the names of the containers that share a user-defined network with
// the one asking (container name, network aliases, short ID, and
// NAME.NETWORK), as Docker's embedded DNS does; the default bridge has
// no names. Other names with a dot are relayed to the host's resolvers;
// bare names and, with no resolver configured, everything else get
// NXDOMAIN. Queries from outside the network's
// subnet are refused, so a container cannot read another network's
// names through that network's gateway.

// dnsTTL is the TTL of berth's own answers (Docker uses 600 s).
const dnsTTL = 600

// dnsNames maps a querying container's address to the names it can
// resolve. It is rebuilt whole on every change and swapped in atomically.
type dnsNames map[netip.Addr]map[string][]netip.Addr

// answerQuery builds the reply to one query. lookup finds a name; forward
// relays the query (nil: no upstream). It returns nil for garbage, which
// is dropped.
func answerQuery(query []byte, lookup func(string) ([]netip.Addr, bool), forward func([]byte) []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil || h.Response {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return reply(h, nil, dnsmessage.RCodeFormatError, nil)
	}
	name := strings.TrimSuffix(strings.ToLower(q.Name.String()), ".")
	if q.Class == dnsmessage.ClassINET {
		if addrs, ok := lookup(name); ok {
			if q.Type != dnsmessage.TypeA && q.Type != dnsmessage.TypeALL {
				addrs = nil // the name exists, without records of that type
			}
			return reply(h, &q, dnsmessage.RCodeSuccess, addrs)
		}
	}
	// A bare name (no dot) that is not a container's is answered here:
	// only berth could know it, and relaying it would leak container
	// names to the host's resolvers.
	if forward != nil && strings.Contains(name, ".") {
		if r := forward(query); r != nil {
			return r
		}
		return reply(h, &q, dnsmessage.RCodeServerFailure, nil)
	}
	return reply(h, &q, dnsmessage.RCodeNameError, nil)
}

// reply is a response to h with the question q (if any) and A records.
func reply(h dnsmessage.Header, q *dnsmessage.Question, rcode dnsmessage.RCode, addrs []netip.Addr) []byte {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{
		ID: h.ID, Response: true, OpCode: h.OpCode, RecursionDesired: h.RecursionDesired,
		RecursionAvailable: true, Authoritative: rcode == dnsmessage.RCodeSuccess, RCode: rcode,
	})
	b.EnableCompression()
	if q != nil {
		b.StartQuestions()
		b.Question(*q)
		b.StartAnswers()
		for _, a := range addrs {
			b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: dnsTTL},
				dnsmessage.AResource{A: a.As4()})
		}
	}
	msg, err := b.Finish()
	if err != nil {
		return nil
	}
	return msg
}

// forwardQuery relays a query to the upstream servers in turn and
// returns the first answer.
func forwardQuery(upstreams []string, query []byte, useTCP bool) []byte {
	for _, u := range upstreams {
		if r, err := exchange(u, query, useTCP); err == nil {
			return r
		}
	}
	return nil
}

func exchange(server string, query []byte, useTCP bool) ([]byte, error) {
	netw := "udp"
	if useTCP {
		netw = "tcp"
	}
	c, err := net.DialTimeout(netw, server, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if useTCP {
		return tcpExchange(c, query)
	}
	if _, err := c.Write(query); err != nil {
		return nil, err
	}
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	return buf[:n], err
}

func tcpExchange(c net.Conn, query []byte) ([]byte, error) {
	msg := binary.BigEndian.AppendUint16(nil, uint16(len(query)))
	if _, err := c.Write(append(msg, query...)); err != nil {
		return nil, err
	}
	return readTCPMsg(c)
}

func readTCPMsg(r io.Reader) ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	msg := make([]byte, binary.BigEndian.Uint16(l[:]))
	_, err := io.ReadFull(r, msg)
	return msg, err
}

// dnsServer is the responder of one network.
type dnsServer struct {
	subnet netip.Prefix
	udp    *net.UDPConn
	tcp    *net.TCPListener
	// answer replies to a query from src (useTCP: relay over TCP).
	answer func(query []byte, src netip.Addr, useTCP bool) []byte
	log    *slog.Logger
	wg     sync.WaitGroup
}

// startDNS listens on gw:53 and serves queries from subnet.
func startDNS(gw netip.Addr, subnet netip.Prefix, answer func([]byte, netip.Addr, bool) []byte, log *slog.Logger) (*dnsServer, error) {
	ap := netip.AddrPortFrom(gw, 53)
	udp, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, err
	}
	tcp, err := net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(ap))
	if err != nil {
		udp.Close()
		return nil, err
	}
	s := &dnsServer{subnet: subnet, udp: udp, tcp: tcp, answer: answer, log: log}
	s.wg.Add(2)
	go s.serveUDP()
	go s.serveTCP()
	return s, nil
}

// Close stops the server and waits for its goroutines.
func (s *dnsServer) Close() {
	s.udp.Close()
	s.tcp.Close()
	s.wg.Wait()
}

func (s *dnsServer) refused(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	return reply(h, nil, dnsmessage.RCodeRefused, nil)
}

func (s *dnsServer) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, from, err := s.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Warn("dns: read", "err", err)
			}
			return
		}
		query := append([]byte(nil), buf[:n]...)
		// One goroutine per query: a relayed query can take seconds.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			src := from.Addr().Unmap()
			var r []byte
			if s.subnet.Contains(src) {
				r = s.answer(query, src, false)
			} else {
				r = s.refused(query)
			}
			if r != nil {
				s.udp.WriteToUDPAddrPort(r, from)
			}
		}()
	}
}

func (s *dnsServer) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.AcceptTCP()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Warn("dns: accept", "err", err)
			}
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			src := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
			for {
				c.SetDeadline(time.Now().Add(10 * time.Second))
				query, err := readTCPMsg(c)
				if err != nil {
					return
				}
				var r []byte
				if s.subnet.Contains(src) {
					r = s.answer(query, src, true)
				} else {
					r = s.refused(query)
				}
				if r == nil {
					return
				}
				msg := binary.BigEndian.AppendUint16(nil, uint16(len(r)))
				if _, err := c.Write(append(msg, r...)); err != nil {
					return
				}
			}
		}()
	}
}

// hostResolvers reads the nameserver, search and options lines of a
// resolv.conf: where berth relays other names to, and what the
// containers' resolv.conf copies.
func hostResolvers(conf []byte) (servers []string, search, options string) {
	for _, line := range strings.Split(string(conf), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if a, err := netip.ParseAddr(f[1]); err == nil {
				servers = append(servers, netip.AddrPortFrom(a, 53).String())
			}
		case "search", "domain":
			search = strings.Join(f[1:], " ")
		case "options":
			options = strings.Join(f[1:], " ")
		}
	}
	return servers, search, options
}
