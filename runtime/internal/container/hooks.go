package container

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Warn reports problems that must not fail an operation (a failing
// poststart or poststop hook); main points it at the log.
var Warn = func(msg string) { fmt.Fprintln(os.Stderr, "berth-runtime: warning: "+msg) }

// runHooks runs hooks in order, each with the state on its stdin, and
// stops at the first failure.
func runHooks(kind string, hooks []specs.Hook, st OCIState) error {
	if len(hooks) == 0 {
		return nil
	}
	state, err := json.Marshal(st)
	if err != nil {
		return err
	}
	for i, h := range hooks {
		if err := runHook(h, state); err != nil {
			return fmt.Errorf("%s hook #%d (%s): %w", kind, i, h.Path, err)
		}
	}
	return nil
}

// runHooksWarn runs every hook, turning failures into warnings, as the spec
// asks for poststart and poststop.
func runHooksWarn(kind string, hooks []specs.Hook, st OCIState) {
	state, err := json.Marshal(st)
	if err != nil {
		return
	}
	for i, h := range hooks {
		if err := runHook(h, state); err != nil {
			Warn(fmt.Sprintf("%s hook #%d (%s): %v", kind, i, h.Path, err))
		}
	}
}

func runHook(h specs.Hook, state []byte) error {
	ctx := context.Background()
	if h.Timeout != nil {
		if *h.Timeout <= 0 {
			return fmt.Errorf("timeout must be positive, got %d", *h.Timeout)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	args := h.Args
	if len(args) == 0 {
		args = []string{h.Path}
	}
	var stderr bytes.Buffer
	cmd := &exec.Cmd{
		Path:   h.Path,
		Args:   args,
		Env:    h.Env,
		Stdin:  bytes.NewReader(state),
		Stdout: &stderr,
		Stderr: &stderr,
	}
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			if msg := strings.TrimSpace(stderr.String()); msg != "" {
				return fmt.Errorf("%w: %s", err, msg)
			}
			return err
		}
		return nil
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		return errors.New("timed out")
	}
}

// hookState is the state given to hooks while the container is set up.
func hookState(id, bundle string, pid int, annotations map[string]string, status Status) OCIState {
	return OCIState{
		OCIVersion:  specs.Version,
		ID:          id,
		Pid:         pid,
		Status:      status,
		Bundle:      bundle,
		Annotations: annotations,
	}
}
