package container

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/forkexec"
	"github.com/berth-project/berth/internal/runstate"
	"github.com/berth-project/berth/runtime/internal/nsenter"
)

// nsJoin is a namespace to join by path.
type nsJoin struct {
	typ  string // nsenter's names: user ipc uts net pid mnt cgroup time
	path string
}

// spawnOpts describes the child to start.
type spawnOpts struct {
	mode     string // "init" or "exec"
	dir      string // working directory (the bundle, for relative bind sources)
	join     []nsJoin
	newFlags int
	stdin    *os.File
	stdout   *os.File
	stderr   *os.File
	// extra are passed as fds 3, 4, ... in order; preserved fds come first.
	extra []*os.File
	// userns is called with the child's pid once it created a user
	// namespace, to write its id maps.
	userns func(pid int) error
	// stage1 is called with the pid of the process that will create the
	// remaining namespaces, to put it into the container's cgroup (or,
	// with cgroupJoin, to prepare the cgroup the child joins by itself).
	stage1 func(pid int) error
	// cgroupJoin, when set, is the child's own way into the cgroup after
	// stage1, as nsenter reads it: lines "tasks PATH" (write "0") and
	// "clone DIR required|optional" (fork into DIR with CLONE_INTO_CGROUP).
	cgroupJoin string
}

// child is a spawned berth-runtime init, in its namespaces.
type child struct {
	// first is the process we started; reaped once it was waited for.
	first  int
	reaped bool
	pid    int // the final process: the container init or the exec'd process
	sock   *os.File
	dec    *json.Decoder
	enc    *json.Encoder
	// direct is true when pid is first (no pid namespace fork).
	direct bool
}

// nsFlag maps OCI namespace types to nsenter's names and clone flags.
var nsFlag = map[string]struct {
	name string
	flag int
}{
	"pid":     {"pid", unix.CLONE_NEWPID},
	"network": {"net", unix.CLONE_NEWNET},
	"mount":   {"mnt", unix.CLONE_NEWNS},
	"ipc":     {"ipc", unix.CLONE_NEWIPC},
	"uts":     {"uts", unix.CLONE_NEWUTS},
	"user":    {"user", unix.CLONE_NEWUSER},
	"cgroup":  {"cgroup", unix.CLONE_NEWCGROUP},
	"time":    {"time", unix.CLONE_NEWTIME},
}

// spawn starts `berth-runtime init` and drives the nsenter stage until the
// final process exists. On error nothing is left running.
func spawn(o spawnOpts) (c *child, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	parent := os.NewFile(uintptr(fds[0]), "sync-parent")
	childEnd := os.NewFile(uintptr(fds[1]), "sync-child")
	defer childEnd.Close()

	syncFd := 3 + len(o.extra)
	var join strings.Builder
	for _, j := range o.join {
		fmt.Fprintf(&join, "%s %s\n", j.typ, j.path)
	}
	// internal/nsenter bind mounted our binary read-only for us
	// (CVE-2019-5736); start the child through that mount.
	self := nsenter.Self()
	if self == "" {
		self = "/proc/self/exe"
	}
	files := append([]*os.File{o.stdin, o.stdout, o.stderr}, o.extra...)
	pid, err := forkexec.Start(self, []string{"berth-runtime", "init"}, forkexec.Attr{
		Dir: o.dir,
		Env: []string{
			"_BERTH_INIT=" + o.mode,
			"_BERTH_SYNCFD=" + strconv.Itoa(syncFd),
			"_BERTH_NSJOIN=" + join.String(),
			"_BERTH_NSNEW=" + strconv.Itoa(o.newFlags),
			"_BERTH_CGJOIN=" + o.cgroupJoin,
		},
		Files: append(files, childEnd),
	})
	if err != nil {
		parent.Close()
		return nil, fmt.Errorf("start init: %w", err)
	}
	c = &child{first: pid, sock: parent}
	defer func() {
		if err != nil {
			c.kill()
		}
	}()
	childEnd.Close()

	r := bufio.NewReader(parent)
	for {
		line, rerr := r.ReadString('\n')
		if rerr != nil {
			if werr := c.waitFirst(); werr != nil {
				return c, fmt.Errorf("init process failed before entering its namespaces: %w", werr)
			}
			return c, fmt.Errorf("init process: unexpected end of sync: %w", rerr)
		}
		word, arg, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		switch word {
		case "error":
			c.waitFirst()
			return c, errors.New(arg)
		case "userns":
			pid, _ := strconv.Atoi(arg)
			if o.userns != nil {
				if err := o.userns(pid); err != nil {
					return c, err
				}
			}
			if _, err := parent.Write([]byte{'A'}); err != nil {
				return c, fmt.Errorf("sync with init: %w", err)
			}
		case "stage1":
			pid, _ := strconv.Atoi(arg)
			if o.stage1 != nil {
				if err := o.stage1(pid); err != nil {
					return c, err
				}
			}
			if _, err := parent.Write([]byte{'A'}); err != nil {
				return c, fmt.Errorf("sync with init: %w", err)
			}
		case "pid":
			pid, perr := strconv.Atoi(arg)
			if perr != nil {
				return c, fmt.Errorf("init sent a bad pid %q", arg)
			}
			c.pid = pid
			c.direct = pid == c.first
			if !c.direct {
				// The intermediate process exits once it forked into the pid namespace.
				if werr := c.waitFirst(); werr != nil {
					return c, fmt.Errorf("init process: %w", werr)
				}
			}
			c.dec = json.NewDecoder(r)
			c.enc = json.NewEncoder(parent)
			return c, nil
		default:
			return c, fmt.Errorf("init sent an unexpected message %q", line)
		}
	}
}

// send sends the config to the child. It is written without json.Encoder's
// trailing newline: an exec'd child reads exactly the JSON value and then
// execs, and a byte left unread in its socket would turn our end-of-file
// into ECONNRESET.
func (c *child) send(cfg *initConfig) error {
	data, err := json.Marshal(message{Type: msgConfig, Config: cfg})
	if err == nil {
		_, err = c.sock.Write(data)
	}
	if err != nil {
		return fmt.Errorf("send config to init: %w", err)
	}
	return nil
}

// wait reads the child's messages until "ready"; for an exec'd process
// (execing), end of stream after its "execing" message counts as ready
// too. hooks runs when the child asks.
func (c *child) wait(execing bool, hooks func() error) error {
	announced := false
	for {
		var m message
		if err := c.dec.Decode(&m); err != nil {
			if announced && (errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET)) {
				return nil
			}
			if execing {
				return fmt.Errorf("exec'd process died before it could start: %w", err)
			}
			return fmt.Errorf("init process exited before it was ready: %w", err)
		}
		switch m.Type {
		case msgExecing:
			announced = execing
		case msgReady:
			return nil
		case msgError:
			return errors.New(m.Error)
		case msgHooks:
			if hooks != nil {
				if err := hooks(); err != nil {
					return err
				}
			}
			if err := c.enc.Encode(message{Type: msgAck}); err != nil {
				return fmt.Errorf("sync with init: %w", err)
			}
		default:
			return fmt.Errorf("init sent an unexpected %q message", m.Type)
		}
	}
}

// waitFirst reaps the process we started, once.
func (c *child) waitFirst() error {
	if c.reaped {
		return nil
	}
	c.reaped = true
	return forkexec.Wait(c.first)
}

// kill stops whatever the child left running; used on failure paths.
func (c *child) kill() {
	if c.pid > 0 {
		unix.Kill(c.pid, unix.SIGKILL)
	}
	if !c.reaped {
		unix.Kill(c.first, unix.SIGKILL)
		c.waitFirst()
	}
	if c.pid > 0 && !c.direct {
		// Reaped by a subreaper or by init; wait until it is really gone so
		// that its cgroup can be removed.
		waitGone(c.pid)
	}
	c.sock.Close()
}

// waitGone polls until pid no longer exists or is a zombie.
func waitGone(pid int) {
	for i := 0; i < 2000; i++ {
		_, st, err := runstate.ProcStart(pid)
		if err != nil || st == 'Z' || st == 'X' {
			return
		}
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		sleepMs(1)
	}
}

func sleepMs(n int) {
	ts := unix.NsecToTimespec(int64(n) * 1e6)
	for unix.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
