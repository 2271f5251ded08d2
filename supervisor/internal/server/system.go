package server

import (
	"github.com/containerd/ttrpc"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/system"
)

// RegisterSystem adds the System service (version and info).
func RegisterSystem(srv *ttrpc.Server, svc *system.Service) {
	api.RegisterTTRPCSystemService(srv, svc)
}
