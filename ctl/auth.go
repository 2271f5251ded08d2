package main

import (
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/berth-project/berth/supervisor/api"
)

// registryAuth resolves the user's credentials for the registry of ref from
// Docker's config.json (DOCKER_CONFIG or ~/.docker) and its credential
// helpers. berthd gets them with the request and never stores them.
func registryAuth(ref string) *api.RegistryAuth {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil // berthd reports the bad reference
	}
	a, err := authn.DefaultKeychain.Resolve(r.Context().Registry)
	if err != nil {
		return nil
	}
	cfg, err := a.Authorization()
	if err != nil || cfg == nil || *cfg == (authn.AuthConfig{}) {
		return nil // anonymous
	}
	return &api.RegistryAuth{
		Username: cfg.Username, Password: cfg.Password,
		IdentityToken: cfg.IdentityToken, RegistryToken: cfg.RegistryToken,
	}
}
