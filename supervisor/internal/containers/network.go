package containers

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
)

// NetworkRequest is what a network attacher learns of a container that is
// created or starting.
type NetworkRequest struct {
	ContainerID string
	Name        string
	Hostname    string
	// Mode is --network: "" for the attacher's default, "none", "host",
	// or a network name for attachers that know networks.
	Mode string
	// Publish holds the raw -p values.
	Publish []string
	// Aliases are --network-alias: more names on user-defined networks.
	Aliases []string
}

// NetworkAttachment is a container's network for one run.
type NetworkAttachment struct {
	// Mode is bridge, host or none.
	Mode string
	// NetNS is the path of the network namespace to join; "" with
	// HostNetwork means the host's namespace.
	NetNS       string
	HostNetwork bool
	// Hosts and ResolvConf are the container's /etc/hosts and
	// /etc/resolv.conf (filled in by Attach only).
	Hosts      []byte
	ResolvConf []byte
	// IPAddress is the container's main address, for inspect ("" if none).
	IPAddress string
	// Interfaces are the container's interfaces on networks, the first
	// one holding the default route.
	Interfaces []NetworkInterface
	// Ports are the published ports, random host ports filled in.
	Ports []PortBinding
	// Finish, when set (by Attach only), completes the attachment: the
	// namespace exists, but its interfaces may not yet. It runs while the
	// task is created and must succeed before the task starts.
	Finish func() error
}

// NetworkInterface is a container's place on one network.
type NetworkInterface struct {
	Network, NetworkID string
	IP, Gateway, MAC   string
	PrefixLen          int
	Aliases            []string
}

// PortBinding is one published port.
type PortBinding struct {
	Proto string // tcp or udp
	// HostIP is "" for every address of the host.
	HostIP                  string
	HostPort, ContainerPort uint16
}

// String is the port as `docker ps` shows it: 0.0.0.0:8080->80/tcp.
func (p PortBinding) String() string {
	ip := p.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return fmt.Sprintf("%s:%d->%d/%s", ip, p.HostPort, p.ContainerPort, p.Proto)
}

// NetworkAttacher gives containers their network. Validate checks a
// request at create and returns the mode to record ("" becomes the
// default network's name); Attach runs before each start, Detach after
// each stop (also after a berthd restart, for containers that stopped
// while it was down), Release when the container is removed. Get returns
// the attachment of a running container, nil if it has none. berthd's
// network package implements it with bridges and port publishing;
// DefaultNetwork knows only "none" and "host".
type NetworkAttacher interface {
	Validate(req NetworkRequest) (mode string, err error)
	Attach(ctx context.Context, req NetworkRequest) (*NetworkAttachment, error)
	Get(ctx context.Context, containerID string) (*NetworkAttachment, error)
	Detach(ctx context.Context, containerID string) error
	Release(ctx context.Context, containerID string) error
}

// DefaultNetwork gives each container a private network namespace with
// only a loopback interface ("none"), or the host's ("host").
type DefaultNetwork struct {
	// NetNSDir is where namespaces are bind-mounted, one file per
	// container (STATE/netns).
	NetNSDir string
}

// Validate implements NetworkAttacher.
func (n *DefaultNetwork) Validate(req NetworkRequest) (string, error) {
	if req.Mode == "default" || req.Mode == "bridge" {
		req.Mode = "" // without bridges, the default network is none
	}
	switch {
	case req.Mode != "" && req.Mode != "none" && req.Mode != "host":
		return "", fmt.Errorf("network %s not found: %w", req.Mode, ErrNotFound)
	case len(req.Publish) > 0 && req.Mode != "host":
		return "", fmt.Errorf("publishing ports needs a bridge network, which this berthd does not have: %w", ErrInvalidArgument)
	case len(req.Aliases) > 0:
		return "", fmt.Errorf("network-scoped aliases need a user-defined network, which this berthd does not have: %w", ErrInvalidArgument)
	case req.Mode == "":
		return "none", nil
	}
	return req.Mode, nil
}

// Attach implements NetworkAttacher.
func (n *DefaultNetwork) Attach(ctx context.Context, req NetworkRequest) (*NetworkAttachment, error) {
	mode, err := n.Validate(req)
	if err != nil {
		return nil, err
	}
	if mode == "host" {
		hosts, _ := os.ReadFile("/etc/hosts")
		resolv, _ := os.ReadFile("/etc/resolv.conf")
		return &NetworkAttachment{Mode: mode, HostNetwork: true, Hosts: hosts, ResolvConf: resolv}, nil
	}
	path, err := newNetNS(n.NetNSDir, req.ContainerID)
	if err != nil {
		return nil, err
	}
	return &NetworkAttachment{Mode: mode, NetNS: path, Hosts: LocalHosts(req.Hostname, ""), ResolvConf: HostResolvConf()}, nil
}

// Get implements NetworkAttacher: a container with a namespace file is
// on none; DefaultNetwork keeps no other record.
func (n *DefaultNetwork) Get(ctx context.Context, containerID string) (*NetworkAttachment, error) {
	path := filepath.Join(n.NetNSDir, containerID)
	if _, err := os.Stat(path); err != nil {
		return nil, nil
	}
	return &NetworkAttachment{Mode: "none", NetNS: path}, nil
}

// Detach implements NetworkAttacher.
func (n *DefaultNetwork) Detach(ctx context.Context, containerID string) error {
	return removeNetNS(n.NetNSDir, containerID)
}

// Release implements NetworkAttacher.
func (n *DefaultNetwork) Release(ctx context.Context, containerID string) error {
	return removeNetNS(n.NetNSDir, containerID)
}

// LocalHosts is Docker's /etc/hosts of a container: the loopback names,
// and hostname on ip if there is one.
func LocalHosts(hostname, ip string) []byte {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")
	if ip != "" {
		fmt.Fprintf(&b, "%s\t%s\n", ip, hostname)
	}
	return b.Bytes()
}

// HostResolvConf is the host's resolv.conf without loopback name servers
// (which mean the host's own resolver, unreachable from a container's
// namespace); with none left, Google's public servers, as Docker does.
func HostResolvConf() []byte {
	raw, _ := os.ReadFile("/etc/resolv.conf")
	var b bytes.Buffer
	servers := 0
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			if strings.HasPrefix(f[1], "127.") || f[1] == "::1" {
				continue
			}
			servers++
		}
		if strings.TrimSpace(line) != "" {
			b.WriteString(line + "\n")
		}
	}
	if servers == 0 {
		b.WriteString("nameserver 8.8.8.8\nnameserver 8.8.4.4\n")
	}
	return b.Bytes()
}

// VolumeRequest is what a starting container asks to have mounted.
type VolumeRequest struct {
	// Binds, Mounts and Tmpfs are the raw -v, --mount and --tmpfs values.
	Binds, Mounts, Tmpfs []string
	// ImageVolumes are the image's VOLUME paths.
	ImageVolumes []string
	// Rootfs is the container's mounted root filesystem (to fill a new
	// volume from the image's files).
	Rootfs string
}

// VolumeResolver turns a container's mounts into config.json mounts,
// creating named and anonymous volumes; Release drops the container's
// use of them when it is removed (removing its anonymous volumes with
// removeAnonymous, `rm -v`). berthd's volume package implements it;
// without one, bind mounts and tmpfs work and volumes are refused.
type VolumeResolver interface {
	Resolve(ctx context.Context, containerID string, req VolumeRequest) ([]rspec.Mount, error)
	Release(ctx context.Context, containerID string, removeAnonymous bool) error
}
