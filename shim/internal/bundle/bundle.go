// Package bundle names the files the shim keeps in a container's bundle
// directory and reads and writes them: the runtime options chosen at Create
// (so the `delete` subcommand of a later shim invocation runs the same
// runtime), the pid files, and one exit file per process, so that a caller
// that restarts (containerd, berthd) or a dead shim's `delete` still learns
// how each process ended.
//
// Files in the bundle (all written by the shim unless noted):
//
//	config.json          OCI spec (caller)
//	rootfs/              the rootfs mounts of the Create request go here
//	address              the shim's ttrpc address (start subcommand)
//	options.json         runtime binary, root and flags used for this container
//	log.json             the runtime's --log (JSON lines)
//	init.pid, EXEC.pid   pid files written by the runtime
//	init.exit, EXEC.exit {"pid":N,"exit_status":N,"exited_at":"RFC3339Nano"}
package bundle

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Annotations in config.json that configure the shim. berthd sets them.
const (
	// AnnotationLogPath selects a JSON-lines log of the init process's
	// stdout and stderr at this absolute path (Docker json-file format).
	AnnotationLogPath = "io.berth.shim.log-path"
	// AnnotationLogMaxSize rotates the log at this many bytes (default: never).
	AnnotationLogMaxSize = "io.berth.shim.log-max-size"
	// AnnotationLogMaxFiles keeps this many log files including the current.
	AnnotationLogMaxFiles = "io.berth.shim.log-max-files"
	// AnnotationGroup and AnnotationSandbox group containers into one shim
	// (containerd's runc shim uses the same keys).
	AnnotationGroup   = "io.containerd.runc.v2.group"
	AnnotationSandbox = "io.kubernetes.cri.sandbox-id"
)

// Options are the runtime settings of one container, kept in options.json.
type Options struct {
	Binary        string `json:"binary"`
	Root          string `json:"root"`
	SystemdCgroup bool   `json:"systemd_cgroup,omitempty"`
	NoPivotRoot   bool   `json:"no_pivot_root,omitempty"`
	NoNewKeyring  bool   `json:"no_new_keyring,omitempty"`
	IoUID         int    `json:"io_uid,omitempty"`
	IoGID         int    `json:"io_gid,omitempty"`
}

// Paths of the files in a bundle.
func OptionsPath(bundle string) string { return filepath.Join(bundle, "options.json") }
func RuntimeLog(bundle string) string  { return filepath.Join(bundle, "log.json") }
func Rootfs(bundle string) string      { return filepath.Join(bundle, "rootfs") }
func PidFile(bundle, execID string) string {
	return filepath.Join(bundle, fileName(execID)+".pid")
}
func ExitFile(bundle, execID string) string {
	return filepath.Join(bundle, fileName(execID)+".exit")
}

// fileName keeps exec ids apart from the init process's files.
func fileName(execID string) string {
	if execID == "" {
		return "init"
	}
	return "exec-" + execID
}

// ValidID checks a container or exec id the way containerd's identifiers
// package does: letters, digits, '.', '_' and '-', at most 76 characters,
// starting with a letter or digit. Ids become file names.
func ValidID(id string) error {
	if len(id) == 0 || len(id) > 76 {
		return fmt.Errorf("invalid id %q: length must be 1 to 76", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return fmt.Errorf("invalid id %q: letters, digits, '.', '_' and '-' only, starting with a letter or digit", id)
		}
	}
	return nil
}

// WriteOptions saves o in the bundle.
func WriteOptions(bundle string, o *Options) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return writeAtomic(OptionsPath(bundle), b)
}

// ReadOptions loads the options saved at Create.
func ReadOptions(bundle string) (*Options, error) {
	b, err := os.ReadFile(OptionsPath(bundle))
	if err != nil {
		return nil, err
	}
	var o Options
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("parse %s: %w", OptionsPath(bundle), err)
	}
	return &o, nil
}

// Spec is the part of config.json the shim reads. Decoding only these
// fields keeps encoding/json from building (and caching for the shim's
// life) type information for the whole OCI spec.
type Spec struct {
	Annotations map[string]string `json:"annotations,omitempty"`
	Linux       *struct {
		Namespaces []specs.LinuxNamespace `json:"namespaces,omitempty"`
	} `json:"linux,omitempty"`
}

// ReadSpec reads the bundle's config.json.
func ReadSpec(bundle string) (*Spec, error) {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(bundle, "config.json"), err)
	}
	return &s, nil
}

// OwnPidNamespace reports whether the container gets a new pid namespace,
// in which case the kernel kills every process in it when init exits.
func (s *Spec) OwnPidNamespace() bool {
	if s.Linux == nil {
		return false
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.PIDNamespace {
			return ns.Path == ""
		}
	}
	return false
}

// ReadPid reads a pid file written by the runtime.
func ReadPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: bad content %q", path, b)
	}
	return pid, nil
}

// Exit is a process's recorded end.
type Exit struct {
	Pid        int       `json:"pid"`
	ExitStatus int       `json:"exit_status"`
	ExitedAt   time.Time `json:"exited_at"`
}

// WriteExit records a process's exit (atomically: a reader never sees half).
func WriteExit(bundle, execID string, e Exit) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return writeAtomic(ExitFile(bundle, execID), append(b, '\n'))
}

// ReadExit returns a recorded exit; errors.Is(err, os.ErrNotExist) if none.
func ReadExit(bundle, execID string) (*Exit, error) {
	b, err := os.ReadFile(ExitFile(bundle, execID))
	if err != nil {
		return nil, err
	}
	var e Exit
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("parse %s: %w", ExitFile(bundle, execID), err)
	}
	return &e, nil
}

func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// IsNotExist reports a missing file.
func IsNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
