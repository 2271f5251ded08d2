package containers

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	taskapi "github.com/containerd/containerd/api/runtime/task/v2"
	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/berth-project/berth/specs"
	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/shimclient"
)

// processSpecURL is the type containerd gives an exec's process spec.
const processSpecURL = "types.containerd.io/opencontainers/runtime-spec/1/Process"

// execProc is one exec in a running container.
type execProc struct {
	id    string
	io    *stdio
	fifos fifoPaths
}

func (t *task) exec(id string) *execProc {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.execs[id]
}

// Exec runs a process in a running container and streams its stdio; with
// detach it returns once the process started.
func (s *Service) Exec(ctx context.Context, first *api.ExecInput, recv func() (*api.AttachInput, error), out AttachStream) error {
	c, err := s.get(first.GetId())
	if err != nil {
		return err
	}
	if len(first.GetCmd()) == 0 {
		return fmt.Errorf("no exec command specified: %w", ErrInvalidArgument)
	}
	c.mu.Lock()
	t, status := c.task, c.rec.State.Status
	c.mu.Unlock()
	switch {
	case t == nil:
		return fmt.Errorf("container %s is not running: %w", shortID(c.id), ErrConflict)
	case status == "paused":
		return fmt.Errorf("container %s is paused, unpause the container before exec: %w", shortID(c.id), ErrConflict)
	}
	proc, err := s.execProcess(c, first)
	if err != nil {
		return err
	}
	procJSON, err := json.Marshal(proc)
	if err != nil {
		return err
	}
	e := &execProc{id: newID()}
	detach := first.GetDetach()
	snd := &lockedSender{s: out}
	if !detach {
		if e.fifos, err = makeFIFOs(c.paths, e.id, first.GetStdin(), first.GetTty()); err != nil {
			return err
		}
		if e.io, err = openStdio(e.fifos); err != nil {
			removeFIFOs(e.fifos)
			return err
		}
		e.io.attach(snd.client(true, true))
	}
	t.mu.Lock()
	t.execs[e.id] = e
	t.mu.Unlock()
	cleanup := func() {
		t.mu.Lock()
		delete(t.execs, e.id)
		t.mu.Unlock()
		if e.io != nil {
			e.io.close()
		}
		removeFIFOs(e.fifos)
	}
	tctx := shimclient.Context(context.WithoutCancel(ctx))
	_, err = t.shim.Task.Exec(tctx, &taskapi.ExecProcessRequest{
		ID: c.id, ExecID: e.id, Terminal: first.GetTty(),
		Stdin: e.fifos.stdin, Stdout: e.fifos.stdout, Stderr: e.fifos.stderr,
		Spec: &anypb.Any{TypeUrl: processSpecURL, Value: procJSON},
	})
	if err != nil {
		cleanup()
		return fmt.Errorf("exec: %s: %w", shimMessage(err), ErrFailedPrecondition)
	}
	// Docker's exec events: the action names the command.
	cmdline := strings.Join(first.GetCmd(), " ")
	s.emit(c, "exec_create: "+cmdline, map[string]string{"execID": e.id})
	// The shim opens an exec's FIFOs when it starts it: only then can
	// berthd read (before, a read sees no writer, which is EOF) and open
	// stdin for writing. Output waits in the FIFOs meanwhile.
	if _, err := t.shim.Task.Start(tctx, &taskapi.StartRequest{ID: c.id, ExecID: e.id}); err != nil {
		t.shim.Task.Delete(tctx, &taskapi.DeleteRequest{ID: c.id, ExecID: e.id})
		cleanup()
		msg := "OCI runtime exec failed: " + shimMessage(err)
		return snd.send(&api.AttachOutput{Exited: true, ExitCode: int32(execFailureCode(msg)), Error: msg})
	}
	s.emit(c, "exec_start: "+cmdline, map[string]string{"execID": e.id})
	if e.io != nil {
		e.io.start()
		if err := e.io.openStdin(e.fifos.stdin); err != nil {
			t.shim.Task.Kill(tctx, &taskapi.KillRequest{ID: c.id, ExecID: e.id, Signal: 9})
		}
	}
	if first.GetTty() && first.GetWidth() > 0 {
		t.shim.Task.ResizePty(tctx, &taskapi.ResizePtyRequest{ID: c.id, ExecID: e.id, Width: first.GetWidth(), Height: first.GetHeight()})
	}
	if err := snd.send(&api.AttachOutput{Started: true, ExecId: e.id}); err != nil && !detach {
		t.shim.Task.Kill(tctx, &taskapi.KillRequest{ID: c.id, ExecID: e.id, Signal: 9})
	}
	wait := func() int {
		resp, err := t.shim.Task.Wait(tctx, &taskapi.WaitRequest{ID: c.id, ExecID: e.id})
		code := 137
		if err == nil {
			code = int(resp.GetExitStatus())
		}
		if e.io != nil {
			e.io.wait(outputTimeout)
		}
		t.shim.Task.Delete(tctx, &taskapi.DeleteRequest{ID: c.id, ExecID: e.id})
		cleanup()
		s.emit(c, "exec_die", map[string]string{"execID": e.id, "exitCode": strconv.Itoa(code)})
		return code
	}
	if detach {
		go wait()
		return nil
	}
	go s.attachInput(c, t, e.id, first.GetStdin(), true, recv)
	code := wait()
	return snd.send(&api.AttachOutput{Exited: true, ExitCode: int32(code), ExecId: e.id})
}

// execFailureCode is Docker's exit code for an exec that could not start:
// 127 for a command not found, 126 otherwise.
func execFailureCode(msg string) int {
	if c := exitCodeOf(fmt.Errorf("%s", msg)); c == 127 {
		return 127
	}
	return 126
}

// execProcess derives an exec's process from the container's: its
// environment (with the exec's additions), user, working directory and
// capabilities.
func (s *Service) execProcess(c *container, in *api.ExecInput) (*rspec.Process, error) {
	sp, err := c.paths.ReadSpec()
	if err != nil {
		return nil, fmt.Errorf("exec: container spec: %w", err)
	}
	p := *sp.Process
	if in.GetUser() != "" {
		// HOME is the container user's, looked up when the container
		// was made: another user gets its own from the runtime (as
		// Docker's exec does), unless the image or -e set it.
		p.Env = s.withoutDerivedEnv(c, p.Env, "HOME")
	}
	p.Args = slices.Clone(in.GetCmd())
	p.Terminal = in.GetTty()
	p.ConsoleSize = nil
	for _, e := range in.GetEnv() {
		if k, _, _ := strings.Cut(e, "="); k == "" {
			return nil, fmt.Errorf("invalid environment variable %q: %w", e, ErrInvalidArgument)
		}
	}
	p.Env = mergeEnv(p.Env, in.GetEnv())
	if p.Terminal && !slices.ContainsFunc(p.Env, func(e string) bool { return strings.HasPrefix(e, "TERM=") }) {
		p.Env = append(p.Env, "TERM=xterm")
	}
	if in.GetWorkingDir() != "" {
		if !strings.HasPrefix(in.GetWorkingDir(), "/") {
			return nil, fmt.Errorf("the working directory %q is invalid, it needs to be an absolute path: %w", in.GetWorkingDir(), ErrInvalidArgument)
		}
		p.Cwd = in.GetWorkingDir()
	}
	if in.GetUser() != "" {
		u, _, err := specs.ResolveUser(c.paths.Rootfs(), in.GetUser())
		if err != nil {
			return nil, invalid(err)
		}
		p.User = u
	}
	if in.GetPrivileged() {
		full := &rspec.Spec{Process: &rspec.Process{}}
		if err := specs.WithPrivileged()(full); err == nil && full.Process.Capabilities != nil {
			p.Capabilities = full.Process.Capabilities
		}
	}
	return &p, nil
}

// mergeEnv applies "K=V" overrides to env.
func mergeEnv(env, overrides []string) []string {
	out := slices.Clone(env)
	for _, o := range overrides {
		key, _, _ := strings.Cut(o, "=")
		i := slices.IndexFunc(out, func(e string) bool { k, _, _ := strings.Cut(e, "="); return k == key })
		if i >= 0 {
			out[i] = o
		} else {
			out = append(out, o)
		}
	}
	return out
}

// closeExecs releases the stdio of a task's execs when its init ended.
func (s *Service) closeExecs(t *task) {
	t.mu.Lock()
	execs := make([]*execProc, 0, len(t.execs))
	for _, e := range t.execs {
		execs = append(execs, e)
	}
	t.mu.Unlock()
	for _, e := range execs {
		if e.io != nil {
			e.io.wait(100 * time.Millisecond)
			e.io.close()
		}
	}
}

func removeFIFOs(f fifoPaths) {
	for _, p := range []string{f.stdin, f.stdout, f.stderr} {
		if p != "" {
			os.Remove(p)
		}
	}
}

// withoutDerivedEnv drops from env the given variables that berthd added
// to the container's process (HOME from the image's /etc/passwd,
// HOSTNAME), keeping those the image's config or the user's -e set.
func (s *Service) withoutDerivedEnv(c *container, env []string, keys ...string) []string {
	given := map[string]bool{}
	for _, e := range c.cfg.Env {
		k, _, _ := strings.Cut(e, "=")
		given[k] = true
	}
	if img, err := s.images.ByID(c.rec.ImageID); err == nil {
		for _, e := range img.Config.Env {
			k, _, _ := strings.Cut(e, "=")
			given[k] = true
		}
	}
	out := make([]string, 0, len(env))
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		if slices.Contains(keys, k) && !given[k] {
			continue
		}
		out = append(out, e)
	}
	return out
}
