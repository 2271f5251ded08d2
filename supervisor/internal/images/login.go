package images

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/reference"
)

// Login checks credentials against a registry: it pings /v2/, runs the
// token exchange the registry asks for (bearer) or sends basic auth, and
// expects 200 from /v2/ with them. Storing them is the client's business.
func (s *Service) Login(ctx context.Context, req *api.LoginRequest) (*api.LoginResponse, error) {
	host, err := reference.Registry(req.Server)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	ref := reference.Ref{Registry: host, Repository: "x"}
	var opts []name.Option
	if req.Insecure || ref.IsLoopback() || s.insecure(ref) {
		opts = append(opts, name.Insecure)
	}
	regHost := host
	if host == reference.DefaultRegistry {
		regHost = name.DefaultRegistry
	}
	reg, err := name.NewRegistry(regHost, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	a := authenticator(req.Auth)
	tr, err := transport.NewWithContext(ctx, reg, a, http.DefaultTransport, nil)
	if err != nil {
		return nil, registryError("login to", ref, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s://%s/v2/", reg.Scheme(), reg.RegistryStr()), nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: tr}).Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("login to %s: %w", host, err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return &api.LoginResponse{Server: host, Status: "Login Succeeded"}, nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, fmt.Errorf("login to %s: unauthorized: incorrect username or password: %w", host, ErrUnauthorized)
	}
	return nil, fmt.Errorf("login to %s: unexpected status %s", host, resp.Status)
}
