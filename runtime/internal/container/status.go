package container

import "fmt"

// Status is a container's OCI status.
type Status string

// The statuses of the OCI runtime spec. "creating" is never persisted: a
// container is only visible once create has finished.
const (
	Created Status = "created"
	Running Status = "running"
	Paused  Status = "paused"
	Stopped Status = "stopped"
)

// transitions lists, per operation, the statuses it may start from.
var transitions = map[string][]Status{
	"start":  {Created},
	"kill":   {Created, Running, Paused},
	"exec":   {Created, Running},
	"pause":  {Running},
	"resume": {Paused},
	"delete": {Stopped},
}

// check returns an error when op is not allowed in status s.
func check(op string, s Status) error {
	for _, ok := range transitions[op] {
		if ok == s {
			return nil
		}
	}
	if op == "kill" || op == "exec" {
		return ErrNotRunning
	}
	return fmt.Errorf("cannot %s a container that is %s", op, s)
}
