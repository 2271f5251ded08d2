package network

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// DockerJSON is the network as `docker network inspect` prints it.
func (n *Network) DockerJSON() ([]byte, error) {
	type ipamConfig struct {
		Subnet  string `json:"Subnet,omitempty"`
		Gateway string `json:"Gateway,omitempty"`
	}
	type endpoint struct {
		Name        string
		EndpointID  string
		MacAddress  string
		IPv4Address string
		IPv6Address string
	}
	cfg := []ipamConfig{}
	opts := map[string]string{}
	if n.Driver == DriverBridge {
		cfg = append(cfg, ipamConfig{n.Subnet, n.Gateway})
		opts["com.docker.network.bridge.name"] = n.Bridge
	}
	ctrs := map[string]endpoint{}
	for _, e := range n.Endpoints {
		ep := endpoint{Name: e.Name, EndpointID: endpointID(n.ID, e.ContainerID), MacAddress: e.MAC}
		if e.IP.IsValid() {
			ep.IPv4Address = e.IP.String()
		}
		ctrs[e.ContainerID] = ep
	}
	labels := n.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	type ipam struct {
		Driver  string
		Options map[string]string
		Config  []ipamConfig
	}
	return json.MarshalIndent(struct {
		Name       string
		ID         string `json:"Id"`
		Created    string
		Scope      string
		Driver     string
		EnableIPv6 bool
		IPAM       ipam
		Internal   bool
		Attachable bool
		Ingress    bool
		ConfigFrom struct{ Network string }
		ConfigOnly bool
		Containers map[string]endpoint
		Options    map[string]string
		Labels     map[string]string
	}{
		Name: n.Name, ID: n.ID, Created: n.Created.Format(time.RFC3339Nano), Scope: "local", Driver: n.Driver,
		IPAM:     ipam{Driver: "default", Options: map[string]string{}, Config: cfg},
		Internal: n.Internal, Containers: ctrs, Options: opts, Labels: labels,
	}, "", "    ")
}

// endpointID is a stable ID for a container's place on a network.
func endpointID(networkID, containerID string) string {
	sum := sha256.Sum256([]byte(networkID + "/" + containerID))
	return hex.EncodeToString(sum[:])
}

// Filter keeps the networks that pass every filter ("KEY=VALUE": name=
// and id= substrings and prefixes as Docker matches them, driver=,
// label=KEY[=VALUE]).
func Filter(nets []*Network, filters []string) ([]*Network, error) {
	var out []*Network
	for _, n := range nets {
		ok := true
		for _, f := range filters {
			k, v, found := strings.Cut(f, "=")
			if !found {
				return nil, errorf(ErrInvalidArgument, "filter %q: want KEY=VALUE", f)
			}
			switch k {
			case "name":
				ok = ok && strings.Contains(n.Name, v)
			case "id":
				ok = ok && strings.HasPrefix(n.ID, v)
			case "driver":
				ok = ok && n.Driver == v
			case "label":
				lk, lv, withValue := strings.Cut(v, "=")
				have, present := n.Labels[lk]
				ok = ok && present && (!withValue || have == lv)
			default:
				return nil, errorf(ErrInvalidArgument, "filter %q: unknown filter %q", f, k)
			}
		}
		if ok {
			out = append(out, n)
		}
	}
	return out, nil
}
