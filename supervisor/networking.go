package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/containerd/ttrpc"
	rspec "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/supervisor/internal/bundle"
	"github.com/berth-project/berth/supervisor/internal/config"
	"github.com/berth-project/berth/supervisor/internal/containers"
	"github.com/berth-project/berth/supervisor/internal/eventlog"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/network"
	"github.com/berth-project/berth/supervisor/internal/server"
	"github.com/berth-project/berth/supervisor/internal/volume"
)

// networking is berthd's volumes and networks.
type networking struct {
	vols *volume.Manager
	nets *network.Manager
}

// newNetworking opens the volume and network managers and registers
// both API services. The kernel's network state is taken back by
// restore, once the containers are known.
func newNetworking(cfg config.Config, db *metadata.DB, srv *ttrpc.Server, ev *eventlog.Log, log *slog.Logger) (*networking, error) {
	vols, err := volume.New(db, filepath.Join(cfg.Root, "volumes"))
	if err != nil {
		return nil, err
	}
	table, bridge := networkNames(cfg.Root)
	nets, err := network.New(network.Config{
		DB: db, StateDir: cfg.State, Table: table, DefaultBridge: bridge, ResolvConf: cfg.ResolvConf, Log: log,
		HostsChanged: func(id string, hosts []byte) { updateHosts(cfg.Root, id, hosts, log) },
	})
	if err != nil {
		return nil, err
	}
	server.RegisterVolumes(srv, vols, ev)
	server.RegisterNetworks(srv, nets, ev)
	return &networking{vols: vols, nets: nets}, nil
}

// restore brings the kernel's network state back in line with meta.db
// (bridges, rules, DNS) and keeps the endpoints of the containers that
// were running (wasRunning); the containers service's Restore then
// detaches those that stopped while berthd was down. Endpoints of
// containers that are gone are torn down.
func (n *networking) restore(ctx context.Context, wasRunning func(id string) bool) error {
	if err := n.nets.Restore(ctx, wasRunning); err != nil {
		return fmt.Errorf("restore networks: %w", err)
	}
	return nil
}

// networkNames are the nftables table and default bridge of the berthd
// with this root: "berth" and "berth0" for the default root; for another
// root (tests, several berthds side by side) names derived from it, so
// that instances never share or overwrite each other's rules.
func networkNames(root string) (table, bridge string) {
	if root == config.Default().Root {
		return "berth", "berth0"
	}
	abs, _ := filepath.Abs(root)
	sum := sha256.Sum256([]byte(abs))
	h := hex.EncodeToString(sum[:])[:8]
	return "berth_" + h, "berth" + h
}

// close stops the DNS responders; with no container attached it also
// removes the bridges and rules, which the next start recreates.
func (n *networking) close() {
	if err := n.nets.Shutdown(context.Background()); err != nil {
		slog.Warn("networks: shutdown", "err", err)
	}
}

// attacher adapts the network manager to the containers service.
func (n *networking) attacher() containers.NetworkAttacher { return networkAttacher{n.nets} }

type networkAttacher struct{ m *network.Manager }

// Validate implements containers.NetworkAttacher: the ports parse, the
// network exists, aliases are on a user-defined network.
func (a networkAttacher) Validate(req containers.NetworkRequest) (string, error) {
	if _, err := network.ParsePorts(req.Publish); err != nil {
		return "", containerError(err)
	}
	mode := req.Mode
	if mode == "" || mode == "default" {
		mode = network.DefaultNetwork
	}
	n, err := a.m.Inspect(context.Background(), mode)
	if err != nil {
		return "", containerError(err)
	}
	if len(req.Aliases) > 0 && (n.Name == network.DefaultNetwork || n.Driver != network.DriverBridge) {
		return "", fmt.Errorf("network-scoped aliases are only supported for user-defined networks: %w", containers.ErrInvalidArgument)
	}
	return mode, nil
}

// Attach implements containers.NetworkAttacher.
func (a networkAttacher) Attach(ctx context.Context, req containers.NetworkRequest) (*containers.NetworkAttachment, error) {
	ports, err := network.ParsePorts(req.Publish)
	if err != nil {
		return nil, containerError(err)
	}
	var nets []string
	if req.Mode != "" && req.Mode != "default" {
		nets = []string{req.Mode}
	}
	att, finish, err := a.m.AttachDeferred(ctx, req.ContainerID, req.Name, network.AttachRequest{
		Networks: nets, Ports: ports, Hostname: req.Hostname, Aliases: req.Aliases,
	})
	if err != nil {
		return nil, containerError(err)
	}
	out := toAttachment(att)
	out.Finish = func() error { return containerError(finish()) }
	out.Hosts, out.ResolvConf = att.Hosts, att.ResolvConf
	return out, nil
}

// Get implements containers.NetworkAttacher.
func (a networkAttacher) Get(ctx context.Context, containerID string) (*containers.NetworkAttachment, error) {
	att, err := a.m.Get(ctx, containerID)
	if errors.Is(err, network.ErrNotAttached) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return toAttachment(att), nil
}

func toAttachment(att *network.Attachment) *containers.NetworkAttachment {
	out := &containers.NetworkAttachment{Mode: att.Mode, NetNS: att.NetNSPath, HostNetwork: att.Mode == network.HostNetwork}
	for _, in := range att.Interfaces {
		out.Interfaces = append(out.Interfaces, containers.NetworkInterface{
			Network: in.NetworkName, NetworkID: in.NetworkID, IP: in.IP.Addr().String(), PrefixLen: in.IP.Bits(),
			Gateway: in.Gateway.String(), MAC: in.MAC, Aliases: in.Aliases,
		})
	}
	if len(out.Interfaces) > 0 {
		out.IPAddress = out.Interfaces[0].IP
	}
	for _, p := range att.Ports {
		b := containers.PortBinding{Proto: p.Proto, HostPort: p.HostPort, ContainerPort: p.ContainerPort}
		if p.HostIP.IsValid() {
			b.HostIP = p.HostIP.String()
		}
		out.Ports = append(out.Ports, b)
	}
	return out
}

// Detach implements containers.NetworkAttacher.
func (a networkAttacher) Detach(ctx context.Context, containerID string) error {
	return a.m.Detach(ctx, containerID)
}

// Release implements containers.NetworkAttacher.
func (a networkAttacher) Release(ctx context.Context, containerID string) error {
	return a.m.Detach(ctx, containerID)
}

// containerError gives a network error the containers service's
// category, so that its API edge maps it (and trims the category from
// the end of the message).
func containerError(err error) error {
	switch {
	case errors.Is(err, network.ErrNotFound):
		return fmt.Errorf("%w: %w", err, containers.ErrNotFound)
	case errors.Is(err, network.ErrInvalidArgument):
		return fmt.Errorf("%w: %w", err, containers.ErrInvalidArgument)
	case errors.Is(err, network.ErrConflict), errors.Is(err, network.ErrInUse):
		return fmt.Errorf("%w: %w", err, containers.ErrConflict)
	}
	return err
}

// resolver adapts the volume manager to the containers service.
func (n *networking) resolver() containers.VolumeResolver { return volumeResolver{n.vols} }

type volumeResolver struct{ m *volume.Manager }

// Resolve implements containers.VolumeResolver.
func (v volumeResolver) Resolve(ctx context.Context, containerID string, req containers.VolumeRequest) ([]rspec.Mount, error) {
	mounts, err := v.m.Resolve(ctx, containerID, volume.MountRequest{
		Binds: req.Binds, Mounts: req.Mounts, Tmpfs: req.Tmpfs,
		ImageVolumes: req.ImageVolumes, ImageRootfs: req.Rootfs,
	})
	return mounts, volumeError(err)
}

// Release implements containers.VolumeResolver.
func (v volumeResolver) Release(ctx context.Context, containerID string, removeAnonymous bool) error {
	return volumeError(v.m.Release(ctx, containerID, removeAnonymous))
}

// volumeError gives a volume error the containers service's category.
func volumeError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, volume.ErrNotFound):
		return fmt.Errorf("%w: %w", err, containers.ErrNotFound)
	case errors.Is(err, volume.ErrInvalidArgument):
		return fmt.Errorf("%w: %w", err, containers.ErrInvalidArgument)
	case errors.Is(err, volume.ErrInUse):
		return fmt.Errorf("%w: %w", err, containers.ErrConflict)
	}
	return err
}

// updateHosts rewrites a container's hosts file in place: it is bind
// mounted into the container, so a new file (a rename) would not be seen.
func updateHosts(root, id string, hosts []byte, log *slog.Logger) {
	path := bundle.New(root, "", id).Hosts()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			log.Warn("update hosts file", "id", id, "err", err)
		}
		return
	}
	defer f.Close()
	if _, err := f.Write(hosts); err != nil {
		log.Warn("update hosts file", "id", id, "err", err)
	}
}
