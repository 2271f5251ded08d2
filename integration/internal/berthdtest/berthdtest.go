// Package berthdtest runs berthd and the berth CLI for the integration
// suites: each test gets a daemon on its own root, state and socket,
// stopped (by PID) when the test ends. The suites keep their own thin
// helpers on top (what they check after each run differs).
package berthdtest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Daemon is one berthd process.
type Daemon struct {
	Root, State, Addr string
	// Log receives berthd's output.
	Log string
	Cmd *exec.Cmd
	// done is closed once the process has been waited for.
	done chan struct{}
}

// Start runs bin (berthd) on d's directories with its debug log in
// d.Log and extra arguments, and returns once its socket answers; the
// test fails with the log if it does not come up in time.
func (d *Daemon) Start(t testing.TB, bin string, extra ...string) {
	t.Helper()
	log, err := os.Create(d.Log)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	args := append([]string{"--root", d.Root, "--state", d.State, "--address", d.Addr, "--debug"}, extra...)
	d.Cmd = exec.Command(bin, args...)
	d.Cmd.Stdout, d.Cmd.Stderr = log, log
	if err := d.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.done = make(chan struct{})
	go func() { d.Cmd.Wait(); close(d.done) }()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if c, err := net.Dial("unix", d.Addr); err == nil {
			c.Close()
			return
		}
		select {
		case <-d.done: // it exited: its log says why
			deadline = time.Now()
		case <-time.After(20 * time.Millisecond):
		}
	}
	b, _ := os.ReadFile(d.Log)
	t.Fatalf("berthd did not come up:\n%s", b)
}

// Running reports whether the process has not exited.
func (d *Daemon) Running() bool {
	if d.done == nil {
		return false
	}
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// Stop ends berthd with SIGTERM, then SIGKILL after timeout.
func (d *Daemon) Stop(timeout time.Duration) {
	if !d.Running() {
		return
	}
	d.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(timeout):
		d.Cmd.Process.Kill()
		<-d.done
	}
}

// Kill ends berthd with SIGKILL, as a crash would.
func (d *Daemon) Kill() {
	if !d.Running() {
		return
	}
	d.Cmd.Process.Kill()
	<-d.done
}

// Result is one CLI run.
type Result struct {
	Stdout, Stderr string
	// Code is the exit status (0 on success).
	Code int
}

// Run runs bin (the berth CLI) against d with stdin and extra
// environment ("K=V"), within timeout. Failing to run it at all is fatal.
func (d *Daemon) Run(t testing.TB, bin string, env []string, stdin string, timeout time.Duration, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(append(os.Environ(), "BERTH_ADDRESS="+d.Addr), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("berth %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// ExitError is a CLI run that exited non-zero.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return "exit status " + strconv.Itoa(e.Code) }

// Err is nil for a zero exit, else an *ExitError.
func (r Result) Err() error {
	if r.Code == 0 {
		return nil
	}
	return &ExitError{Code: r.Code}
}
