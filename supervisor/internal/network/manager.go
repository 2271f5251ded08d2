package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-project/berth/supervisor/internal/metadata"
)

// The predefined networks, as in Docker.
const (
	DefaultNetwork = "bridge"
	HostNetwork    = "host"
	NoneNetwork    = "none"
)

// Network drivers.
const (
	DriverBridge = "bridge"
	DriverHost   = "host"
	DriverNull   = "null"
)

// Config configures a Manager. Every name that touches the host is
// configurable so that tests can run several berthds side by side.
type Config struct {
	DB *metadata.DB
	// StateDir is berthd's --state: namespaces go to StateDir/netns/ID,
	// hosts and resolv.conf files to StateDir/network/ID/.
	StateDir string
	// Table is the nftables table (family ip) berth owns; "berth".
	Table string
	// DefaultBridge names the default network's bridge; "berth0".
	DefaultBridge string
	// DefaultSubnet is the default network's subnet when it is first
	// created; "" picks a free one, 172.30.0.0/16 first.
	DefaultSubnet string
	// ResolvConf is the host's resolver configuration: where berth's DNS
	// relays other names, and the search domains containers get;
	// "/etc/resolv.conf". Point it at an empty file for no relaying.
	ResolvConf string
	// HostsFile is copied for --network host; "/etc/hosts".
	HostsFile string
	// HostsChanged, if set, gets a running container's new hosts file
	// after `network connect` or `disconnect` changed its addresses, to
	// update the copy the container sees.
	HostsChanged func(containerID string, hosts []byte)
	Log          *slog.Logger
}

// Network is a network as the API shows it.
type Network struct {
	metadata.Network
	// Endpoints are the containers attached, with their address here.
	Endpoints []NetworkEndpoint
}

// NetworkEndpoint is one container on a network.
type NetworkEndpoint struct {
	ContainerID string
	Name        string
	IP          netip.Prefix // address and subnet length
	MAC         string
}

// Manager owns berthd's networks and the network side of its containers.
type Manager struct {
	cfg Config
	db  *metadata.DB
	fw  firewall

	// mu serializes every change; the kernel, meta.db and the fields
	// below change together under it.
	mu       sync.Mutex
	reserved map[string][]io.Closer // container ID -> held host ports
	dns      map[string]*dnsServer  // network ID -> its responder
	names    atomic.Pointer[dnsNames]

	upstreams       []string
	search, dnsOpts string
	closed          bool
	// applied is the table as last written: a start or stop that does
	// not change it (no published ports) costs no nft run, which is
	// most of a container's network set-up time.
	applied string
	// pool has a namespace ready for the next attach.
	pool nsPool
	// bg counts veth deletions still running (see deleteVethsLater).
	bg sync.WaitGroup
}

// New opens the manager: it records the predefined networks. The first
// time, it picks the default bridge's subnet and creates the bridge to
// claim it; otherwise it changes nothing in the kernel: Restore does.
func New(cfg Config) (*Manager, error) {
	if cfg.Table == "" {
		cfg.Table = "berth"
	}
	if cfg.DefaultBridge == "" {
		cfg.DefaultBridge = "berth0"
	}
	if cfg.ResolvConf == "" {
		cfg.ResolvConf = "/etc/resolv.conf"
	}
	if cfg.HostsFile == "" {
		cfg.HostsFile = "/etc/hosts"
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if _, err := exec.LookPath("nft"); err != nil {
		return nil, fmt.Errorf("networks: the nftables CLI (nft) is needed: %w", err)
	}
	for _, d := range []string{filepath.Join(cfg.StateDir, "netns"), filepath.Join(cfg.StateDir, "network")} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, fmt.Errorf("networks: %w", err)
		}
	}
	m := &Manager{cfg: cfg, db: cfg.DB, fw: nftCLI{}, reserved: map[string][]io.Closer{}, dns: map[string]*dnsServer{}}
	if conf, err := os.ReadFile(cfg.ResolvConf); err == nil {
		m.upstreams, m.search, m.dnsOpts = hostResolvers(conf)
	}
	m.names.Store(&dnsNames{})
	if err := m.ensurePredefined(); err != nil {
		return nil, err
	}
	return m, nil
}

// ensurePredefined records bridge, host and none if they are missing.
func (m *Manager) ensurePredefined() error {
	nets, err := m.networks()
	if err != nil {
		return err
	}
	have := map[string]bool{}
	var taken []netip.Prefix
	for _, n := range nets {
		have[n.Name] = true
		if p, err := netip.ParsePrefix(n.Subnet); err == nil {
			taken = append(taken, p)
		}
	}
	now := time.Now().UTC()
	var add []*metadata.Network
	if !have[DefaultNetwork] {
		// The bridge is made at once, under the host-wide lock, to claim
		// the subnet against other berthds starting at the same time.
		unlock, err := lockSubnets()
		if err != nil {
			return err
		}
		defer unlock()
		subnet, err := m.defaultSubnet(taken)
		if err != nil {
			return err
		}
		gw := netip.PrefixFrom(subnet.Addr().Next(), subnet.Bits())
		if err := ensureBridge(m.cfg.DefaultBridge, gw); err != nil {
			deleteLink(m.cfg.DefaultBridge)
			return fmt.Errorf("default network: %w", err)
		}
		add = append(add, &metadata.Network{
			ID: newID(), Name: DefaultNetwork, Driver: DriverBridge, Created: now,
			Subnet: subnet.String(), Gateway: gw.Addr().String(), Bridge: m.cfg.DefaultBridge,
		})
	}
	if !have[HostNetwork] {
		add = append(add, &metadata.Network{ID: newID(), Name: HostNetwork, Driver: DriverHost, Created: now})
	}
	if !have[NoneNetwork] {
		add = append(add, &metadata.Network{ID: newID(), Name: NoneNetwork, Driver: DriverNull, Created: now})
	}
	if len(add) == 0 {
		return nil
	}
	err = m.db.Update(func(tx *metadata.Tx) error {
		for _, n := range add {
			if err := tx.PutNetwork(n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !have[DefaultNetwork] {
		deleteLink(m.cfg.DefaultBridge)
	}
	return err
}

func (m *Manager) defaultSubnet(taken []netip.Prefix) (netip.Prefix, error) {
	routes, err := hostRoutes()
	if err != nil {
		return netip.Prefix{}, err
	}
	taken = append(taken, routes...)
	if m.cfg.DefaultSubnet != "" {
		p, err := parseSubnet(m.cfg.DefaultSubnet)
		if err != nil {
			return p, fmt.Errorf("default network: %w", err)
		}
		if t, clash := overlapping(p, taken); clash {
			return p, errorf(ErrConflict, "default network: subnet %s overlaps %s", p, t)
		}
		return p, nil
	}
	return pickSubnet(candidateSubnets(), taken)
}

func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (m *Manager) netnsPath(id string) string { return filepath.Join(m.cfg.StateDir, "netns", id) }
func (m *Manager) filesDir(id string) string  { return filepath.Join(m.cfg.StateDir, "network", id) }

// networks lists the network records.
func (m *Manager) networks() ([]metadata.Network, error) {
	var nets []metadata.Network
	err := m.db.View(func(tx *metadata.Tx) (err error) {
		nets, err = tx.Networks()
		return err
	})
	return nets, err
}

// state reads every network and endpoint.
func (m *Manager) state() ([]metadata.Network, []metadata.Endpoint, error) {
	var nets []metadata.Network
	var eps []metadata.Endpoint
	err := m.db.View(func(tx *metadata.Tx) (err error) {
		if nets, err = tx.Networks(); err != nil {
			return err
		}
		eps, err = tx.Endpoints()
		return err
	})
	return nets, eps, err
}

// Restore brings the kernel in line with meta.db when berthd starts:
// bridges are created or adopted, endpoints whose container keep says is
// gone (or whose namespace did not survive, after a reboot) are torn
// down, namespace files and bridge ports nobody owns are removed, held
// ports are taken again, and the nftables table and DNS responders are
// rebuilt. keep nil keeps every endpoint whose namespace is intact.
func (m *Manager) Restore(ctx context.Context, keep func(containerID string) bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := enableForwarding(); err != nil {
		return err
	}
	nets, eps, err := m.state()
	if err != nil {
		return err
	}
	for _, n := range nets {
		if n.Driver != DriverBridge {
			continue
		}
		gw, err := gatewayPrefix(&n)
		if err != nil {
			return err
		}
		if err := ensureBridge(n.Bridge, gw); err != nil {
			return fmt.Errorf("network %s: %w", n.Name, err)
		}
	}
	owned := map[string]bool{} // netns files and host veths in use
	for _, ep := range eps {
		intact := ep.Mode == HostNetwork || isNetNS(ep.NetNS)
		if (keep != nil && !keep(ep.ContainerID)) || !intact {
			m.cfg.Log.Info("network: removing stale endpoint", "container", ep.ContainerID)
			if err := m.teardownLocked(&ep, true); err != nil {
				m.cfg.Log.Warn("network: stale endpoint", "container", ep.ContainerID, "err", err)
			}
			continue
		}
		owned[filepath.Base(ep.NetNS)] = true
		for _, en := range ep.Networks {
			owned[en.HostVeth] = true
			if !linkExists(en.HostVeth) {
				m.cfg.Log.Warn("network: container interface gone", "container", ep.ContainerID, "veth", en.HostVeth)
			}
		}
		m.holdPortsLocked(&ep)
	}
	// Namespace files of containers berthd no longer knows.
	entries, _ := os.ReadDir(filepath.Join(m.cfg.StateDir, "netns"))
	for _, e := range entries {
		if !owned[e.Name()] {
			deleteNetNS(filepath.Join(m.cfg.StateDir, "netns", e.Name()))
			os.RemoveAll(m.filesDir(e.Name()))
		}
	}
	m.pool.fill()
	// Veths left on berth's bridges by a crash mid-attach.
	for _, n := range nets {
		if n.Driver != DriverBridge {
			continue
		}
		ports, _ := bridgePorts(n.Bridge)
		for _, p := range ports {
			if !owned[p] {
				deleteLink(p)
			}
		}
	}
	return m.syncLocked()
}

// gatewayPrefix is the gateway address with the subnet's length.
func gatewayPrefix(n *metadata.Network) (netip.Prefix, error) {
	subnet, err := netip.ParsePrefix(n.Subnet)
	if err != nil {
		return subnet, fmt.Errorf("network %s: subnet %q: %w", n.Name, n.Subnet, err)
	}
	gw, err := netip.ParseAddr(n.Gateway)
	if err != nil {
		return subnet, fmt.Errorf("network %s: gateway %q: %w", n.Name, n.Gateway, err)
	}
	return netip.PrefixFrom(gw, subnet.Bits()), nil
}

// syncLocked renders the nftables table and the DNS names from meta.db
// and starts or stops DNS responders to match the bridge networks.
func (m *Manager) syncLocked() error {
	nets, eps, err := m.state()
	if err != nil {
		return err
	}
	rs := ruleset{Table: m.cfg.Table}
	byID := map[string]*metadata.Network{}
	for i := range nets {
		n := &nets[i]
		byID[n.ID] = n
		if n.Driver != DriverBridge {
			continue
		}
		gw, err := gatewayPrefix(n)
		if err != nil {
			return err
		}
		rs.Bridges = append(rs.Bridges, bridgeRules{Name: n.Bridge, Subnet: gw.Masked(), Gateway: gw.Addr(), Internal: n.Internal})
	}
	for _, ep := range eps {
		if len(ep.Networks) == 0 {
			continue
		}
		// Published ports go to the first network's address, as Docker's do.
		ctr, err := netip.ParseAddr(ep.Networks[0].IP)
		if err != nil {
			continue
		}
		for _, p := range ep.Ports {
			pr := portRule{Proto: p.Proto, HostPort: p.HostPort, CtrIP: ctr, CtrPort: p.ContainerPort}
			if p.HostIP != "" {
				pr.HostIP, _ = netip.ParseAddr(p.HostIP)
			}
			rs.Ports = append(rs.Ports, pr)
		}
	}
	if script := rs.script(); script != m.applied {
		m.applied = ""
		if err := m.fw.apply(script); err != nil {
			return err
		}
		m.applied = script
	}
	names := buildNames(byID, eps)
	m.names.Store(&names)
	m.syncDNSLocked(nets)
	return nil
}

// buildNames computes, for each container address, the names that
// container can resolve: those of the containers on the user-defined
// networks it is on.
func buildNames(nets map[string]*metadata.Network, eps []metadata.Endpoint) dnsNames {
	// per network: name -> addresses
	perNet := map[string]map[string][]netip.Addr{}
	for _, ep := range eps {
		for _, en := range ep.Networks {
			n := nets[en.NetworkID]
			a, err := netip.ParseAddr(en.IP)
			if n == nil || n.Name == DefaultNetwork || err != nil {
				continue
			}
			tbl := perNet[n.ID]
			if tbl == nil {
				tbl = map[string][]netip.Addr{}
				perNet[n.ID] = tbl
			}
			keys := []string{ep.ContainerID, ep.ContainerID[:min(12, len(ep.ContainerID))]}
			if ep.Name != "" {
				keys = append(keys, ep.Name, ep.Name+"."+n.Name)
			}
			keys = append(keys, en.Aliases...)
			for _, k := range keys {
				k = strings.ToLower(k)
				if !slices.Contains(tbl[k], a) {
					tbl[k] = append(tbl[k], a)
				}
			}
		}
	}
	out := dnsNames{}
	for _, ep := range eps {
		var merged map[string][]netip.Addr
		for _, en := range ep.Networks {
			tbl := perNet[en.NetworkID]
			if tbl == nil {
				continue
			}
			if merged == nil {
				merged = map[string][]netip.Addr{}
			}
			for k, v := range tbl {
				for _, a := range v {
					if !slices.Contains(merged[k], a) {
						merged[k] = append(merged[k], a)
					}
				}
			}
		}
		for _, en := range ep.Networks {
			if a, err := netip.ParseAddr(en.IP); err == nil {
				out[a] = merged
			}
		}
	}
	return out
}

// syncDNSLocked runs one responder per bridge network.
func (m *Manager) syncDNSLocked(nets []metadata.Network) {
	want := map[string]bool{}
	for _, n := range nets {
		if n.Driver != DriverBridge {
			continue
		}
		want[n.ID] = true
		if m.dns[n.ID] != nil || m.closed {
			continue
		}
		gw, err := gatewayPrefix(&n)
		if err != nil {
			continue
		}
		s, err := startDNS(gw.Addr(), gw.Masked(), m.answerDNS, m.cfg.Log)
		if err != nil {
			// Names will not resolve on this network; everything else works.
			m.cfg.Log.Warn("network: DNS responder not started", "network", n.Name, "err", err)
			continue
		}
		m.dns[n.ID] = s
	}
	for id, s := range m.dns {
		if !want[id] {
			s.Close()
			delete(m.dns, id)
		}
	}
}

// answerDNS answers a query from the container at src.
func (m *Manager) answerDNS(query []byte, src netip.Addr, useTCP bool) []byte {
	names := (*m.names.Load())[src]
	lookup := func(name string) ([]netip.Addr, bool) {
		a, ok := names[name]
		return a, ok
	}
	var forward func([]byte) []byte
	if len(m.upstreams) > 0 {
		forward = func(q []byte) []byte { return forwardQuery(m.upstreams, q, useTCP) }
	}
	return answerQuery(query, lookup, forward)
}

// Close stops the DNS responders and lets go of held ports. The kernel
// state (bridges, namespaces, rules) stays for the running containers; a
// new Manager's Restore adopts it.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.pool.close()
	for id, s := range m.dns {
		s.Close()
		delete(m.dns, id)
	}
	for id, cs := range m.reserved {
		for _, c := range cs {
			c.Close()
		}
		delete(m.reserved, id)
	}
	return nil
}

// Shutdown is Close for berthd's exit: when no container is attached it
// also removes the bridges and the nftables table (Restore makes them
// again), so that a berthd that is stopped with no containers leaves
// nothing in the kernel. With containers attached everything stays for
// them.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.Close()
	m.Settle()
	_, eps, err := m.state()
	if err != nil || len(eps) > 0 {
		return err
	}
	return m.Purge(ctx)
}

// Purge removes everything berth put in the kernel: every endpoint (as
// Detach does), every bridge and the nftables table. Network records
// stay, so a later Restore recreates the bridges. For tests and for
// taking berth off a host.
func (m *Manager) Purge(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	nets, eps, err := m.state()
	if err != nil {
		return err
	}
	var errs []error
	for _, ep := range eps {
		errs = append(errs, m.teardownLocked(&ep, true))
	}
	for id, s := range m.dns {
		s.Close()
		delete(m.dns, id)
	}
	for _, n := range nets {
		if n.Driver == DriverBridge {
			errs = append(errs, deleteLink(n.Bridge))
		}
	}
	m.applied = ""
	errs = append(errs, m.fw.apply(deleteScript(m.cfg.Table)))
	return errors.Join(errs...)
}

// findNetwork resolves a network by ID, name or unique ID prefix, as
// Docker does.
func findNetwork(nets []metadata.Network, ref string) (*metadata.Network, error) {
	for i := range nets {
		if nets[i].ID == ref {
			return &nets[i], nil
		}
	}
	for i := range nets {
		if nets[i].Name == ref {
			return &nets[i], nil
		}
	}
	var found *metadata.Network
	for i := range nets {
		if ref != "" && strings.HasPrefix(nets[i].ID, ref) {
			if found != nil {
				return nil, errorf(ErrInvalidArgument, "network %s: the prefix is ambiguous", ref)
			}
			found = &nets[i]
		}
	}
	if found == nil {
		return nil, errorf(ErrNotFound, "network %s not found", ref)
	}
	return found, nil
}

// networkNameRE is the form of a network name, as Docker accepts it.
var networkNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// CreateRequest is `network create`.
type CreateRequest struct {
	Name    string
	Driver  string // "" or bridge
	Subnet  string // CIDR; "" picks a free one
	Gateway string // "" is the subnet's first address
	// Internal networks have no NAT to the outside.
	Internal bool
	Labels   map[string]string
}

// Create makes a user-defined bridge network: its record, its bridge,
// its rules and its DNS responder; on failure none of them.
func (m *Manager) Create(ctx context.Context, req CreateRequest) (_ *Network, err error) {
	if !networkNameRE.MatchString(req.Name) {
		return nil, errorf(ErrInvalidArgument, "create network %q: a name has letters, digits and _.- and does not start with _.-", req.Name)
	}
	if req.Driver != "" && req.Driver != DriverBridge {
		return nil, errorf(ErrInvalidArgument, "create network %s: driver %q: only bridge networks can be created", req.Name, req.Driver)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	nets, err := m.networks()
	if err != nil {
		return nil, err
	}
	var taken []netip.Prefix
	for _, n := range nets {
		if n.Name == req.Name {
			return nil, errorf(ErrConflict, "create network %s: network with name %s already exists", req.Name, req.Name)
		}
		if p, err := netip.ParsePrefix(n.Subnet); err == nil {
			taken = append(taken, p)
		}
	}
	// Held until the bridge exists: see lockSubnets.
	unlock, err := lockSubnets()
	if err != nil {
		return nil, err
	}
	defer unlock()
	routes, err := hostRoutes()
	if err != nil {
		return nil, err
	}
	var subnet netip.Prefix
	if req.Subnet == "" {
		if subnet, err = pickSubnet(candidateSubnets(), append(taken, routes...)); err != nil {
			return nil, fmt.Errorf("create network %s: %w", req.Name, err)
		}
	} else {
		if subnet, err = parseSubnet(req.Subnet); err != nil {
			return nil, fmt.Errorf("create network %s: %w", req.Name, err)
		}
		for _, n := range nets {
			if p, err := netip.ParsePrefix(n.Subnet); err == nil && p.Overlaps(subnet) {
				return nil, errorf(ErrConflict, "create network %s: subnet %s overlaps with network %s (%s)", req.Name, subnet, n.Name, p)
			}
		}
		if r, clash := overlapping(subnet, routes); clash {
			return nil, errorf(ErrConflict, "create network %s: subnet %s overlaps with the host route to %s", req.Name, subnet, r)
		}
	}
	gw := subnet.Addr().Next()
	if req.Gateway != "" {
		if gw, err = netip.ParseAddr(req.Gateway); err != nil || !usable(subnet, gw) {
			return nil, errorf(ErrInvalidArgument, "create network %s: gateway %q is not a host address of %s", req.Name, req.Gateway, subnet)
		}
	}
	id := newID()
	n := &metadata.Network{
		ID: id, Name: req.Name, Driver: DriverBridge, Created: time.Now().UTC(),
		Subnet: subnet.String(), Gateway: gw.String(), Bridge: "br-" + id[:12],
		Labels: req.Labels, Internal: req.Internal,
	}
	if err := ensureBridge(n.Bridge, netip.PrefixFrom(gw, subnet.Bits())); err != nil {
		deleteLink(n.Bridge)
		return nil, fmt.Errorf("create network %s: %w", req.Name, err)
	}
	defer func() {
		if err != nil {
			m.db.Update(func(tx *metadata.Tx) error { return tx.DeleteNetwork(id) })
			m.syncLocked()
			deleteLink(n.Bridge)
		}
	}()
	if err := m.db.Update(func(tx *metadata.Tx) error { return tx.PutNetwork(n) }); err != nil {
		return nil, err
	}
	if err := m.syncLocked(); err != nil {
		return nil, fmt.Errorf("create network %s: %w", req.Name, err)
	}
	return &Network{Network: *n}, nil
}

// Remove deletes a user-defined network that no container is attached
// to: its DNS responder, rules, bridge and record.
func (m *Manager) Remove(ctx context.Context, ref string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	nets, eps, err := m.state()
	if err != nil {
		return err
	}
	n, err := findNetwork(nets, ref)
	if err != nil {
		return err
	}
	if predefined(n) {
		return errorf(ErrInvalidArgument, "%s is a pre-defined network and cannot be removed", n.Name)
	}
	if users := usersOf(n, eps); len(users) > 0 {
		return errorf(ErrInUse, "error while removing network: network %s id %s has active endpoints (%s)", n.Name, n.ID, strings.Join(users, ", "))
	}
	return m.removeLocked(n)
}

// Prune removes every user-defined network no container is attached to,
// as `docker network prune` does, and returns their names.
func (m *Manager) Prune(ctx context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	nets, eps, err := m.state()
	if err != nil {
		return nil, err
	}
	var deleted []string
	var errs []error
	for i := range nets {
		n := &nets[i]
		if predefined(n) || len(usersOf(n, eps)) > 0 {
			continue
		}
		if err := m.removeLocked(n); err != nil {
			errs = append(errs, fmt.Errorf("network %s: %w", n.Name, err))
			continue
		}
		deleted = append(deleted, n.Name)
	}
	slices.Sort(deleted)
	return deleted, errors.Join(errs...)
}

func predefined(n *metadata.Network) bool {
	return n.Name == DefaultNetwork || n.Name == HostNetwork || n.Name == NoneNetwork
}

// usersOf names the containers attached to n.
func usersOf(n *metadata.Network, eps []metadata.Endpoint) []string {
	var users []string
	for _, ep := range eps {
		for _, en := range ep.Networks {
			if en.NetworkID == n.ID {
				users = append(users, displayName(&ep))
			}
		}
	}
	return users
}

// removeLocked deletes n's record, then its rules and bridge. The record
// goes first: a failure below leaves a bridge that the next Remove cannot
// find, but never a record without its bridge that containers would fail
// to attach to.
func (m *Manager) removeLocked(n *metadata.Network) error {
	if err := m.db.Update(func(tx *metadata.Tx) error { return tx.DeleteNetwork(n.ID) }); err != nil {
		return err
	}
	return errors.Join(m.syncLocked(), deleteLink(n.Bridge))
}

func displayName(ep *metadata.Endpoint) string {
	if ep.Name != "" {
		return ep.Name
	}
	return ep.ContainerID[:min(12, len(ep.ContainerID))]
}

// List returns every network, ordered by name.
func (m *Manager) List(ctx context.Context) ([]*Network, error) {
	nets, eps, err := m.state()
	if err != nil {
		return nil, err
	}
	out := make([]*Network, 0, len(nets))
	for i := range nets {
		out = append(out, withEndpoints(&nets[i], eps))
	}
	slices.SortFunc(out, func(a, b *Network) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Inspect returns one network with its containers.
func (m *Manager) Inspect(ctx context.Context, ref string) (*Network, error) {
	nets, eps, err := m.state()
	if err != nil {
		return nil, err
	}
	n, err := findNetwork(nets, ref)
	if err != nil {
		return nil, err
	}
	return withEndpoints(n, eps), nil
}

func withEndpoints(n *metadata.Network, eps []metadata.Endpoint) *Network {
	out := &Network{Network: *n}
	out.Labels = maps.Clone(n.Labels)
	bits := 0
	if p, err := netip.ParsePrefix(n.Subnet); err == nil {
		bits = p.Bits()
	}
	for _, ep := range eps {
		for _, en := range ep.Networks {
			if en.NetworkID != n.ID {
				continue
			}
			a, _ := netip.ParseAddr(en.IP)
			out.Endpoints = append(out.Endpoints, NetworkEndpoint{
				ContainerID: ep.ContainerID, Name: ep.Name, IP: netip.PrefixFrom(a, bits), MAC: en.MAC,
			})
		}
		if ep.Mode == n.Name && (n.Driver == DriverHost || n.Driver == DriverNull) {
			out.Endpoints = append(out.Endpoints, NetworkEndpoint{ContainerID: ep.ContainerID, Name: ep.Name})
		}
	}
	return out
}
