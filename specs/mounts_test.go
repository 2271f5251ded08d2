package specs

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseVolume(t *testing.T) {
	tests := []struct {
		in      string
		want    MountPoint
		invalid string
	}{
		{"/data", MountPoint{Type: MountVolume, Destination: "/data"}, ""},
		{"cache:/var/cache", MountPoint{Type: MountVolume, Source: "cache", Destination: "/var/cache"}, ""},
		{"cache:/var/cache:ro,nocopy", MountPoint{Type: MountVolume, Source: "cache", Destination: "/var/cache", ReadOnly: true, NoCopy: true}, ""},
		{"/srv/www:/usr/share/nginx/html", MountPoint{Type: MountBind, Source: "/srv/www", Destination: "/usr/share/nginx/html", CreateSource: true}, ""},
		{"/srv:/srv:ro", MountPoint{Type: MountBind, Source: "/srv", Destination: "/srv", ReadOnly: true, CreateSource: true}, ""},
		{"/srv:/srv:rw,rshared", MountPoint{Type: MountBind, Source: "/srv", Destination: "/srv", Propagation: "rshared", CreateSource: true}, ""},
		{"/srv:/srv:z,cached", MountPoint{Type: MountBind, Source: "/srv", Destination: "/srv", CreateSource: true}, ""},
		{"a.b_c-1:/x", MountPoint{Type: MountVolume, Source: "a.b_c-1", Destination: "/x"}, ""},
		{"", MountPoint{}, `volume "": no destination`},
		{"data", MountPoint{}, `volume "data": destination "data" is not an absolute path`},
		{"/", MountPoint{}, "destination cannot be /"},
		{"/srv:/", MountPoint{}, "destination cannot be /"},
		{"/srv:rel", MountPoint{}, `destination "rel" is not an absolute path`},
		{":/x", MountPoint{}, `source "" is neither an absolute path nor a volume name`},
		{"./data:/x", MountPoint{}, `source "./data" is neither`},
		{"a:/x", MountPoint{}, `source "a" is neither`}, // volume names have 2 characters or more
		{"/a:/b:/c:/d", MountPoint{}, "want [SOURCE:]DESTINATION[:MODE]"},
		{"/srv:/srv:ro,rw", MountPoint{}, "more than one of ro and rw"},
		{"/srv:/srv:z,Z", MountPoint{}, "more than one of z and Z"},
		{"/srv:/srv:shared,slave", MountPoint{}, "more than one propagation mode"},
		{"/srv:/srv:nocopy", MountPoint{}, `unknown mode "nocopy" for a bind mount`},
		{"vol:/srv:rshared", MountPoint{}, `unknown mode "rshared" for a volume mount`},
		{"/srv:/srv:fast", MountPoint{}, `unknown mode "fast"`},
		{"/srv:/srv:", MountPoint{}, `unknown mode ""`},
	}
	for _, tt := range tests {
		got, err := ParseVolume(tt.in)
		if tt.invalid != "" {
			wantInvalid(t, "ParseVolume("+tt.in+")", err, tt.invalid)
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseVolume(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseMount(t *testing.T) {
	tests := []struct {
		in      string
		want    MountPoint
		invalid string
	}{
		{"type=bind,src=/srv,dst=/data,ro", MountPoint{Type: MountBind, Source: "/srv", Destination: "/data", ReadOnly: true}, ""},
		{"type=bind,source=/srv,target=/data,readonly=false,bind-propagation=rslave,bind-nonrecursive",
			MountPoint{Type: MountBind, Source: "/srv", Destination: "/data", Propagation: "rslave", NonRecursive: true}, ""},
		{"src=vol,destination=/data", MountPoint{Type: MountVolume, Source: "vol", Destination: "/data"}, ""},
		{"type=volume,target=/data,volume-nocopy,volume-driver=local", MountPoint{Type: MountVolume, Destination: "/data", NoCopy: true}, ""},
		{"type=tmpfs,dst=/run,tmpfs-size=64m,tmpfs-mode=1770", MountPoint{Type: MountTmpfs, Destination: "/run", TmpfsOptions: []string{"size=67108864", "mode=1770"}}, ""},
		{"TYPE=Bind,Src=/srv,Dst=/x,ro=1,consistency=cached", MountPoint{Type: MountBind, Source: "/srv", Destination: "/x", ReadOnly: true}, ""},
		{`type=bind,"src=/a,b",dst=/x`, MountPoint{Type: MountBind, Source: "/a,b", Destination: "/x"}, ""},
		{"type=nfs,dst=/x", MountPoint{}, `type "nfs": want bind, volume or tmpfs`},
		{"type=bind,dst=/x", MountPoint{}, "a bind mount needs an absolute source path"},
		{"type=bind,src=rel,dst=/x", MountPoint{}, "a bind mount needs an absolute source path"},
		{"type=tmpfs,src=x,dst=/x", MountPoint{}, "a tmpfs mount takes no source"},
		{"type=volume,src=../x,dst=/x", MountPoint{}, `volume name "../x"`},
		{"type=bind,src=/a", MountPoint{}, "no destination"},
		{"type=bind,src=/a,dst=/", MountPoint{}, "destination cannot be /"},
		{"type=bind,src=/a,dst=/x,colour=red", MountPoint{}, `unknown field "colour"`},
		{"type=bind,src=/a,dst=/x,ro=maybe", MountPoint{}, `ro="maybe": want true or false`},
		{"type=bind,src=/a,dst=/x,bind-propagation=weird", MountPoint{}, `bind-propagation "weird"`},
		{"type=bind,src=/a,dst=/x,volume-nocopy", MountPoint{}, "volume options on a bind mount"},
		{"type=volume,dst=/x,bind-propagation=shared", MountPoint{}, "bind options on a volume mount"},
		{"type=bind,src=/a,dst=/x,tmpfs-size=1m", MountPoint{}, "tmpfs options on a bind mount"},
		{"type=volume,dst=/x,volume-driver=nfs", MountPoint{}, `volume-driver "nfs"`},
		{"type=tmpfs,dst=/x,tmpfs-size=big", MountPoint{}, `tmpfs-size "big"`},
		{"type=tmpfs,dst=/x,tmpfs-mode=999", MountPoint{}, `tmpfs-mode "999"`},
		{"type=bind,src", MountPoint{}, `field "src": want KEY=VALUE`},
		{`type=bind,"src=/a`, MountPoint{}, `mount "type=bind,\"src=/a"`},
	}
	for _, tt := range tests {
		got, err := ParseMount(tt.in)
		if tt.invalid != "" {
			wantInvalid(t, "ParseMount("+tt.in+")", err, tt.invalid)
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseMount(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseTmpfs(t *testing.T) {
	tests := []struct {
		in      string
		want    MountPoint
		invalid string
	}{
		{"/run", MountPoint{Type: MountTmpfs, Destination: "/run"}, ""},
		{"/run:rw,size=64m,exec,mode=1777", MountPoint{Type: MountTmpfs, Destination: "/run", TmpfsOptions: []string{"rw", "size=64m", "exec", "mode=1777"}}, ""},
		{"run", MountPoint{}, `tmpfs "run": destination "run" is not an absolute path`},
		{"/run:turbo", MountPoint{}, `unknown tmpfs option "turbo"`},
		{"/run:size=50%", MountPoint{Type: MountTmpfs, Destination: "/run", TmpfsOptions: []string{"size=50%"}}, ""},
		{"/run:size=lots", MountPoint{}, `size "lots"`},
		{"/run:size=%", MountPoint{}, `size "%"`},
		{"/run:colour=red", MountPoint{}, `unknown tmpfs option "colour=red"`},
	}
	for _, tt := range tests {
		got, err := ParseTmpfs(tt.in)
		if tt.invalid != "" {
			wantInvalid(t, "ParseTmpfs("+tt.in+")", err, tt.invalid)
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseTmpfs(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestMountPointSpec(t *testing.T) {
	tests := []struct {
		name    string
		in      MountPoint
		want    specs.Mount
		invalid string
	}{
		{"bind", MountPoint{Type: MountBind, Source: "/srv/", Destination: "/data/"},
			specs.Mount{Destination: "/data", Type: "bind", Source: "/srv", Options: []string{"rbind", "rprivate"}}, ""},
		{"bind ro non-recursive shared", MountPoint{Type: MountBind, Source: "/srv", Destination: "/data", ReadOnly: true, NonRecursive: true, Propagation: "shared"},
			specs.Mount{Destination: "/data", Type: "bind", Source: "/srv", Options: []string{"bind", "ro", "shared"}}, ""},
		{"resolved volume", MountPoint{Type: MountVolume, Source: "/var/lib/berth/volumes/v/_data", Destination: "/data", ReadOnly: true},
			specs.Mount{Destination: "/data", Type: "bind", Source: "/var/lib/berth/volumes/v/_data", Options: []string{"rbind", "ro"}}, ""},
		{"tmpfs", MountPoint{Type: MountTmpfs, Destination: "/run"},
			specs.Mount{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"noexec", "nosuid", "nodev", "rprivate"}}, ""},
		{"tmpfs with options", MountPoint{Type: MountTmpfs, Destination: "/run", ReadOnly: true, TmpfsOptions: []string{"exec", "size=1g", "mode=1777", "size=64m", "shared"}},
			specs.Mount{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"exec", "nosuid", "nodev", "shared", "size=67108864", "mode=1777", "ro"}}, ""},
		{"unresolved volume", MountPoint{Type: MountVolume, Source: "data", Destination: "/data"}, specs.Mount{}, `volume mount source "data"`},
		{"anonymous volume", MountPoint{Type: MountVolume, Destination: "/data"}, specs.Mount{}, `volume mount source ""`},
		{"no type", MountPoint{Destination: "/data"}, specs.Mount{}, `mount type ""`},
	}
	for _, tt := range tests {
		got, err := tt.in.Spec()
		if tt.invalid != "" {
			wantInvalid(t, tt.name, err, tt.invalid)
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Spec() = %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestWithMounts(t *testing.T) {
	fakeHost(t, testHost{})
	bind := func(dst string, opts ...string) specs.Mount {
		return specs.Mount{Destination: dst, Type: "bind", Source: "/srv", Options: append([]string{"rbind"}, opts...)}
	}
	tests := []struct {
		name   string
		mounts []specs.Mount
		dests  []string
		prop   string
	}{
		{"added after the defaults, parents first", []specs.Mount{bind("/a/b/c"), bind("/x"), bind("/a/b"), bind("/y")},
			[]string{"/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm", "/x", "/y", "/a/b", "/a/b/c"}, ""},
		{"replaces /dev/shm", []specs.Mount{bind("/dev/shm/")},
			[]string{"/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm"}, ""},
		{"/dev replaces all of /dev", []specs.Mount{bind("/dev")},
			[]string{"/proc", "/sys", "/sys/fs/cgroup", "/dev"}, ""},
		{"shared bind", []specs.Mount{bind("/a", "rshared")}, nil, "shared"},
		{"slave bind", []specs.Mount{bind("/a", "slave")}, nil, "rslave"},
		{"shared wins over slave", []specs.Mount{bind("/a", "rslave"), bind("/b", "shared")}, nil, "shared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := apply(t, DockerDefault(), WithMounts(tt.mounts...))
			if tt.dests != nil && !reflect.DeepEqual(destinations(s.Mounts), tt.dests) {
				t.Errorf("mounts = %v, want %v", destinations(s.Mounts), tt.dests)
			}
			if s.Linux.RootfsPropagation != tt.prop {
				t.Errorf("rootfsPropagation = %q, want %q", s.Linux.RootfsPropagation, tt.prop)
			}
		})
	}

	m := bind("/a")
	s := apply(t, DockerDefault(), WithMounts(m))
	m.Options[0] = "changed"
	if s.Mounts[len(s.Mounts)-1].Options[0] != "rbind" {
		t.Error("WithMounts kept the caller's options slice")
	}
	err := WithMounts(specs.Mount{Destination: "rel"})(DockerDefault())
	wantInvalid(t, "WithMounts(relative)", err, `mount: destination "rel" is not an absolute path`)
}

func TestWithTmpfs(t *testing.T) {
	fakeHost(t, testHost{})
	s := apply(t, DockerDefault(), WithTmpfs("/dev/shm", "size=1g", "exec"), WithTmpfs("/run"))
	want := []specs.Mount{
		{Destination: "/dev/shm", Type: "tmpfs", Source: "tmpfs", Options: []string{"exec", "nosuid", "nodev", "rprivate", "size=1073741824"}},
		{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"noexec", "nosuid", "nodev", "rprivate"}},
	}
	if got := s.Mounts[len(s.Mounts)-2:]; !reflect.DeepEqual(got, want) {
		t.Errorf("tmpfs mounts = %+v, want %+v", got, want)
	}
	if n := len(s.Mounts); n != 8 {
		t.Errorf("%d mounts, want 8 (the default /dev/shm replaced)", n)
	}
	wantInvalid(t, "WithTmpfs(rel)", WithTmpfs("run")(DockerDefault()), `tmpfs: destination "run"`)
	wantInvalid(t, "WithTmpfs(bad option)", WithTmpfs("/run", "fast")(DockerDefault()), `tmpfs /run: unknown tmpfs option "fast"`)
}

func TestMergeTmpfsOptions(t *testing.T) {
	tests := []struct{ in, want []string }{
		{nil, []string{}},
		{[]string{"noexec", "exec"}, []string{"exec"}},
		{[]string{"ro", "size=1k", "rw", "size=2k"}, []string{"rw", "size=2048"}},
		{[]string{"rprivate", "nodev", "shared", "dev"}, []string{"shared", "dev"}},
		{[]string{"mode=755", "uid=1", "mode=700"}, []string{"mode=700", "uid=1"}},
		{[]string{"size=50%"}, []string{"size=50%"}},
	}
	for _, tt := range tests {
		if got := mergeTmpfsOptions(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("mergeTmpfsOptions(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
