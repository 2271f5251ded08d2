package specs

import (
	"reflect"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestWithCapabilities(t *testing.T) {
	// This host, like the one berth is developed on, lacks CAP_SYS_RESOURCE.
	host := slices.DeleteFunc(slices.Clone(capNames[:]), func(c string) bool { return c == "CAP_SYS_RESOURCE" })
	fakeHost(t, testHost{caps: host})
	docker := DockerCapabilities()
	allBut := func(drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(host), func(c string) bool { return slices.Contains(drop, c) })
	}
	tests := []struct {
		name       string
		start      []string
		add, drop  []string
		want       []string
		invalidErr string
	}{
		{"nothing", docker, nil, nil, docker, ""},
		{"add one", docker, []string{"NET_ADMIN"}, nil, append(slices.Clone(docker), "CAP_NET_ADMIN"), ""},
		{"any case, prefix or not", nil, []string{"net_admin", "Cap_Sys_Ptrace", " CAP_BPF "}, nil, []string{"CAP_NET_ADMIN", "CAP_SYS_PTRACE", "CAP_BPF"}, ""},
		{"add twice", []string{"CAP_KILL"}, []string{"KILL", "cap_kill"}, nil, []string{"CAP_KILL"}, ""},
		{"drop one", []string{"CAP_KILL", "CAP_CHOWN"}, nil, []string{"chown"}, []string{"CAP_KILL"}, ""},
		{"drop missing", []string{"CAP_KILL"}, nil, []string{"NET_ADMIN"}, []string{"CAP_KILL"}, ""},
		{"drop then add", []string{"CAP_KILL", "CAP_CHOWN"}, []string{"SYS_ADMIN"}, []string{"KILL"}, []string{"CAP_CHOWN", "CAP_SYS_ADMIN"}, ""},
		{"add and drop the same", []string{"CAP_KILL"}, []string{"CHOWN"}, []string{"CHOWN"}, []string{"CAP_KILL", "CAP_CHOWN"}, ""},
		{"drop ALL", docker, nil, []string{"ALL"}, nil, ""},
		{"drop ALL add one", docker, []string{"NET_BIND_SERVICE"}, []string{"all"}, []string{"CAP_NET_BIND_SERVICE"}, ""},
		{"add ALL", docker, []string{"ALL"}, nil, host, ""},
		{"add ALL drop some", docker, []string{"ALL"}, []string{"SYS_ADMIN", "CAP_NET_ADMIN"}, allBut("CAP_SYS_ADMIN", "CAP_NET_ADMIN"), ""},
		{"add ALL wins over drop ALL", docker, []string{"ALL"}, []string{"ALL"}, host, ""},
		{"unknown add", docker, []string{"CAP_FLY"}, nil, nil, `capability "CAP_FLY": no such capability`},
		{"unknown drop", docker, nil, []string{"fly"}, nil, `capability "fly": no such capability`},
		{"empty name", docker, []string{""}, nil, nil, `capability "": no such capability`},
		{"not on this host", docker, []string{"SYS_RESOURCE"}, nil, nil, `capability "SYS_RESOURCE": not in this host's bounding set`},
		{"drop one not on this host", []string{"CAP_KILL"}, nil, []string{"SYS_RESOURCE"}, []string{"CAP_KILL"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{
				Bounding: slices.Clone(tt.start), Inheritable: []string{"CAP_KILL"}, Ambient: []string{"CAP_KILL"},
			}}}
			err := WithCapabilities(tt.add, tt.drop)(s)
			if tt.invalidErr != "" {
				wantInvalid(t, "WithCapabilities", err, tt.invalidErr)
				return
			}
			if err != nil {
				t.Fatalf("WithCapabilities(%q, %q) error = %v", tt.add, tt.drop, err)
			}
			c := s.Process.Capabilities
			if len(tt.add) == 0 && len(tt.drop) == 0 {
				if !reflect.DeepEqual(c.Bounding, tt.start) {
					t.Errorf("no-op changed the set to %v", c.Bounding)
				}
				return
			}
			for name, set := range map[string][]string{"bounding": c.Bounding, "effective": c.Effective, "permitted": c.Permitted} {
				if !reflect.DeepEqual(set, tt.want) {
					t.Errorf("WithCapabilities(%q, %q) %s = %v, want %v", tt.add, tt.drop, name, set, tt.want)
				}
			}
			if c.Inheritable != nil || c.Ambient != nil {
				t.Errorf("inheritable %v, ambient %v; want both empty (CVE-2022-24769)", c.Inheritable, c.Ambient)
			}
			if len(c.Bounding) > 0 && &c.Bounding[0] == &c.Effective[0] {
				t.Error("capability sets share memory")
			}
		})
	}
}

// TestCapAddDropOrder pins the sequential meaning of the two single
// options, and that WithCapabilities gives Docker's order-free one.
func TestCapAddDropOrder(t *testing.T) {
	fakeHost(t, testHost{})
	caps := func(opts ...Opt) []string {
		return apply(t, DockerDefault(), opts...).Process.Capabilities.Bounding
	}
	if got := caps(WithCapDrop("ALL"), WithCapAdd("KILL")); !reflect.DeepEqual(got, []string{"CAP_KILL"}) {
		t.Errorf("drop ALL then add KILL = %v, want [CAP_KILL]", got)
	}
	if got := caps(WithCapAdd("KILL"), WithCapDrop("ALL")); got != nil {
		t.Errorf("add KILL then drop ALL = %v, want none", got)
	}
	if got := caps(WithCapabilities([]string{"KILL"}, []string{"ALL"})); !reflect.DeepEqual(got, []string{"CAP_KILL"}) {
		t.Errorf("WithCapabilities(add KILL, drop ALL) = %v, want [CAP_KILL]", got)
	}
}

func TestAllCapsFollowsHost(t *testing.T) {
	fakeHost(t, testHost{caps: []string{"CAP_KILL", "CAP_CHOWN", "CAP_NOT_REAL"}})
	if got, want := allCaps(), []string{"CAP_CHOWN", "CAP_KILL"}; !reflect.DeepEqual(got, want) {
		t.Errorf("allCaps() = %v, want %v (known capabilities the host has, in number order)", got, want)
	}
}

func TestReadHostBoundingCaps(t *testing.T) {
	got := readHostBoundingCaps()
	if len(got) == 0 {
		t.Skip("empty bounding set")
	}
	for _, c := range got {
		if !slices.Contains(capNames[:], c) {
			t.Errorf("readHostBoundingCaps() returned unknown %q", c)
		}
	}
}
