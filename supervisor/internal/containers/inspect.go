package containers

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/bundle"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/network"
)

// inspectJSON is the shape of `docker container inspect`.
type inspectJSON struct {
	ID              string       `json:"Id"`
	Created         string       `json:"Created"`
	Path            string       `json:"Path"`
	Args            []string     `json:"Args"`
	State           inspectState `json:"State"`
	Image           string       `json:"Image"`
	ResolvConfPath  string       `json:"ResolvConfPath"`
	HostnamePath    string       `json:"HostnamePath"`
	HostsPath       string       `json:"HostsPath"`
	LogPath         string       `json:"LogPath"`
	Name            string       `json:"Name"`
	RestartCount    int          `json:"RestartCount"`
	Driver          string       `json:"Driver"`
	Platform        string       `json:"Platform"`
	MountLabel      string       `json:"MountLabel"`
	ProcessLabel    string       `json:"ProcessLabel"`
	AppArmorProfile string       `json:"AppArmorProfile"`
	ExecIDs         []string     `json:"ExecIDs"`
	HostConfig      inspectHost  `json:"HostConfig"`
	GraphDriver     struct {
		Data map[string]string `json:"Data"`
		Name string            `json:"Name"`
	} `json:"GraphDriver"`
	Mounts          []inspectMount  `json:"Mounts"`
	Config          inspectConfig   `json:"Config"`
	NetworkSettings inspectNetworks `json:"NetworkSettings"`
}

// inspectNetworks is NetworkSettings. The top-level address fields are
// the default bridge network's, as in Docker; Networks has them all.
type inspectNetworks struct {
	Bridge      string                    `json:"Bridge"`
	SandboxID   string                    `json:"SandboxID"`
	SandboxKey  string                    `json:"SandboxKey"`
	Ports       map[string][]inspectPort  `json:"Ports"`
	Gateway     string                    `json:"Gateway"`
	IPAddress   string                    `json:"IPAddress"`
	IPPrefixLen int                       `json:"IPPrefixLen"`
	MacAddress  string                    `json:"MacAddress"`
	Networks    map[string]inspectNetwork `json:"Networks"`
}

type inspectPort struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

type inspectNetwork struct {
	Aliases     []string `json:"Aliases"`
	NetworkID   string   `json:"NetworkID"`
	Gateway     string   `json:"Gateway"`
	IPAddress   string   `json:"IPAddress"`
	IPPrefixLen int      `json:"IPPrefixLen"`
	MacAddress  string   `json:"MacAddress"`
	DNSNames    []string `json:"DNSNames"`
}

type inspectState struct {
	Status     string `json:"Status"`
	Running    bool   `json:"Running"`
	Paused     bool   `json:"Paused"`
	Restarting bool   `json:"Restarting"`
	OOMKilled  bool   `json:"OOMKilled"`
	Dead       bool   `json:"Dead"`
	Pid        int    `json:"Pid"`
	ExitCode   int    `json:"ExitCode"`
	Error      string `json:"Error"`
	StartedAt  string `json:"StartedAt"`
	FinishedAt string `json:"FinishedAt"`
	// Health is there when the container has a health check and ran.
	Health *healthState `json:"Health,omitempty"`
}

type inspectHost struct {
	Binds          []string                 `json:"Binds"`
	NetworkMode    string                   `json:"NetworkMode"`
	RestartPolicy  inspectRestart           `json:"RestartPolicy"`
	AutoRemove     bool                     `json:"AutoRemove"`
	CapAdd         []string                 `json:"CapAdd"`
	CapDrop        []string                 `json:"CapDrop"`
	Privileged     bool                     `json:"Privileged"`
	ReadonlyRootfs bool                     `json:"ReadonlyRootfs"`
	SecurityOpt    []string                 `json:"SecurityOpt"`
	Tmpfs          map[string]string        `json:"Tmpfs,omitempty"`
	Init           *bool                    `json:"Init"`
	Memory         int64                    `json:"Memory"`
	NanoCpus       int64                    `json:"NanoCpus"`
	PidsLimit      *int64                   `json:"PidsLimit"`
	PortBindings   map[string][]inspectPort `json:"PortBindings"`
	UsernsMode     string                   `json:"UsernsMode"`
	// IDMappings is berth's own: with a user namespace, how its ids map
	// to the host's (podman shows the same as IDMappings).
	IDMappings *inspectIDMappings `json:"IDMappings,omitempty"`
}

type inspectIDMappings struct {
	UIDMap []string `json:"UidMap"`
	GIDMap []string `json:"GidMap"`
}

type inspectRestart struct {
	Name              string `json:"Name"`
	MaximumRetryCount int    `json:"MaximumRetryCount"`
}

type inspectMount struct {
	Type        string `json:"Type"`
	Name        string `json:"Name,omitempty"`
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	Driver      string `json:"Driver,omitempty"`
	Mode        string `json:"Mode"`
	RW          bool   `json:"RW"`
	Propagation string `json:"Propagation"`
}

type inspectConfig struct {
	Hostname     string            `json:"Hostname"`
	Domainname   string            `json:"Domainname"`
	User         string            `json:"User"`
	AttachStdin  bool              `json:"AttachStdin"`
	AttachStdout bool              `json:"AttachStdout"`
	AttachStderr bool              `json:"AttachStderr"`
	Tty          bool              `json:"Tty"`
	OpenStdin    bool              `json:"OpenStdin"`
	StdinOnce    bool              `json:"StdinOnce"`
	Env          []string          `json:"Env"`
	Cmd          []string          `json:"Cmd"`
	Image        string            `json:"Image"`
	WorkingDir   string            `json:"WorkingDir"`
	Entrypoint   []string          `json:"Entrypoint"`
	Labels       map[string]string `json:"Labels"`
	StopSignal   string            `json:"StopSignal,omitempty"`
	StopTimeout  *int              `json:"StopTimeout,omitempty"`
	Healthcheck  *inspectHealth    `json:"Healthcheck,omitempty"`
}

// inspectHealth is Config.Healthcheck; durations in nanoseconds.
type inspectHealth struct {
	Test          []string `json:"Test"`
	Interval      int64    `json:"Interval,omitempty"`
	Timeout       int64    `json:"Timeout,omitempty"`
	StartPeriod   int64    `json:"StartPeriod,omitempty"`
	StartInterval int64    `json:"StartInterval,omitempty"`
	Retries       int      `json:"Retries,omitempty"`
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Inspect returns Docker-shaped JSON for each name.
func (s *Service) Inspect(ctx context.Context, req *api.InspectContainersRequest) (*api.InspectContainersResponse, error) {
	resp := &api.InspectContainersResponse{}
	for _, name := range req.GetNames() {
		c, err := s.get(name)
		if err != nil {
			return nil, err
		}
		b, err := json.MarshalIndent(s.inspect(c), "", "    ")
		if err != nil {
			return nil, err
		}
		resp.Json = append(resp.Json, b)
	}
	return resp, nil
}

func (s *Service) inspect(c *container) *inspectJSON {
	r := c.record()
	cfg, h := c.cfg, c.cfg.Host
	st := r.State
	out := &inspectJSON{
		ID: r.ID, Created: timeString(r.Created), Path: r.Path, Args: r.Args,
		State: inspectState{
			Status: st.Status, Running: st.Status == "running" || st.Status == "paused" || st.Status == "restarting",
			Paused: st.Status == "paused", Restarting: st.Status == "restarting", OOMKilled: st.OOMKilled,
			Dead: st.Status == "dead", Pid: st.Pid, ExitCode: st.ExitCode, Error: st.Error,
			StartedAt: timeString(st.StartedAt), FinishedAt: timeString(st.FinishedAt),
			Health: c.healthSnapshot(),
		},
		Image: r.ImageID, ResolvConfPath: c.paths.ResolvConf(), HostnamePath: c.paths.Hostname(),
		HostsPath: c.paths.Hosts(), LogPath: c.paths.Log(), Name: "/" + r.Name,
		RestartCount: st.RestartCount, Driver: "overlay2", Platform: "linux", ExecIDs: nil,
		HostConfig: inspectHost{
			Binds: h.Binds, NetworkMode: h.NetworkMode, AutoRemove: h.AutoRemove,
			CapAdd: h.CapAdd, CapDrop: h.CapDrop, Privileged: h.Privileged, ReadonlyRootfs: h.ReadOnly,
			SecurityOpt: h.SecurityOpt, Memory: h.Memory, NanoCpus: h.NanoCpus, UsernsMode: h.UsernsMode,
		},
		Config: inspectConfig{
			Hostname: cfg.Hostname, User: cfg.User, AttachStdin: cfg.AttachStdin, AttachStdout: cfg.AttachStdout,
			AttachStderr: cfg.AttachStderr, Tty: cfg.Tty, OpenStdin: cfg.OpenStdin, StdinOnce: cfg.StdinOnce,
			Env: cfg.Env, Cmd: cfg.Cmd, Image: r.Image, WorkingDir: cfg.WorkingDir, Labels: cfg.Labels,
			StopSignal: cfg.StopSignal,
		},
		Mounts: []inspectMount{},
	}
	if out.HostConfig.NetworkMode == "" {
		out.HostConfig.NetworkMode = "none" // recorded before networks existed
	}
	out.HostConfig.PortBindings = portBindings(h.Publish)
	if root := usernsRoot(h); root >= 0 {
		m := []string{fmt.Sprintf("0:%d:%d", root, bundle.IDMapSize)}
		out.HostConfig.IDMappings = &inspectIDMappings{UIDMap: m, GIDMap: m}
	}
	if cfg.EntrypointSet {
		out.Config.Entrypoint = cfg.Entrypoint
	}
	if cfg.StopTimeout >= 0 {
		t := int(cfg.StopTimeout)
		out.Config.StopTimeout = &t
	}
	if h := cfg.GetHealthcheck(); h != nil {
		out.Config.Healthcheck = &inspectHealth{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: int(h.Retries)}
	}
	if h.Init {
		out.HostConfig.Init = &h.Init
	}
	if h.PidsLimit != 0 {
		out.HostConfig.PidsLimit = &h.PidsLimit
	}
	pol, _ := parseRestartPolicy(h.RestartPolicy)
	out.HostConfig.RestartPolicy = inspectRestart{Name: pol.name, MaximumRetryCount: pol.maxRetry}
	if len(h.Tmpfs) > 0 {
		out.HostConfig.Tmpfs = map[string]string{}
	}
	if mps, err := parseMounts(h); err == nil {
		for _, mp := range mps {
			m := inspectMount{Type: string(mp.Type), Source: mp.Source, Destination: mp.Destination, RW: !mp.ReadOnly, Propagation: mp.Propagation}
			if mp.ReadOnly {
				m.Mode = "ro"
			}
			if mp.Type == "tmpfs" {
				out.HostConfig.Tmpfs[mp.Destination] = joinOpts(mp.TmpfsOptions)
				continue
			}
			if mp.Type == "bind" && m.Propagation == "" {
				m.Propagation = "rprivate"
			}
			if mp.Type == "volume" {
				m.Name = mp.Source
				if m.Name == "" {
					m.Name = r.Volumes[mp.Destination] // anonymous, once started
				}
				m.Source, m.Driver = s.volumePath(m.Name), "local"
			}
			out.Mounts = append(out.Mounts, m)
		}
	}
	// The anonymous volumes of the image's VOLUMEs.
	for _, dst := range slices.Sorted(maps.Keys(r.Volumes)) {
		if !slices.ContainsFunc(out.Mounts, func(m inspectMount) bool { return m.Destination == dst }) {
			name := r.Volumes[dst]
			out.Mounts = append(out.Mounts, inspectMount{Type: "volume", Name: name, Source: s.volumePath(name), Destination: dst, Driver: "local", RW: true})
		}
	}
	// As Docker's Config.Env: the image's variables and the user's over
	// them, whether or not the container ran (not the HOSTNAME and HOME
	// added for its process).
	if img, err := s.images.ByID(r.ImageID); err == nil {
		out.Config.Env = mergeEnv(img.Config.Env, cfg.Env)
	}
	if sp, err := c.paths.ReadSpec(); err == nil {
		if out.Config.Hostname == "" {
			out.Config.Hostname = sp.Hostname
		}
	}
	if out.Config.Hostname == "" {
		out.Config.Hostname = shortID(r.ID)
	}
	lowers, _ := s.images.Lowers(r.ChainID)
	out.GraphDriver.Name = "overlay2"
	out.GraphDriver.Data = map[string]string{
		"LowerDir":  joinPaths(append([]string{c.paths.InitLayer()}, lowers...)),
		"UpperDir":  c.paths.Upper(),
		"WorkDir":   c.paths.Work(),
		"MergedDir": c.paths.Rootfs(),
	}
	out.NetworkSettings = s.networkSettings(c, r)
	return out
}

// volumePath is where the volume package keeps a volume's data.
func (s *Service) volumePath(name string) string {
	if name == "" {
		return ""
	}
	return filepath.Join(s.opts.Root, "volumes", name, "_data")
}

// networkSettings is NetworkSettings: the attachment of a running
// container; for a stopped one, the network it asked for, unaddressed.
func (s *Service) networkSettings(c *container, r metadata.Container) inspectNetworks {
	out := inspectNetworks{Ports: map[string][]inspectPort{}, Networks: map[string]inspectNetwork{}}
	var att *NetworkAttachment
	if st := r.State.Status; st == "running" || st == "paused" {
		var err error
		if att, err = s.net.Get(context.Background(), c.id); err != nil {
			s.log.Warn("inspect: network", "id", c.id, "err", err)
		}
	}
	if att == nil {
		if mode := c.cfg.Host.NetworkMode; mode != "" {
			out.Networks[mode] = inspectNetwork{Aliases: c.cfg.Host.NetworkAliases}
		}
		return out
	}
	out.SandboxID, out.SandboxKey = c.id, att.NetNS
	if att.Mode != "bridge" {
		out.Networks[att.Mode] = inspectNetwork{}
	}
	for _, in := range att.Interfaces {
		n := inspectNetwork{
			Aliases: in.Aliases, NetworkID: in.NetworkID, Gateway: in.Gateway, IPAddress: in.IP,
			IPPrefixLen: in.PrefixLen, MacAddress: in.MAC,
		}
		if in.Network != "bridge" {
			n.DNSNames = append([]string{r.Name, shortID(c.id)}, in.Aliases...)
		} else {
			out.Gateway, out.IPAddress, out.IPPrefixLen, out.MacAddress = in.Gateway, in.IP, in.PrefixLen, in.MAC
		}
		out.Networks[in.Network] = n
	}
	for _, p := range att.Ports {
		key := fmt.Sprintf("%d/%s", p.ContainerPort, p.Proto)
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		out.Ports[key] = append(out.Ports[key], inspectPort{HostIP: ip, HostPort: fmt.Sprint(p.HostPort)})
	}
	return out
}

func joinOpts(o []string) string  { return strings.Join(o, ",") }
func joinPaths(p []string) string { return strings.Join(p, ":") }

// portBindings is HostConfig.PortBindings: the -p values as asked for,
// by "PORT/PROTO" (a random host port is ""); NetworkSettings.Ports has
// the ports actually taken.
func portBindings(publish []string) map[string][]inspectPort {
	out := map[string][]inspectPort{}
	ms, err := network.ParsePorts(publish)
	if err != nil {
		return out // validated at create; nothing sensible to show
	}
	for _, m := range ms {
		b := inspectPort{}
		if m.HostIP.IsValid() {
			b.HostIP = m.HostIP.String()
		}
		if m.HostPort != 0 {
			b.HostPort = strconv.Itoa(int(m.HostPort))
		}
		key := fmt.Sprintf("%d/%s", m.ContainerPort, m.Proto)
		out[key] = append(out[key], b)
	}
	return out
}
