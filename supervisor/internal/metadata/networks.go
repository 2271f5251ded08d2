package metadata

import "time"

var (
	bNetworks  = []byte("networks")
	bEndpoints = []byte("endpoints")
)

// Network is one network, keyed by its ID: the default bridge, the host
// and none pseudo-networks, and user-defined bridges.
type Network struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Driver  string    `json:"driver"` // bridge, host or null
	Created time.Time `json:"created"`
	// Subnet (CIDR), Gateway and Bridge (the Linux bridge's name) are set
	// for bridge networks only.
	Subnet  string            `json:"subnet,omitempty"`
	Gateway string            `json:"gateway,omitempty"`
	Bridge  string            `json:"bridge,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	// Internal networks get no NAT to the outside.
	Internal bool `json:"internal,omitempty"`
	// LastIP is the address IPAM handed out last: allocation goes on
	// after it, so a released address is not reused at once.
	LastIP string `json:"lastIP,omitempty"`
}

// PortBinding is one published port of a container.
type PortBinding struct {
	Proto         string `json:"proto"`            // tcp or udp
	HostIP        string `json:"hostIP,omitempty"` // "" for every address
	HostPort      uint16 `json:"hostPort"`
	ContainerPort uint16 `json:"containerPort"`
}

// EndpointNetwork is a container's place on one network.
type EndpointNetwork struct {
	NetworkID string   `json:"networkID"`
	IP        string   `json:"ip"`
	MAC       string   `json:"mac"`
	HostVeth  string   `json:"hostVeth"`
	Interface string   `json:"interface"` // inside the container: eth0, eth1...
	Aliases   []string `json:"aliases,omitempty"`
}

// Endpoint is the network side of one container, keyed by the
// container's ID: its mode, its network namespace and its addresses.
type Endpoint struct {
	ContainerID string `json:"containerID"`
	Name        string `json:"name"`
	Hostname    string `json:"hostname,omitempty"`
	// Mode is bridge, host or none.
	Mode string `json:"mode"`
	// NetNS is the bind-mounted namespace file ("" in host mode).
	NetNS    string            `json:"netns,omitempty"`
	Networks []EndpointNetwork `json:"networks,omitempty"`
	Ports    []PortBinding     `json:"ports,omitempty"`
	Created  time.Time         `json:"created"`
}

// Network returns the network with the given ID.
func (t *Tx) Network(id string) (*Network, error) { return get[Network](t.tx, bNetworks, id) }

// PutNetwork stores n.
func (t *Tx) PutNetwork(n *Network) error { return put(t.tx, bNetworks, n.ID, n) }

// DeleteNetwork removes the record of network id.
func (t *Tx) DeleteNetwork(id string) error { return t.tx.Bucket(bNetworks).Delete([]byte(id)) }

// Networks lists all networks, ordered by ID.
func (t *Tx) Networks() ([]Network, error) { return list[Network](t.tx, bNetworks) }

// Endpoint returns the endpoint of a container.
func (t *Tx) Endpoint(containerID string) (*Endpoint, error) {
	return get[Endpoint](t.tx, bEndpoints, containerID)
}

// PutEndpoint stores e.
func (t *Tx) PutEndpoint(e *Endpoint) error { return put(t.tx, bEndpoints, e.ContainerID, e) }

// DeleteEndpoint removes the endpoint of a container.
func (t *Tx) DeleteEndpoint(containerID string) error {
	return t.tx.Bucket(bEndpoints).Delete([]byte(containerID))
}

// Endpoints lists all endpoints, ordered by container ID.
func (t *Tx) Endpoints() ([]Endpoint, error) { return list[Endpoint](t.tx, bEndpoints) }
