package metadata

import (
	"encoding/json"
	"time"
)

var bContainers = []byte("containers")

// ContainerState is a container's lifecycle state as berthd last recorded
// it. After a restart berthd checks it against the shims before trusting
// Running.
type ContainerState struct {
	// Status is Docker's: created, running, paused, restarting, removing,
	// exited or dead.
	Status     string    `json:"status"`
	Pid        int       `json:"pid,omitempty"`
	ExitCode   int       `json:"exitCode"`
	Error      string    `json:"error,omitempty"`
	OOMKilled  bool      `json:"oomKilled,omitempty"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	// ManuallyStopped is set by stop and kill: the restart policies
	// "always" and "unless-stopped" leave such a container alone (the
	// first until berthd restarts).
	ManuallyStopped bool `json:"manuallyStopped,omitempty"`
	RestartCount    int  `json:"restartCount,omitempty"`
	// Health is the last run's health, for a container with a health
	// check: written when its status changes.
	Health *Health `json:"health,omitempty"`
}

// Health is a container's health: Docker's State.Health.
type Health struct {
	Status        string         `json:"Status"`
	FailingStreak int            `json:"FailingStreak"`
	Log           []HealthResult `json:"Log"`
}

// HealthResult is one health probe.
type HealthResult struct {
	Start    time.Time `json:"Start"`
	End      time.Time `json:"End"`
	ExitCode int       `json:"ExitCode"`
	Output   string    `json:"Output"`
}

// Container is one container, keyed by its ID.
type Container struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	// Image is the name the user gave, ImageID the image it resolved to.
	Image   string `json:"image"`
	ImageID string `json:"imageID"`
	// ChainID of the image's top layer: the container's lower layers.
	ChainID string `json:"chainID"`
	// Path and Args are the command the container runs: the image's
	// entrypoint and command as the create request overrode them.
	Path string   `json:"path"`
	Args []string `json:"args,omitempty"`
	// Config is the create request's api.ContainerConfig (protojson).
	Config json.RawMessage `json:"config"`
	State  ContainerState  `json:"state"`
	// Volumes maps each destination that has a volume to the volume's
	// name, as the last start resolved them (for inspect's Mounts).
	Volumes map[string]string `json:"volumes,omitempty"`
}

// Container returns the container with the given ID.
func (t *Tx) Container(id string) (*Container, error) { return get[Container](t.tx, bContainers, id) }

// PutContainer stores c.
func (t *Tx) PutContainer(c *Container) error { return put(t.tx, bContainers, c.ID, c) }

// DeleteContainer removes the record of container id.
func (t *Tx) DeleteContainer(id string) error {
	return t.tx.Bucket(bContainers).Delete([]byte(id))
}

// Containers lists all containers, ordered by ID.
func (t *Tx) Containers() ([]Container, error) { return list[Container](t.tx, bContainers) }
