package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/berth-project/berth/supervisor/internal/metadata"
)

// AttachRequest is the network side of `run`: --network, -p, --hostname,
// --network-alias.
type AttachRequest struct {
	// Networks are names or IDs; none means the default bridge. host or
	// none must come alone.
	Networks []string
	// Ports are published on the first network's address (ignored, as by
	// Docker, for host and none).
	Ports    []PortMapping
	Hostname string
	// Aliases are extra DNS names on each user-defined network.
	Aliases []string
}

// Interface is one of a container's network interfaces.
type Interface struct {
	NetworkID   string
	NetworkName string
	Name        string       // eth0, eth1...
	IP          netip.Prefix // address and subnet length
	Gateway     netip.Addr
	MAC         string
	Aliases     []string
}

// Attachment is what the containers service puts in the container's
// spec: the namespace to join and the files to bind-mount.
type Attachment struct {
	Mode string // bridge, host or none
	// NetNSPath is the network namespace to join
	// (specs.WithNamespacePath); "" for host mode (specs.WithHostNetwork).
	NetNSPath string
	// Hosts and ResolvConf are the contents of the container's /etc/hosts
	// and /etc/resolv.conf, given by Attach (Get leaves them nil); the
	// caller writes them where it bind-mounts them from.
	Hosts      []byte
	ResolvConf []byte
	Interfaces []Interface
	// Ports are the published ports, random host ports filled in.
	Ports []PortMapping
}

// containerIDRE keeps container IDs usable as file names.
var containerIDRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// Attach gives a container its network: a namespace at
// STATE/netns/ID with one veth per network (addresses from IPAM, the
// default route through the first network), its published ports, its
// DNS names, and hosts and resolv.conf files. It fails with ErrConflict
// if the container is already attached or a host port is taken; on any
// failure nothing of it remains. Call it before the container's task is
// created, and Detach once the task has exited.
func (m *Manager) Attach(ctx context.Context, containerID, name string, req AttachRequest) (*Attachment, error) {
	a, finish, err := m.AttachDeferred(ctx, containerID, name, req)
	if err != nil {
		return nil, err
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return a, nil
}

// AttachDeferred is Attach in two steps, so that the slower second one
// (veths, addresses and routes in the namespace, the firewall table) can
// run while the container's task is being created: before it returns
// the namespace exists with its loopback up, the addresses and ports are
// taken and recorded and the hosts and resolv.conf files are written;
// finish does the rest and must be called once, before the container's
// process runs. If finish fails nothing of the attachment remains.
func (m *Manager) AttachDeferred(ctx context.Context, containerID, name string, req AttachRequest) (_ *Attachment, finish func() error, err error) {
	if !containerIDRE.MatchString(containerID) {
		return nil, nil, errorf(ErrInvalidArgument, "attach %q: bad container ID", containerID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	nets, eps, err := m.state()
	if err != nil {
		return nil, nil, err
	}
	for _, ep := range eps {
		if ep.ContainerID == containerID {
			return nil, nil, errorf(ErrConflict, "attach %s: the container is already attached", containerID)
		}
	}
	refs := req.Networks
	if len(refs) == 0 {
		refs = []string{DefaultNetwork}
	}
	var targets []*metadata.Network
	for _, ref := range refs {
		n, err := findNetwork(nets, ref)
		if err != nil {
			return nil, nil, fmt.Errorf("attach %s: %w", containerID, err)
		}
		if !slices.ContainsFunc(targets, func(t *metadata.Network) bool { return t.ID == n.ID }) {
			targets = append(targets, n)
		}
	}
	mode := DriverBridge
	if d := targets[0].Driver; d == DriverHost || d == DriverNull {
		mode = targets[0].Name
	}
	for _, t := range targets {
		if (t.Driver != DriverBridge || mode != DriverBridge) && len(targets) > 1 {
			return nil, nil, errorf(ErrInvalidArgument, "attach %s: network %s cannot be combined with other networks", containerID, t.Name)
		}
	}

	ep := &metadata.Endpoint{ContainerID: containerID, Name: name, Hostname: req.Hostname, Mode: mode, Created: time.Now().UTC()}
	if mode != HostNetwork {
		ep.NetNS = m.netnsPath(containerID)
	}
	for i, t := range targets {
		if mode != DriverBridge {
			break
		}
		var aliases []string
		if t.Name != DefaultNetwork {
			aliases = req.Aliases
		}
		ep.Networks = append(ep.Networks, metadata.EndpointNetwork{
			NetworkID: t.ID, HostVeth: vethName(), Interface: fmt.Sprintf("eth%d", i), Aliases: aliases,
		})
	}
	// The record, with its addresses, is written before anything is set
	// up, so that a crash part way leaves something Restore can find.
	if err := m.db.Update(func(tx *metadata.Tx) error {
		for i := range ep.Networks {
			if err := assignAddress(tx, &ep.Networks[i]); err != nil {
				return err
			}
		}
		return tx.PutEndpoint(ep)
	}); err != nil {
		return nil, nil, fmt.Errorf("attach %s: %w", containerID, err)
	}
	defer func() {
		if err != nil {
			m.teardownLocked(ep, true)
			m.syncLocked()
			err = fmt.Errorf("attach %s: %w", containerID, err)
		}
	}()

	if mode == DriverBridge && len(req.Ports) > 0 {
		if err := m.reservePortsLocked(ep, req.Ports); err != nil {
			return nil, nil, err
		}
		if err := m.db.Update(func(tx *metadata.Tx) error { return tx.PutEndpoint(ep) }); err != nil {
			return nil, nil, err
		}
	}
	if ep.NetNS != "" {
		if err := m.makeNetNS(ep.NetNS); err != nil {
			return nil, nil, err
		}
	}
	a, err := m.attachment(ep)
	if err != nil {
		return nil, nil, err
	}
	var gw netip.Addr
	if len(a.Interfaces) > 0 {
		gw = a.Interfaces[0].Gateway
	}
	if a.Hosts, err = m.hostsLocked(ep); err != nil {
		return nil, nil, err
	}
	if a.ResolvConf, err = m.resolvLocked(ep, gw); err != nil {
		return nil, nil, err
	}
	finish = func() (err error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		defer func() {
			if err != nil {
				m.teardownLocked(ep, true)
				m.syncLocked()
				err = fmt.Errorf("attach %s: %w", containerID, err)
			}
		}()
		for i := range ep.Networks {
			if err := m.addInterfaceLocked(ep, &ep.Networks[i], i == 0); err != nil {
				return err
			}
		}
		return m.syncLocked()
	}
	return a, finish, nil
}

// hostsChangedLocked rewrites ep's hosts file for its current addresses
// and hands it to Config.HostsChanged, as Docker updates a container's
// /etc/hosts on connect and disconnect. Failures only leave the file as
// it was.
func (m *Manager) hostsChangedLocked(ep *metadata.Endpoint) {
	if hosts, err := m.hostsLocked(ep); err == nil && m.cfg.HostsChanged != nil {
		m.cfg.HostsChanged(ep.ContainerID, hosts)
	}
}

// vethName is a fresh name for the host end of a veth pair.
func vethName() string {
	b := make([]byte, 5)
	rand.Read(b)
	return "vb" + hex.EncodeToString(b)
}

// assignAddress gives en a free address of its network, in the
// transaction that records it: two attaches can never get the same
// address, and the allocation persists with the endpoint.
func assignAddress(tx *metadata.Tx, en *metadata.EndpointNetwork) error {
	n, err := tx.Network(en.NetworkID)
	if err != nil {
		return err
	}
	subnet, err := netip.ParsePrefix(n.Subnet)
	if err != nil {
		return err
	}
	gw, _ := netip.ParseAddr(n.Gateway)
	last, _ := netip.ParseAddr(n.LastIP)
	eps, err := tx.Endpoints()
	if err != nil {
		return err
	}
	used := map[netip.Addr]bool{}
	for _, ep := range eps {
		for _, other := range ep.Networks {
			if other.NetworkID == n.ID {
				if a, err := netip.ParseAddr(other.IP); err == nil {
					used[a] = true
				}
			}
		}
	}
	a, err := allocate(subnet, gw, last, used)
	if err != nil {
		return fmt.Errorf("network %s: %w", n.Name, err)
	}
	en.IP, en.MAC = a.String(), macFor(a)
	n.LastIP = a.String()
	return tx.PutNetwork(n)
}

// addInterfaceLocked creates en's veth in the container's namespace.
func (m *Manager) addInterfaceLocked(ep *metadata.Endpoint, en *metadata.EndpointNetwork, defaultRoute bool) error {
	var n *metadata.Network
	if err := m.db.View(func(tx *metadata.Tx) (err error) {
		n, err = tx.Network(en.NetworkID)
		return err
	}); err != nil {
		return err
	}
	gw, err := gatewayPrefix(n)
	if err != nil {
		return err
	}
	a, _ := netip.ParseAddr(en.IP)
	c := vethConfig{
		HostName: en.HostVeth, Bridge: n.Bridge, IfName: en.Interface,
		Addr: netip.PrefixFrom(a, gw.Bits()), MAC: en.MAC,
	}
	if defaultRoute {
		c.Gateway = gw.Addr()
	}
	return addVeth(ep.NetNS, c)
}

// reservePortsLocked takes the host ports of ep, filling in random ones.
func (m *Manager) reservePortsLocked(ep *metadata.Endpoint, ports []PortMapping) error {
	for _, p := range ports {
		c, port, err := reservePort(p.Proto, p.HostIP, p.HostPort)
		if err != nil {
			return err
		}
		m.reserved[ep.ContainerID] = append(m.reserved[ep.ContainerID], c)
		b := metadata.PortBinding{Proto: p.Proto, HostPort: port, ContainerPort: p.ContainerPort}
		if p.HostIP.IsValid() {
			b.HostIP = p.HostIP.String()
		}
		ep.Ports = append(ep.Ports, b)
	}
	return nil
}

// holdPortsLocked takes ep's recorded host ports again (berthd restart).
// A port someone took meanwhile is logged; its DNAT rule still works.
func (m *Manager) holdPortsLocked(ep *metadata.Endpoint) {
	for _, p := range ep.Ports {
		ip, _ := netip.ParseAddr(p.HostIP)
		c, _, err := reservePort(p.Proto, ip, p.HostPort)
		if err != nil {
			m.cfg.Log.Warn("network: cannot hold published port", "container", ep.ContainerID, "err", err)
			continue
		}
		m.reserved[ep.ContainerID] = append(m.reserved[ep.ContainerID], c)
	}
}

// hostsLocked returns the contents of the container's /etc/hosts.
func (m *Manager) hostsLocked(ep *metadata.Endpoint) ([]byte, error) {
	switch ep.Mode {
	case HostNetwork:
		// The host's own file, copied: the container must not be able
		// to change the host's through a bind mount.
		return os.ReadFile(m.cfg.HostsFile)
	case NoneNetwork:
		return hostsFile(ep.Hostname, nil), nil
	}
	var addrs []netip.Addr
	for _, en := range ep.Networks {
		if a, err := netip.ParseAddr(en.IP); err == nil {
			addrs = append(addrs, a)
		}
	}
	return hostsFile(ep.Hostname, addrs), nil
}

// resolvLocked returns the contents of the container's /etc/resolv.conf;
// gw is the gateway of its first network (bridge mode).
func (m *Manager) resolvLocked(ep *metadata.Endpoint, gw netip.Addr) ([]byte, error) {
	switch ep.Mode {
	case HostNetwork:
		b, err := os.ReadFile(m.cfg.ResolvConf)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return b, err
	case NoneNetwork:
		b, _ := os.ReadFile(m.cfg.ResolvConf)
		return b, nil
	}
	return resolvConf(gw, m.search, m.dnsOpts), nil
}

// teardownLocked removes everything of ep from the kernel, the held
// ports and meta.db. The namespace goes before the veths: once it is
// gone the kernel is already destroying each pair. With links false the
// caller deletes the host veths itself, after unlocking (see Detach).
func (m *Manager) teardownLocked(ep *metadata.Endpoint, links bool) error {
	var errs []error
	for _, c := range m.reserved[ep.ContainerID] {
		c.Close()
	}
	delete(m.reserved, ep.ContainerID)
	if ep.NetNS != "" {
		errs = append(errs, deleteNetNS(ep.NetNS))
	}
	if links {
		errs = append(errs, deleteVeths(ep))
	}
	// Older berthds wrote the files here.
	errs = append(errs, os.RemoveAll(m.filesDir(ep.ContainerID)))
	errs = append(errs, m.db.Update(func(tx *metadata.Tx) error { return tx.DeleteEndpoint(ep.ContainerID) }))
	return errors.Join(errs...)
}

// deleteVeths removes the host ends of ep's veths.
func deleteVeths(ep *metadata.Endpoint) error {
	var errs []error
	for _, en := range ep.Networks {
		errs = append(errs, deleteLink(en.HostVeth))
	}
	return errors.Join(errs...)
}

// Detach removes a container's network: its interfaces, addresses,
// published ports, names, namespace and files. Detaching a container
// that is not attached is no error.
func (m *Manager) Detach(ctx context.Context, containerID string) error {
	m.mu.Lock()
	var ep *metadata.Endpoint
	err := m.db.View(func(tx *metadata.Tx) (err error) {
		ep, err = tx.Endpoint(containerID)
		return err
	})
	if errors.Is(err, metadata.ErrNotFound) {
		m.mu.Unlock()
		return nil
	}
	if err != nil {
		m.mu.Unlock()
		return err
	}
	err = errors.Join(m.teardownLocked(ep, false), m.syncLocked())
	m.mu.Unlock()
	m.deleteVethsLater(ep)
	return err
}

// deleteVethsLater deletes ep's host veths in the background. Deleting a
// veth waits for an RCU grace period, and right after a namespace is
// unmounted it also queues behind the kernel's own teardown of that
// namespace: 10-40 ms here, more than the rest of a container's exit.
// Nothing needs to wait for it: the namespace is unmounted (the kernel
// is already destroying the pair), the address and ports are free, and
// veth names are random, so nothing can meet the dying pair. Settle
// waits for these deletions.
func (m *Manager) deleteVethsLater(ep *metadata.Endpoint) {
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		if err := deleteVeths(ep); err != nil {
			m.cfg.Log.Warn("network: delete veth", "container", ep.ContainerID, "err", err)
		}
	}()
}

// Settle waits until the veths of detached containers are deleted.
func (m *Manager) Settle() { m.bg.Wait() }

// Get returns a container's attachment, or ErrNotAttached.
func (m *Manager) Get(ctx context.Context, containerID string) (*Attachment, error) {
	var ep *metadata.Endpoint
	err := m.db.View(func(tx *metadata.Tx) (err error) {
		ep, err = tx.Endpoint(containerID)
		return err
	})
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, errorf(ErrNotAttached, "container %s is not attached to a network", containerID)
	}
	if err != nil {
		return nil, err
	}
	return m.attachment(ep)
}

func (m *Manager) attachment(ep *metadata.Endpoint) (*Attachment, error) {
	a := &Attachment{Mode: ep.Mode, NetNSPath: ep.NetNS}
	nets, err := m.networks()
	if err != nil {
		return nil, err
	}
	for _, en := range ep.Networks {
		n, err := findNetwork(nets, en.NetworkID)
		if err != nil {
			return nil, err
		}
		gw, _ := gatewayPrefix(n)
		ip, _ := netip.ParseAddr(en.IP)
		a.Interfaces = append(a.Interfaces, Interface{
			NetworkID: n.ID, NetworkName: n.Name, Name: en.Interface, IP: netip.PrefixFrom(ip, gw.Bits()),
			Gateway: gw.Addr(), MAC: en.MAC, Aliases: en.Aliases,
		})
	}
	for _, p := range ep.Ports {
		pm := PortMapping{Proto: p.Proto, HostPort: p.HostPort, ContainerPort: p.ContainerPort}
		pm.HostIP, _ = netip.ParseAddr(p.HostIP)
		a.Ports = append(a.Ports, pm)
	}
	return a, nil
}

// findEndpoint resolves an attached container by ID, name or unique ID
// prefix.
func findEndpoint(eps []metadata.Endpoint, ref string) (*metadata.Endpoint, error) {
	for i := range eps {
		if eps[i].ContainerID == ref || (eps[i].Name != "" && eps[i].Name == ref) {
			return &eps[i], nil
		}
	}
	var found *metadata.Endpoint
	for i := range eps {
		if ref != "" && strings.HasPrefix(eps[i].ContainerID, ref) {
			if found != nil {
				return nil, errorf(ErrInvalidArgument, "container %s: the prefix is ambiguous", ref)
			}
			found = &eps[i]
		}
	}
	if found == nil {
		return nil, errorf(ErrNotAttached, "container %s: no running container has that name or ID", ref)
	}
	return found, nil
}

// Connect adds a running container to one more bridge network (`network
// connect`): a new interface ethN with an address there, and its names
// on that network.
func (m *Manager) Connect(ctx context.Context, network, container string, aliases []string) (err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	nets, eps, err := m.state()
	if err != nil {
		return err
	}
	n, err := findNetwork(nets, network)
	if err != nil {
		return err
	}
	ep, err := findEndpoint(eps, container)
	if err != nil {
		return err
	}
	if n.Driver != DriverBridge || ep.Mode != DriverBridge {
		return errorf(ErrInvalidArgument, "connect %s to %s: host and none networks cannot be combined with others", displayName(ep), n.Name)
	}
	used := map[string]bool{}
	for _, en := range ep.Networks {
		if en.NetworkID == n.ID {
			return errorf(ErrConflict, "endpoint with name %s already exists in network %s", displayName(ep), n.Name)
		}
		used[en.Interface] = true
	}
	en := metadata.EndpointNetwork{NetworkID: n.ID, HostVeth: vethName()}
	if n.Name != DefaultNetwork {
		en.Aliases = aliases
	}
	for i := 0; ; i++ {
		if name := fmt.Sprintf("eth%d", i); !used[name] {
			en.Interface = name
			break
		}
	}
	if err := m.db.Update(func(tx *metadata.Tx) error {
		if err := assignAddress(tx, &en); err != nil {
			return err
		}
		ep.Networks = append(ep.Networks, en)
		return tx.PutEndpoint(ep)
	}); err != nil {
		return fmt.Errorf("connect %s to %s: %w", displayName(ep), n.Name, err)
	}
	if err := m.addInterfaceLocked(ep, &en, len(ep.Networks) == 1); err != nil {
		m.db.Update(func(tx *metadata.Tx) error {
			ep.Networks = ep.Networks[:len(ep.Networks)-1]
			return tx.PutEndpoint(ep)
		})
		return fmt.Errorf("connect %s to %s: %w", displayName(ep), n.Name, err)
	}
	m.hostsChangedLocked(ep)
	return m.syncLocked()
}

// Disconnect removes a container's interface on a network. With force,
// a container that is not on the network is no error.
func (m *Manager) Disconnect(ctx context.Context, network, container string, force bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	nets, eps, err := m.state()
	if err != nil {
		return err
	}
	n, err := findNetwork(nets, network)
	if err != nil {
		return err
	}
	ep, err := findEndpoint(eps, container)
	if err != nil {
		if force {
			return nil
		}
		return err
	}
	i := slices.IndexFunc(ep.Networks, func(en metadata.EndpointNetwork) bool { return en.NetworkID == n.ID })
	if i < 0 {
		if force {
			return nil
		}
		return errorf(ErrNotFound, "container %s is not connected to network %s", displayName(ep), n.Name)
	}
	if err := deleteLink(ep.Networks[i].HostVeth); err != nil {
		return err
	}
	ep.Networks = slices.Delete(ep.Networks, i, i+1)
	if err := m.db.Update(func(tx *metadata.Tx) error { return tx.PutEndpoint(ep) }); err != nil {
		return err
	}
	m.hostsChangedLocked(ep)
	return m.syncLocked()
}
