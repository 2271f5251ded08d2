package specs

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestWithImageConfig(t *testing.T) {
	fakeHost(t, testHost{})
	root := testRootfs(t)
	tests := []struct {
		name    string
		cfg     ImageConfig
		opts    []Opt // applied after WithImageConfig
		args    []string
		env     []string
		cwd     string
		user    specs.User
		info    ImageInfo
		invalid string
	}{
		{
			name: "busybox",
			cfg:  ImageConfig{Cmd: []string{"sh"}},
			args: []string{"sh"},
			env:  []string{"PATH=" + DefaultPath, "HOSTNAME=berth", "HOME=/root"},
			cwd:  "/",
			user: specs.User{AdditionalGids: []uint32{0, 10}},
			info: ImageInfo{Cmd: []string{"sh"}},
		},
		{
			name: "everything",
			cfg: ImageConfig{
				User:         "app",
				Env:          []string{"PATH=/app/bin:/usr/bin", "LANG=C.UTF-8"},
				Entrypoint:   []string{"/entry.sh"},
				Cmd:          []string{"serve", "--port", "80"},
				WorkingDir:   "/srv/app",
				ExposedPorts: map[string]struct{}{"80/tcp": {}, "53/udp": {}, "8080": {}},
				Volumes:      map[string]struct{}{"/var/lib/data": {}, "/cache": {}},
				StopSignal:   "SIGQUIT",
			},
			args: []string{"/entry.sh", "serve", "--port", "80"},
			env:  []string{"PATH=/app/bin:/usr/bin", "HOSTNAME=berth", "LANG=C.UTF-8", "HOME=/home/app"},
			cwd:  "/srv/app",
			user: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 100, 29, 44}},
			info: ImageInfo{
				StopSignal:   "SIGQUIT",
				ExposedPorts: []string{"53/udp", "80/tcp", "8080/tcp"},
				Volumes:      []string{"/cache", "/var/lib/data"},
				Entrypoint:   []string{"/entry.sh"},
				Cmd:          []string{"serve", "--port", "80"},
			},
		},
		{
			name: "image sets HOME",
			cfg:  ImageConfig{Cmd: []string{"sh"}, Env: []string{"HOME=/data"}, User: "app"},
			args: []string{"sh"},
			env:  []string{"PATH=" + DefaultPath, "HOSTNAME=berth", "HOME=/data"},
			cwd:  "/",
			user: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 100, 29, 44}},
			info: ImageInfo{Cmd: []string{"sh"}},
		},
		{
			name: "relative workdir",
			cfg:  ImageConfig{Entrypoint: []string{"top"}, WorkingDir: "work/../app"},
			args: []string{"top"},
			env:  []string{"PATH=" + DefaultPath, "HOSTNAME=berth", "HOME=/root"},
			cwd:  "/app",
			user: specs.User{AdditionalGids: []uint32{0, 10}},
			info: ImageInfo{Entrypoint: []string{"top"}},
		},
		{
			name:    "unknown user",
			cfg:     ImageConfig{Cmd: []string{"sh"}, User: "ghost"},
			invalid: `user "ghost": no such user`,
		},
		// Run options after the image, as docker run applies its flags.
		{
			name: "-e wins over the image, -e K unsets",
			cfg:  ImageConfig{Cmd: []string{"sh"}, Env: []string{"A=image", "B=image", "C=image"}},
			opts: []Opt{WithEnv("B=user", "C", "D=user", "E=x=y")},
			args: []string{"sh"},
			env:  []string{"PATH=" + DefaultPath, "HOSTNAME=berth", "A=image", "B=user", "HOME=/root", "D=user", "E=x=y"},
			cwd:  "/",
			user: specs.User{AdditionalGids: []uint32{0, 10}},
			info: ImageInfo{Cmd: []string{"sh"}},
		},
		{
			name: "-u replaces the image's user and HOME follows",
			cfg:  ImageConfig{Cmd: []string{"sh"}, User: "app"},
			opts: []Opt{WithUser(root, "daemon")},
			args: []string{"sh"},
			env:  []string{"PATH=" + DefaultPath, "HOSTNAME=berth", "HOME=/usr/sbin"},
			cwd:  "/",
			user: specs.User{UID: 1, GID: 1, AdditionalGids: []uint32{1}},
			info: ImageInfo{Cmd: []string{"sh"}},
		},
		{
			name: "-u keeps a HOME set by -e",
			cfg:  ImageConfig{Cmd: []string{"sh"}},
			opts: []Opt{WithEnv("HOME=/mine"), WithUser(root, "app")},
			args: []string{"sh"},
			env:  []string{"PATH=" + DefaultPath, "HOSTNAME=berth", "HOME=/mine"},
			cwd:  "/",
			user: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 100, 29, 44}},
			info: ImageInfo{Cmd: []string{"sh"}},
		},
		{
			name: "-w",
			cfg:  ImageConfig{Cmd: []string{"sh"}, WorkingDir: "/srv"},
			opts: []Opt{WithWorkdir("/tmp/")},
			args: []string{"sh"},
			env:  []string{"PATH=" + DefaultPath, "HOSTNAME=berth", "HOME=/root"},
			cwd:  "/tmp",
			user: specs.User{AdditionalGids: []uint32{0, 10}},
			info: ImageInfo{Cmd: []string{"sh"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DockerDefault()
			err := WithImageConfig(root, tt.cfg)(s)
			if tt.invalid != "" {
				wantInvalid(t, "WithImageConfig", err, tt.invalid)
				return
			}
			if err != nil {
				t.Fatalf("WithImageConfig: %v", err)
			}
			apply(t, s, tt.opts...)
			p := s.Process
			for _, c := range []struct {
				what      string
				got, want any
			}{
				{"args", p.Args, tt.args},
				{"env", p.Env, tt.env},
				{"cwd", p.Cwd, tt.cwd},
				{"user", p.User, tt.user},
				{"image info", ImageInfoOf(s), tt.info},
			} {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
				}
			}
		})
	}
}

// TestEntrypointAndCmd follows Docker's rules for --entrypoint and the
// command arguments over an image's ENTRYPOINT and CMD.
func TestEntrypointAndCmd(t *testing.T) {
	fakeHost(t, testHost{})
	root := t.TempDir()
	tests := []struct {
		name       string
		entrypoint []string
		cmd        []string
		opts       []Opt
		want       []string
	}{
		{"image cmd", nil, []string{"sh"}, nil, []string{"sh"}},
		{"image entrypoint and cmd", []string{"/init"}, []string{"--serve"}, nil, []string{"/init", "--serve"}},
		{"args replace cmd", []string{"/init"}, []string{"--serve"}, []Opt{WithCmd("--help")}, []string{"/init", "--help"}},
		{"args without entrypoint", nil, []string{"sh"}, []Opt{WithCmd("echo", "hi")}, []string{"echo", "hi"}},
		{"no args keep cmd", []string{"/init"}, []string{"--serve"}, []Opt{WithCmd()}, []string{"/init", "--serve"}},
		{"--entrypoint drops the image cmd", []string{"/init"}, []string{"--serve"}, []Opt{WithEntrypoint("/bin/sh")}, []string{"/bin/sh"}},
		{"--entrypoint with args", []string{"/init"}, []string{"--serve"}, []Opt{WithEntrypoint("/bin/sh"), WithCmd("-c", "date")}, []string{"/bin/sh", "-c", "date"}},
		{"--entrypoint on an image without one", nil, []string{"sh"}, []Opt{WithEntrypoint("env")}, []string{"env"}},
		{`--entrypoint "" keeps the image cmd`, []string{"/init"}, []string{"nginx", "-g", "daemon off;"}, []Opt{WithEntrypoint("")}, []string{"nginx", "-g", "daemon off;"}},
		{`--entrypoint "" with args`, []string{"/init"}, []string{"--serve"}, []Opt{WithEntrypoint(), WithCmd("ls")}, []string{"ls"}},
		{"cmd then entrypoint: entrypoint drops it", nil, []string{"sh"}, []Opt{WithCmd("a"), WithEntrypoint("b")}, []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ImageConfig{Entrypoint: tt.entrypoint, Cmd: tt.cmd}
			s := apply(t, DockerDefault(), append([]Opt{WithImageConfig(root, cfg)}, tt.opts...)...)
			if !reflect.DeepEqual(s.Process.Args, tt.want) {
				t.Errorf("args = %q, want %q", s.Process.Args, tt.want)
			}
			info := ImageInfoOf(s)
			if got := append(info.Entrypoint, info.Cmd...); !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("recorded entrypoint %q + cmd %q, want %q", info.Entrypoint, info.Cmd, tt.want)
			}
		})
	}
}

func TestImageConfigWithoutCommand(t *testing.T) {
	fakeHost(t, testHost{})
	root := t.TempDir()
	if _, err := NewDocker(WithImageConfig(root, ImageConfig{})); err != ErrNoCommand {
		t.Errorf("NewDocker(image without a command) error = %v, want %v", err, ErrNoCommand)
	}
	s, err := NewDocker(WithImageConfig(root, ImageConfig{}), WithCmd("true"))
	if err != nil || !reflect.DeepEqual(s.Process.Args, []string{"true"}) {
		t.Errorf("NewDocker(image without a command, WithCmd) = %v, %v", s.Process.Args, err)
	}
}

// TestImageConfigReplacesAnnotations applies two image configs: nothing of
// the first one's ports, volumes or stop signal may survive.
func TestImageConfigReplacesAnnotations(t *testing.T) {
	fakeHost(t, testHost{})
	root := t.TempDir()
	first := ImageConfig{Cmd: []string{"a"}, StopSignal: "SIGINT",
		ExposedPorts: map[string]struct{}{"80/tcp": {}}, Volumes: map[string]struct{}{"/v": {}}}
	s := apply(t, DockerDefault(), WithImageConfig(root, first), WithImageConfig(root, ImageConfig{Cmd: []string{"b"}}))
	if got := ImageInfoOf(s); !reflect.DeepEqual(got, ImageInfo{Cmd: []string{"b"}}) {
		t.Errorf("image info after a second image = %+v", got)
	}
	if len(s.Annotations) != 1 {
		t.Errorf("annotations = %v, want only %s", s.Annotations, AnnotationCmd)
	}
}

func TestMergeEnv(t *testing.T) {
	tests := []struct {
		env, over, want []string
	}{
		{nil, nil, nil},
		{[]string{"A=1"}, []string{"A=2"}, []string{"A=2"}},
		{[]string{"A=1", "B=2"}, []string{"C=3", "A="}, []string{"A=", "B=2", "C=3"}},
		{[]string{"A=1", "B=2"}, []string{"A"}, []string{"B=2"}},
		{[]string{"A=1"}, []string{"Z"}, []string{"A=1"}},
		{[]string{"AB=1"}, []string{"A=2"}, []string{"AB=1", "A=2"}},
	}
	for _, tt := range tests {
		if got := mergeEnv(tt.env, tt.over); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("mergeEnv(%q, %q) = %q, want %q", tt.env, tt.over, got, tt.want)
		}
	}
}
