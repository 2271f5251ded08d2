package container

// The parent (a berth-runtime command) and the child (berth-runtime init,
// which becomes the container's init or an exec'd process) share a socket
// pair. The first part of the conversation is text lines from the C
// constructor in internal/nsenter (see its README); then:
//
//	parent                                 child (Go, in the container's namespaces)
//	  | ---- {"type":"config",...} --------->  |
//	  |                                        |  mounts
//	  | <--- {"type":"hooks"} (if any) -------  |
//	prestart, createRuntime hooks              |
//	  | ---- {"type":"ack"} ------------------> |  createContainer hooks, pivot_root,
//	  |                                        |  console, look up args[0]
//	  | <--- {"type":"ready"} or "error" ----  |
//	create: write state, exit                  |  (init) block opening exec.fifo for writing
//	start: open exec.fifo for reading ------>  |  set user, capabilities, seccomp; execve
//
// For exec the child does not wait on a fifo: after "ready" it execs at once;
// the socket is close-on-exec, so the parent seeing EOF means execve worked,
// and an "error" message means it did not.

import "encoding/json"

type msgType string

const (
	msgConfig msgType = "config"
	msgReady  msgType = "ready"
	msgError  msgType = "error"
	// msgHooks asks the parent to run the prestart and createRuntime hooks
	// (in the runtime's namespaces) before pivot_root; it answers msgAck.
	msgHooks msgType = "hooks"
	msgAck   msgType = "ack"
	// msgExecing: an exec'd process is about to execve; end of stream after
	// it means success, before it a process that died.
	msgExecing msgType = "execing"
)

type message struct {
	Type   msgType     `json:"type"`
	Error  string      `json:"error,omitempty"`
	Config *initConfig `json:"config,omitempty"`
}

// initConfig tells the child what to do once it is in its namespaces.
type initConfig struct {
	Exec        bool            `json:"exec,omitempty"` // an exec'd process, not a container init
	ID          string          `json:"id"`
	Spec        json.RawMessage `json:"spec"`              // config.json, decoded by the child only
	Process     json.RawMessage `json:"process,omitempty"` // exec: the process to run; init: spec's
	Rootfs      string          `json:"rootfs,omitempty"`
	Bundle      string          `json:"bundle,omitempty"`
	Pid         int             `json:"pid"`                    // our pid as the host sees it, for hook states
	ParentHooks bool            `json:"parent_hooks,omitempty"` // send msgHooks before pivot_root
	NoPivot     bool            `json:"no_pivot,omitempty"`
	// HostMounts: the config has no mount namespace, so the container shares
	// the runtime's, as the spec asks. Its mounts are then not made (they
	// would land on the host, which is what runc does); the process is only
	// chrooted into the rootfs.
	HostMounts   bool     `json:"host_mounts,omitempty"`
	Chroot       string   `json:"chroot,omitempty"` // exec: the root to chroot to`
	NoNewKeyring bool     `json:"no_new_keyring,omitempty"`
	NewUTS       bool     `json:"new_uts,omitempty"`
	FifoFd       int      `json:"fifo_fd"`    // -1 for exec
	ConsoleFd    int      `json:"console_fd"` // -1 without a terminal
	PreserveFds  int      `json:"preserve_fds"`
	ExtraEnv     []string `json:"extra_env,omitempty"`
	// Seccomp is linux.seccomp compiled by the parent (seccomp.Encode).
	Seccomp []byte `json:"seccomp,omitempty"`
	// MountFds are bind sources the parent opened, by mount index, for
	// an init in a new user namespace (rootfs.OpenBindSources).
	MountFds map[int]int `json:"mount_fds,omitempty"`
}
