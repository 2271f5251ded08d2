// Package container implements the lifecycle of an OCI container, one
// operation per file: create.go, start.go, kill.go, delete.go, exec.go,
// state.go. The parent side (the berth-runtime command) and the child side
// (init.go, running as the container's init or an exec'd process) talk over
// a socket pair; see sync.go for the protocol.
package container
