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

	"github.com/berth-project/berth/supervisor/internal/config"
	"github.com/berth-project/berth/supervisor/internal/containers"
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

// newNetworking opens the volume and network managers, brings the
// kernel's network state back in line with meta.db (bridges, rules, DNS,
// the namespaces of running containers) and registers both API services.
func newNetworking(cfg config.Config, db *metadata.DB, srv *ttrpc.Server, log *slog.Logger) (*networking, error) {
	vols, err := volume.New(db, filepath.Join(cfg.Root, "volumes"))
	if err != nil {
		return nil, err
	}
	table, bridge := networkNames(cfg.Root)
	nets, err := network.New(network.Config{
		DB: db, StateDir: cfg.State, Table: table, DefaultBridge: bridge, ResolvConf: cfg.ResolvConf, Log: log,
	})
	if err != nil {
		return nil, err
	}
	// Every endpoint whose namespace survived is kept; the containers
	// service detaches those whose container stopped meanwhile.
	if err := nets.Restore(context.Background(), nil); err != nil {
		nets.Close()
		return nil, fmt.Errorf("restore networks: %w", err)
	}
	server.RegisterVolumes(srv, vols)
	server.RegisterNetworks(srv, nets)
	return &networking{vols: vols, nets: nets}, nil
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
	att, err := a.m.Attach(ctx, req.ContainerID, req.Name, network.AttachRequest{Networks: nets, Ports: ports, Hostname: req.Hostname})
	if err != nil {
		return nil, containerError(err)
	}
	out := &containers.NetworkAttachment{NetNS: att.NetNSPath, HostNetwork: att.Mode == network.HostNetwork}
	if out.Hosts, err = os.ReadFile(att.HostsFile); err == nil {
		out.ResolvConf, err = os.ReadFile(att.ResolvConf)
	}
	if err != nil {
		a.m.Detach(ctx, req.ContainerID)
		return nil, err
	}
	if len(att.Interfaces) > 0 {
		out.IPAddress = att.Interfaces[0].IP.Addr().String()
	}
	return out, nil
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
// category, so that its API edge maps it.
func containerError(err error) error {
	switch {
	case errors.Is(err, network.ErrNotFound):
		return fmt.Errorf("%w: %w", containers.ErrNotFound, err)
	case errors.Is(err, network.ErrInvalidArgument):
		return fmt.Errorf("%w: %w", containers.ErrInvalidArgument, err)
	case errors.Is(err, network.ErrConflict):
		return fmt.Errorf("%w: %w", containers.ErrConflict, err)
	}
	return err
}
