package specs

import (
	"path/filepath"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseMemory(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		invalid string
	}{
		{"512m", 512 << 20, ""},
		{"512M", 512 << 20, ""},
		{"1g", 1 << 30, ""},
		{"1.5g", 3 << 29, ""},
		{"1.5GiB", 3 << 29, ""},
		{"64 MB", 64 << 20, ""},
		{"100k", 102400, ""},
		{"100kb", 102400, ""},
		{"2t", 2 << 40, ""},
		{"1p", 1 << 50, ""},
		{"4096", 4096, ""},
		{"4096b", 4096, ""},
		{" 8m ", 8 << 20, ""},
		{"0", 0, ""},
		{"12x", 0, `memory size "12x": unknown unit "x"`},
		{"12mbb", 0, `unknown unit "mbb"`},
		{"12bm", 0, `unknown unit "bm"`},
		{"m", 0, `memory size "m": want a number`},
		{"", 0, `memory size ""`},
		{"-5m", 0, `memory size "-5m"`},
		{"1.2.3m", 0, `memory size "1.2.3m"`},
		{"9999999p", 0, "too large"},
	}
	for _, tt := range tests {
		got, err := ParseMemory(tt.in)
		if tt.invalid != "" {
			wantInvalid(t, "ParseMemory("+tt.in+")", err, tt.invalid)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestParseCPUs(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1.5", 1.5, true},
		{"2", 2, true},
		{"0.01", 0.01, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"one", 0, false},
		{"", 0, false},
		{"Inf", 0, false},
		{"NaN", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseCPUs(tt.in)
		if !tt.ok {
			wantInvalid(t, "ParseCPUs("+tt.in+")", err, `cpus "`+tt.in+`"`)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseCPUs(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	// A parsed value is accepted by WithCPUs.
	fakeHost(t, testHost{})
	cpus, _ := ParseCPUs("1.5")
	if s := apply(t, DockerDefault(), WithCPUs(cpus)); *s.Linux.Resources.CPU.Quota != 150000 {
		t.Errorf("quota for 1.5 CPUs = %d, want 150000", *s.Linux.Resources.CPU.Quota)
	}
}

func TestParseSecurityOpt(t *testing.T) {
	fakeHost(t, testHost{})
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"p.json": `{"defaultAction":"SCMP_ACT_LOG"}`})
	profile := filepath.Join(dir, "p.json")
	tests := []struct {
		in   string
		want func(s *specs.Spec)
	}{
		{"no-new-privileges", func(s *specs.Spec) { s.Process.NoNewPrivileges = true }},
		{"no-new-privileges=true", func(s *specs.Spec) { s.Process.NoNewPrivileges = true }},
		{"no-new-privileges:true", func(s *specs.Spec) { s.Process.NoNewPrivileges = true }},
		{"no-new-privileges=false", func(s *specs.Spec) {}},
		{"seccomp=unconfined", func(s *specs.Spec) { s.Linux.Seccomp = nil }},
		{"seccomp:unconfined", func(s *specs.Spec) { s.Linux.Seccomp = nil }},
		{"seccomp=builtin", func(s *specs.Spec) {}},
		{"seccomp=" + profile, func(s *specs.Spec) { s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActLog} }},
		{"systempaths=unconfined", func(s *specs.Spec) { s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil }},
		{"apparmor=unconfined", func(s *specs.Spec) {}},
		{"label=disable", func(s *specs.Spec) {}},
		{"label:type:svirt_t", func(s *specs.Spec) {}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			o, err := ParseSecurityOpt(tt.in)
			if err != nil {
				t.Fatalf("ParseSecurityOpt(%q) error = %v", tt.in, err)
			}
			s := DockerDefault()
			if tt.in == "no-new-privileges=false" {
				s.Process.NoNewPrivileges = true
			}
			got := apply(t, s, o)
			want := DockerDefault()
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseSecurityOpt(%q) applied = %s\nwant %s", tt.in, mustJSON(t, withoutSeccomp(got)), mustJSON(t, withoutSeccomp(want)))
			}
		})
	}

	bad := map[string]string{
		"no-new-privileges=maybe": `security option "no-new-privileges=maybe": want no-new-privileges=true or false`,
		"seccomp":                 `security option "seccomp": want KEY=VALUE`,
		"seccomp=":                `security option "seccomp=": want KEY=VALUE`,
		"systempaths=confined":    `security option "systempaths=confined"`,
		"selinux=on":              `security option "selinux=on"`,
		"":                        `security option ""`,
	}
	for in, want := range bad {
		_, err := ParseSecurityOpt(in)
		wantInvalid(t, "ParseSecurityOpt("+in+")", err, want)
	}
	// A missing profile file is reported when the option is applied.
	o, err := ParseSecurityOpt("seccomp=" + filepath.Join(dir, "missing.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := o(DockerDefault()); err == nil {
		t.Error("seccomp=missing-file applied without error")
	}
}
