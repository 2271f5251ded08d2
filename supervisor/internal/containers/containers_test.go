package containers

import (
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/dockerfile"
	"github.com/berth-project/berth/supervisor/internal/metadata"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"web", "web", true},
		{"/web", "web", true},
		{"a.b_c-d", "a.b_c-d", true},
		{"w", "", false}, // Docker wants two characters at least
		{"-web", "", false},
		{"we b", "", false},
		{"web/x", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := checkName(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("checkName(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("checkName(%q): error %v is not invalid argument", tt.in, err)
		}
	}
}

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want syscall.Signal
		ok   bool
	}{
		{"KILL", syscall.SIGKILL, true},
		{"SIGTERM", syscall.SIGTERM, true},
		{"hup", syscall.SIGHUP, true},
		{"9", syscall.SIGKILL, true},
		{"0", 0, false},
		{"65", 0, false},
		{"NOPE", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSignal(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseRestartPolicy(t *testing.T) {
	tests := []struct {
		in   *api.RestartPolicy
		want restartPolicy
		ok   bool
	}{
		{nil, restartPolicy{name: "no"}, true},
		{&api.RestartPolicy{Name: "always"}, restartPolicy{name: "always"}, true},
		{&api.RestartPolicy{Name: "on-failure", MaxRetry: 3}, restartPolicy{name: "on-failure", maxRetry: 3}, true},
		{&api.RestartPolicy{Name: "always", MaxRetry: 3}, restartPolicy{}, false},
		{&api.RestartPolicy{Name: "sometimes"}, restartPolicy{}, false},
	}
	for _, tt := range tests {
		got, err := parseRestartPolicy(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseRestartPolicy(%v) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestCommand(t *testing.T) {
	ep, cmd := []string{"/entry"}, []string{"/bin/sh"}
	tests := []struct {
		name string
		cfg  *api.ContainerConfig
		want []string
	}{
		{"image's", &api.ContainerConfig{}, []string{"/entry", "/bin/sh"}},
		{"cmd", &api.ContainerConfig{Cmd: []string{"echo", "hi"}}, []string{"/entry", "echo", "hi"}},
		{"entrypoint drops cmd", &api.ContainerConfig{EntrypointSet: true, Entrypoint: []string{"ls"}}, []string{"ls"}},
		{"entrypoint and cmd", &api.ContainerConfig{EntrypointSet: true, Entrypoint: []string{"ls"}, Cmd: []string{"-l"}}, []string{"ls", "-l"}},
		{"empty entrypoint keeps cmd", &api.ContainerConfig{EntrypointSet: true, Entrypoint: []string{""}}, []string{"/bin/sh"}},
	}
	for _, tt := range tests {
		if got := command(tt.cfg, ep, cmd); !slices.Equal(got, tt.want) {
			t.Errorf("%s: command = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestStatusText(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		st   metadata.ContainerState
		want string
	}{
		{metadata.ContainerState{Status: "created"}, "Created"},
		{metadata.ContainerState{Status: "running", StartedAt: now.Add(-3 * time.Second)}, "Up 3 seconds"},
		{metadata.ContainerState{Status: "paused", StartedAt: now.Add(-2 * time.Hour)}, "Up 2 hours (Paused)"},
		{metadata.ContainerState{Status: "exited", ExitCode: 3, FinishedAt: now.Add(-90 * time.Second)}, "Exited (3) About a minute ago"},
		{metadata.ContainerState{Status: "restarting", ExitCode: 1, FinishedAt: now}, "Restarting (1) Less than a second ago"},
	}
	for _, tt := range tests {
		if got := statusText(tt.st, now); got != tt.want {
			t.Errorf("statusText(%+v) = %q, want %q", tt.st, got, tt.want)
		}
	}
}

func TestParseChanges(t *testing.T) {
	if _, err := parseChanges([]string{"RUN echo"}); err == nil {
		t.Error("parseChanges accepted RUN")
	}
	chs, err := parseChanges([]string{`CMD ["a","b"]`, "ENV K=V", "WORKDIR /w", "EXPOSE 80", `LABEL x="y z"`, "ENTRYPOINT run me"})
	if err != nil || len(chs) != 6 {
		t.Fatalf("parseChanges: %v", err)
	}
	var c v1.Config
	for _, ch := range chs {
		if err := dockerfile.ApplyConfig(ch, &c, nil); err != nil {
			t.Fatalf("apply %s: %v", ch.Cmd, err)
		}
	}
	// ENTRYPOINT after CMD clears the command, as in a Dockerfile.
	if !slices.Equal(c.Entrypoint, []string{"/bin/sh", "-c", "run me"}) || c.Cmd != nil || !slices.Equal(c.Env, []string{"K=V"}) ||
		c.WorkingDir != "/w" || c.Labels["x"] != "y z" {
		t.Errorf("config after the changes: %+v", c)
	}
	if _, ok := c.ExposedPorts["80/tcp"]; !ok {
		t.Errorf("EXPOSE 80 gave %v", c.ExposedPorts)
	}
}

func TestLocalHosts(t *testing.T) {
	got := string(LocalHosts("h", "10.0.0.2"))
	if want := "10.0.0.2\th\n"; got[len(got)-len(want):] != want {
		t.Errorf("LocalHosts ends %q, want %q", got, want)
	}
}

func TestDefaultNetworkValidate(t *testing.T) {
	n := &DefaultNetwork{NetNSDir: t.TempDir()}
	tests := []struct {
		req  NetworkRequest
		want string
		err  error
	}{
		{NetworkRequest{}, "none", nil},
		{NetworkRequest{Mode: "bridge"}, "none", nil},
		{NetworkRequest{Mode: "host", Publish: []string{"80"}}, "host", nil},
		{NetworkRequest{Mode: "appnet"}, "", ErrNotFound},
		{NetworkRequest{Publish: []string{"8080:80"}}, "", ErrInvalidArgument},
		{NetworkRequest{Aliases: []string{"db"}}, "", ErrInvalidArgument},
	}
	for _, tt := range tests {
		got, err := n.Validate(tt.req)
		if got != tt.want || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("Validate(%+v) = %q, %v; want %q, %v", tt.req, got, err, tt.want, tt.err)
		}
	}
}

func TestPortBindingString(t *testing.T) {
	tests := []struct {
		p    PortBinding
		want string
	}{
		{PortBinding{Proto: "tcp", HostPort: 8080, ContainerPort: 80}, "0.0.0.0:8080->80/tcp"},
		{PortBinding{Proto: "udp", HostIP: "127.0.0.1", HostPort: 5353, ContainerPort: 53}, "127.0.0.1:5353->53/udp"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}
