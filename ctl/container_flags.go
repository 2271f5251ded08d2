package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/berth-project/berth/specs"
	"github.com/berth-project/berth/supervisor/api"
)

// containerOptions are the flags `create` and `run` share, as Docker's.
type containerOptions struct {
	name, workdir, user, entrypoint, hostname        string
	interactive, tty, rm, readOnly, privileged, init bool
	userNamespace, noHealthcheck                     bool
	health                                           healthFlags
	env, envFile, labels, volumes, mounts, tmpfs     []string
	capAdd, capDrop, securityOpt, publish, aliases   []string
	memory, cpus, restart, network, stopSignal       string
	userns                                           string
	pidsLimit                                        int64
	stopTimeout                                      int
}

func (o *containerOptions) addFlags(fs *pflag.FlagSet) {
	fs.SetInterspersed(false) // flags after the image belong to the command
	fs.StringVar(&o.name, "name", "", "assign a name to the container")
	fs.BoolVarP(&o.interactive, "interactive", "i", false, "keep STDIN open even if not attached")
	fs.BoolVarP(&o.tty, "tty", "t", false, "allocate a pseudo-TTY")
	fs.BoolVar(&o.rm, "rm", false, "automatically remove the container when it exits")
	fs.StringArrayVarP(&o.env, "env", "e", nil, "set environment variables")
	fs.StringArrayVar(&o.envFile, "env-file", nil, "read in a file of environment variables")
	fs.StringArrayVarP(&o.labels, "label", "l", nil, "set meta data on a container")
	fs.StringVarP(&o.workdir, "workdir", "w", "", "working directory inside the container")
	fs.StringVarP(&o.user, "user", "u", "", "username or UID (format: <name|uid>[:<group|gid>])")
	fs.StringVar(&o.entrypoint, "entrypoint", "", "overwrite the default ENTRYPOINT of the image")
	fs.StringVarP(&o.hostname, "hostname", "h", "", "container host name")
	fs.StringVarP(&o.memory, "memory", "m", "", "memory limit")
	fs.StringVar(&o.cpus, "cpus", "", "number of CPUs")
	fs.Int64Var(&o.pidsLimit, "pids-limit", 0, "tune container pids limit (set -1 for unlimited)")
	fs.BoolVar(&o.readOnly, "read-only", false, "mount the container's root filesystem as read only")
	fs.StringArrayVar(&o.capAdd, "cap-add", nil, "add Linux capabilities")
	fs.StringArrayVar(&o.capDrop, "cap-drop", nil, "drop Linux capabilities")
	fs.StringArrayVar(&o.securityOpt, "security-opt", nil, "security options")
	fs.BoolVar(&o.privileged, "privileged", false, "give extended privileges to this container")
	fs.BoolVar(&o.init, "init", false, "run an init inside the container that forwards signals and reaps processes")
	fs.BoolVar(&o.userNamespace, "user-namespace", false, "run the container in a user namespace of its own: its root is an unprivileged host user")
	fs.StringVar(&o.userns, "userns", "", "user namespace to use: host, or private (as --user-namespace)")
	fs.StringVar(&o.restart, "restart", "no", "restart policy to apply when a container exits")
	fs.StringArrayVarP(&o.volumes, "volume", "v", nil, "bind mount a volume")
	fs.StringArrayVar(&o.mounts, "mount", nil, "attach a filesystem mount to the container")
	fs.StringArrayVar(&o.tmpfs, "tmpfs", nil, "mount a tmpfs directory")
	fs.StringArrayVarP(&o.publish, "publish", "p", nil, "publish a container's port(s) to the host")
	fs.StringVar(&o.network, "network", "", "connect a container to a network (bridge, host, none or a network's name)")
	fs.StringArrayVar(&o.aliases, "network-alias", nil, "add a network-scoped alias for the container")
	fs.StringVar(&o.network, "net", "", "connect a container to a network")
	fs.MarkHidden("net")
	fs.StringVar(&o.health.cmd, "health-cmd", "", "command to run to check health")
	fs.DurationVar(&o.health.interval, "health-interval", 0, "time between running the check (ms|s|m|h) (default 0s)")
	fs.DurationVar(&o.health.timeout, "health-timeout", 0, "maximum time to allow one check to run (ms|s|m|h) (default 0s)")
	fs.DurationVar(&o.health.startPeriod, "health-start-period", 0, "start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)")
	fs.DurationVar(&o.health.startInterval, "health-start-interval", 0, "time between running the check during the start period (ms|s|m|h) (default 0s)")
	fs.IntVar(&o.health.retries, "health-retries", 0, "consecutive failures needed to report unhealthy")
	fs.BoolVar(&o.noHealthcheck, "no-healthcheck", false, "disable any container-specified HEALTHCHECK")
	fs.StringVar(&o.stopSignal, "stop-signal", "", "signal to stop the container")
	fs.IntVar(&o.stopTimeout, "stop-timeout", -1, "timeout (in seconds) to stop a container")
	// -h is --hostname, as in Docker: help keeps only its long form.
	fs.Bool("help", false, "print usage")
}

// config turns the flags into the create request's configuration,
// checking every value that can be checked here; the first error says
// what is wrong with which flag.
func (o *containerOptions) config(fs *pflag.FlagSet, image string, cmd []string) (*api.ContainerConfig, error) {
	h := &api.HostConfig{
		Binds: o.volumes, Mounts: o.mounts, Tmpfs: o.tmpfs, PidsLimit: o.pidsLimit,
		ReadOnly: o.readOnly, CapAdd: o.capAdd, CapDrop: o.capDrop, SecurityOpt: o.securityOpt,
		Privileged: o.privileged, Init: o.init, AutoRemove: o.rm, NetworkMode: o.network, Publish: o.publish,
		NetworkAliases: o.aliases,
	}
	switch o.userns {
	case "", "host":
	case "private":
		o.userNamespace = true
	default:
		return nil, fmt.Errorf("invalid argument %q for \"--userns\" flag: want host or private", o.userns)
	}
	if o.userNamespace {
		if o.userns == "host" {
			return nil, fmt.Errorf("conflicting options: --user-namespace and --userns=host")
		}
		h.UsernsMode = "private"
	}
	cfg := &api.ContainerConfig{
		Image: image, Cmd: cmd, WorkingDir: o.workdir, User: o.user, Hostname: o.hostname,
		Tty: o.tty, OpenStdin: o.interactive, StopSignal: o.stopSignal, StopTimeout: int32(o.stopTimeout), Host: h,
	}
	if fs.Changed("entrypoint") {
		cfg.EntrypointSet = true
		if o.entrypoint != "" {
			cfg.Entrypoint = []string{o.entrypoint}
		} else {
			cfg.Entrypoint = []string{""}
		}
	}
	var err error
	if cfg.Healthcheck, err = o.healthConfig(); err != nil {
		return nil, err
	}
	if o.memory != "" {
		if h.Memory, err = specs.ParseMemory(o.memory); err != nil {
			return nil, fmt.Errorf("invalid argument %q for \"-m, --memory\" flag: %w", o.memory, err)
		}
	}
	if o.cpus != "" {
		cpus, err := specs.ParseCPUs(o.cpus)
		if err != nil {
			return nil, fmt.Errorf("invalid argument %q for \"--cpus\" flag: %w", o.cpus, err)
		}
		h.NanoCpus = int64(cpus * 1e9)
	}
	if h.RestartPolicy, err = parseRestart(o.restart); err != nil {
		return nil, err
	}
	if o.rm && h.RestartPolicy.Name != "no" {
		return nil, fmt.Errorf("conflicting options: cannot specify both --restart and --rm")
	}
	for _, v := range o.volumes {
		if _, err := specs.ParseVolume(v); err != nil {
			return nil, err
		}
	}
	for _, v := range o.mounts {
		if _, err := specs.ParseMount(v); err != nil {
			return nil, err
		}
	}
	for _, v := range o.tmpfs {
		if _, err := specs.ParseTmpfs(v); err != nil {
			return nil, err
		}
	}
	for _, p := range o.publish {
		if err := checkPublish(p); err != nil {
			return nil, err
		}
	}
	for _, so := range o.securityOpt {
		if _, err := specs.ParseSecurityOpt(so); err != nil {
			return nil, err
		}
	}
	for _, f := range o.envFile {
		env, err := readEnvFile(f)
		if err != nil {
			return nil, err
		}
		cfg.Env = append(cfg.Env, env...)
	}
	cfg.Env = append(cfg.Env, expandEnv(o.env)...)
	if len(o.labels) > 0 {
		cfg.Labels = map[string]string{}
		for _, l := range o.labels {
			k, v, _ := strings.Cut(l, "=")
			cfg.Labels[k] = v
		}
	}
	return cfg, nil
}

// expandEnv gives "-e NAME" the client's value of NAME, as Docker does.
func expandEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, e := range env {
		if !strings.Contains(e, "=") {
			if v, ok := os.LookupEnv(e); ok {
				e += "=" + v
			}
		}
		out = append(out, e)
	}
	return out
}

// readEnvFile reads an --env-file: KEY=VALUE lines, "#" comments.
func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, _, _ := strings.Cut(line, "="); strings.ContainsAny(k, " \t") || k == "" {
			return nil, fmt.Errorf("invalid environment variable in %s: %q", path, line)
		}
		lines = append(lines, line)
	}
	return expandEnv(lines), sc.Err()
}

// parseRestart parses --restart: no, always, unless-stopped, on-failure[:N].
func parseRestart(s string) (*api.RestartPolicy, error) {
	name, n, hasN := strings.Cut(s, ":")
	p := &api.RestartPolicy{Name: name}
	switch name {
	case "", "no":
		p.Name = "no"
	case "always", "unless-stopped":
	case "on-failure":
		if hasN {
			v, err := strconv.Atoi(n)
			if err != nil || v < 0 {
				return nil, fmt.Errorf("invalid restart policy %q: maximum retry count must be a non-negative number", s)
			}
			p.MaxRetry = int32(v)
		}
		return p, nil
	default:
		return nil, fmt.Errorf("invalid restart policy %q: want no, always, unless-stopped or on-failure[:max-retries]", s)
	}
	if hasN {
		return nil, fmt.Errorf("invalid restart policy %q: maximum retry count can only be used with 'on-failure'", s)
	}
	return p, nil
}

// checkPublish checks a -p value: [IP:][HOSTPORT:]CONTAINERPORT[/PROTO],
// ports or port ranges, an IPv6 address in brackets.
func checkPublish(p string) error {
	bad := fmt.Errorf("invalid publish value %q: want [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp]", p)
	spec, proto, _ := strings.Cut(p, "/")
	if proto != "" && proto != "tcp" && proto != "udp" && proto != "sctp" {
		return bad
	}
	ip := ""
	if strings.HasPrefix(spec, "[") {
		i := strings.Index(spec, "]:")
		if i < 0 {
			return bad
		}
		ip, spec = spec[1:i], spec[i+2:]
		if net.ParseIP(ip) == nil {
			return bad
		}
	}
	parts := strings.Split(spec, ":")
	var host, ctr string
	switch {
	case len(parts) == 1 && ip == "":
		ctr = parts[0]
	case len(parts) == 2 && ip != "":
		host, ctr = parts[0], parts[1]
	case len(parts) == 2:
		host, ctr = parts[0], parts[1]
		if host == "" {
			return bad
		}
	case len(parts) == 3 && ip == "":
		if parts[0] != "" && net.ParseIP(parts[0]) == nil {
			return bad
		}
		host, ctr = parts[1], parts[2]
	default:
		return bad
	}
	if !portRange(ctr) || host != "" && !portRange(host) {
		return bad
	}
	return nil
}

// portRange accepts a port (1-65535) or a range LOW-HIGH.
func portRange(s string) bool {
	lo, hi, isRange := strings.Cut(s, "-")
	ports := []string{lo}
	if isRange {
		ports = append(ports, hi)
	}
	for _, x := range ports {
		n, err := strconv.Atoi(x)
		if err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	return true
}
