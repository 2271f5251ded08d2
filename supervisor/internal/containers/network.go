package containers

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
)

// NetworkRequest is what a network attacher learns of a container that is
// starting.
type NetworkRequest struct {
	ContainerID string
	Name        string
	Hostname    string
	// Mode is --network: "none" (the default here), "host", or a network
	// name for attachers that know networks.
	Mode string
	// Publish holds the raw -p values.
	Publish []string
}

// NetworkAttachment is a container's network for one run.
type NetworkAttachment struct {
	// NetNS is the path of the network namespace to join; "" with
	// HostNetwork means the host's namespace.
	NetNS       string
	HostNetwork bool
	// Hosts and ResolvConf are the container's /etc/hosts and
	// /etc/resolv.conf.
	Hosts      []byte
	ResolvConf []byte
	// IPAddress is the container's main address, for inspect ("" if none).
	IPAddress string
}

// NetworkAttacher gives containers their network: Attach runs before each
// start, Detach after each stop (also after a berthd restart, for
// containers that stopped while it was down), Release when the container
// is removed. berthd's network package implements it with bridges and
// port publishing; DefaultNetwork knows only "none" and "host".
type NetworkAttacher interface {
	Attach(ctx context.Context, req NetworkRequest) (*NetworkAttachment, error)
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

// Attach implements NetworkAttacher.
func (n *DefaultNetwork) Attach(ctx context.Context, req NetworkRequest) (*NetworkAttachment, error) {
	if len(req.Publish) > 0 && req.Mode != "host" {
		return nil, fmt.Errorf("publishing ports needs a bridge network, which this berthd does not have: %w", ErrInvalidArgument)
	}
	switch req.Mode {
	case "host":
		hosts, _ := os.ReadFile("/etc/hosts")
		resolv, _ := os.ReadFile("/etc/resolv.conf")
		return &NetworkAttachment{HostNetwork: true, Hosts: hosts, ResolvConf: resolv}, nil
	case "", "none", "default", "bridge":
		// Until bridges exist, the default network is none.
	default:
		return nil, fmt.Errorf("network %s not found: %w", req.Mode, ErrNotFound)
	}
	path, err := newNetNS(n.NetNSDir, req.ContainerID)
	if err != nil {
		return nil, err
	}
	return &NetworkAttachment{NetNS: path, Hosts: LocalHosts(req.Hostname, ""), ResolvConf: HostResolvConf()}, nil
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
