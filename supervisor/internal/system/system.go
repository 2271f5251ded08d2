// Package system answers `berth version` and `berth info`: berthd's
// version and those of the binaries it runs, and Docker-shaped facts
// about the daemon and its host. The JSON keys are Docker's, so that
// templates written for `docker version` and `docker info` work.
package system

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/eventlog"
	"github.com/berth-project/berth/supervisor/internal/metadata"
)

// APIVersion is the version of berthd's API (supervisor/api).
const APIVersion = "1"

// Counts are the objects berthd holds, for Info.
type Counts struct {
	Running, Paused, Stopped int
	Images                   int
}

// Options describe the daemon.
type Options struct {
	Version            string
	Root               string
	Debug              bool
	InsecureRegistries []string
	RuntimeBinary      string
	ShimBinary         string
	// Counts reports the current containers and images.
	Counts func(ctx context.Context) (Counts, error)
	// DB is berthd's metadata, for DiskUsage.
	DB *metadata.DB
	// Events is the event log Events streams from.
	Events *eventlog.Log
}

var errNoDB = errors.New("disk usage: no metadata database")

// Service implements api.TTRPCSystemService.
type Service struct {
	o Options
}

// New returns the service.
func New(o Options) *Service { return &Service{o: o} }

// component is one entry of Docker's Components list.
type component struct {
	Name    string            `json:"Name"`
	Version string            `json:"Version"`
	Details map[string]string `json:"Details,omitempty"`
}

// Version implements api.TTRPCSystemService.
func (s *Service) Version(ctx context.Context, _ *api.VersionRequest) (*api.VersionResponse, error) {
	kernel := kernelVersion()
	v := map[string]any{
		"Platform":      map[string]string{"Name": "berth"},
		"Version":       s.o.Version,
		"ApiVersion":    APIVersion,
		"GoVersion":     runtime.Version(),
		"Os":            runtime.GOOS,
		"Arch":          runtime.GOARCH,
		"KernelVersion": kernel,
		"Components": []component{
			{Name: "Engine", Version: s.o.Version, Details: map[string]string{
				"ApiVersion": APIVersion, "GoVersion": runtime.Version(), "Os": runtime.GOOS,
				"Arch": runtime.GOARCH, "KernelVersion": kernel,
			}},
			{Name: "berth-runtime", Version: binaryVersion(ctx, s.o.RuntimeBinary, "--version")},
			{Name: "containerd-shim-berth-v2", Version: binaryVersion(ctx, s.o.ShimBinary, "-v")},
		},
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &api.VersionResponse{Json: b}, nil
}

// Info implements api.TTRPCSystemService.
func (s *Service) Info(ctx context.Context, _ *api.InfoRequest) (*api.InfoResponse, error) {
	var c Counts
	if s.o.Counts != nil {
		var err error
		if c, err = s.o.Counts(ctx); err != nil {
			return nil, err
		}
	}
	hostname, _ := os.Hostname()
	insecure := append([]string{"127.0.0.0/8"}, s.o.InsecureRegistries...)
	info := map[string]any{
		"Containers":         c.Running + c.Paused + c.Stopped,
		"ContainersRunning":  c.Running,
		"ContainersPaused":   c.Paused,
		"ContainersStopped":  c.Stopped,
		"Images":             c.Images,
		"Driver":             "overlayfs",
		"LoggingDriver":      "json-file",
		"CgroupDriver":       "cgroupfs",
		"CgroupVersion":      cgroupVersion(),
		"KernelVersion":      kernelVersion(),
		"OperatingSystem":    osName("/etc/os-release"),
		"OSType":             runtime.GOOS,
		"Architecture":       machine(),
		"NCPU":               runtime.NumCPU(),
		"MemTotal":           memTotal("/proc/meminfo"),
		"Name":               hostname,
		"ServerVersion":      s.o.Version,
		"DockerRootDir":      s.o.Root,
		"Debug":              s.o.Debug,
		"DefaultRuntime":     "berth-runtime",
		"Runtimes":           map[string]map[string]string{"berth-runtime": {"path": s.o.RuntimeBinary}},
		"SecurityOptions":    []string{"name=seccomp,profile=builtin"},
		"LiveRestoreEnabled": true,
		"InsecureRegistries": insecure,
		"SystemTime":         time.Now().Format(time.RFC3339Nano),
	}
	b, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	return &api.InfoResponse{Json: b}, nil
}

// binaryVersion runs `bin flag` and returns the word after "version" on
// its first line ("" if it cannot tell).
func binaryVersion(ctx context.Context, bin, flag string) string {
	if bin == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, flag).Output()
	if err != nil {
		return ""
	}
	return parseVersion(out)
}

func parseVersion(out []byte) string {
	line, _, _ := bytes.Cut(out, []byte("\n"))
	f := strings.Fields(string(line))
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "version" {
			return f[i+1]
		}
	}
	return ""
}

func uname() unix.Utsname {
	var u unix.Utsname
	unix.Uname(&u)
	return u
}

func kernelVersion() string {
	u := uname()
	return unix.ByteSliceToString(u.Release[:])
}

func machine() string {
	u := uname()
	return unix.ByteSliceToString(u.Machine[:])
}

// cgroupVersion is "2" on a unified host, "1" on legacy and hybrid ones.
func cgroupVersion() string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "2"
	}
	return "1"
}

// osName is PRETTY_NAME from an os-release file.
func osName(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return runtime.GOOS
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
			return v
		}
	}
	return runtime.GOOS
}

// memTotal is MemTotal from a meminfo file, in bytes.
func memTotal(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}
