package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestCheckPublish(t *testing.T) {
	for _, ok := range []string{"80", "8080:80", "127.0.0.1:8080:80", "8080:80/udp", "1000-1010:1000-1010", "127.0.0.1::80", "[::1]:8080:80"} {
		if err := checkPublish(ok); err != nil {
			t.Errorf("checkPublish(%q) = %v, want ok", ok, err)
		}
	}
	for _, bad := range []string{"", "99999:80", "a:b:c:d", "80/xyz", "notanip:80:80", "80:"} {
		if err := checkPublish(bad); err == nil {
			t.Errorf("checkPublish(%q) = nil, want an error", bad)
		}
	}
}

func TestParseRestart(t *testing.T) {
	tests := []struct {
		in   string
		name string
		max  int32
		ok   bool
	}{
		{"no", "no", 0, true},
		{"", "no", 0, true},
		{"always", "always", 0, true},
		{"on-failure:5", "on-failure", 5, true},
		{"on-failure", "on-failure", 0, true},
		{"always:3", "", 0, false},
		{"on-failure:x", "", 0, false},
		{"maybe", "", 0, false},
	}
	for _, tt := range tests {
		p, err := parseRestart(tt.in)
		if (err == nil) != tt.ok || err == nil && (p.Name != tt.name || p.MaxRetry != tt.max) {
			t.Errorf("parseRestart(%q) = %v, %v", tt.in, p, err)
		}
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want int64
	}{
		{"", 0},
		{"10m", now.Add(-10 * time.Minute).UnixNano()},
		{"2026-01-01T00:00:00Z", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()},
		{"1700000000.5", 1700000000*1e9 + 5e8},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in, now)
		if err != nil || got != tt.want {
			t.Errorf("parseTime(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	if _, err := parseTime("yesterday", now); err == nil {
		t.Error("parseTime(yesterday) succeeded")
	}
}

func TestRebaseAndSplit(t *testing.T) {
	tests := []struct {
		name, rename string
		strip        bool
		want         string
	}{
		{"app/conf", "", false, "app/conf"},
		{"app/conf", "new", false, "new/conf"},
		{"app", "new", false, "new"},
		{"app/conf", "", true, "conf"},
		{"app", "", true, ""},
		{"../../etc/passwd", "", false, "etc/passwd"},
	}
	for _, tt := range tests {
		if got := rebase(tt.name, tt.rename, tt.strip); got != tt.want {
			t.Errorf("rebase(%q, %q, %v) = %q, want %q", tt.name, tt.rename, tt.strip, got, tt.want)
		}
	}
	for in, want := range map[string][2]string{
		"web:/etc":   {"web", "/etc"},
		"/local/dir": {"", "/local/dir"},
		"./a:b":      {"", "./a:b"},
		"-":          {"", "-"},
	} {
		if c, p := splitCpArg(in); c != want[0] || p != want[1] {
			t.Errorf("splitCpArg(%q) = %q, %q; want %q", in, c, p, want)
		}
	}
}

// TestUsernsAndHealthFlags: --user-namespace / --userns and the health
// flags as the create request carries them, and the refused ones.
func TestUsernsAndHealthFlags(t *testing.T) {
	tests := []struct {
		args    []string
		userns  string
		health  string // fmt of the HealthConfig, "" for nil
		wantErr string
	}{
		{nil, "", "", ""},
		{[]string{"--user-namespace"}, "private", "", ""},
		{[]string{"--userns", "private"}, "private", "", ""},
		{[]string{"--userns", "host"}, "", "", ""},
		{[]string{"--userns", "keep-id"}, "", "", "--userns"},
		{[]string{"--userns", "host", "--user-namespace"}, "", "", "conflicting"},
		{[]string{"--health-cmd", "curl -f localhost", "--health-interval", "2s", "--health-retries", "5"}, "", "[CMD-SHELL curl -f localhost] 2000000000 0 0 5 0", ""},
		{[]string{"--health-timeout", "1s"}, "", "[] 0 1000000000 0 0 0", ""},
		{[]string{"--no-healthcheck"}, "", "[NONE] 0 0 0 0 0", ""},
		{[]string{"--no-healthcheck", "--health-retries", "2"}, "", "", "conflicts"},
		{[]string{"--health-start-period", "-1s"}, "", "", "cannot be negative"},
		{[]string{"--health-retries", "-1"}, "", "", "cannot be negative"},
	}
	for _, tt := range tests {
		var o containerOptions
		fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
		o.addFlags(fs)
		if err := fs.Parse(append(tt.args, "busybox")); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		cfg, err := o.config(fs, "busybox", nil)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: err %v, want one containing %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if cfg.Host.UsernsMode != tt.userns {
			t.Errorf("%v: UsernsMode %q, want %q", tt.args, cfg.Host.UsernsMode, tt.userns)
		}
		health := ""
		if h := cfg.Healthcheck; h != nil {
			health = fmt.Sprint(h.Test, h.Interval, h.Timeout, h.StartPeriod, h.Retries, h.StartInterval)
		}
		if health != tt.health {
			t.Errorf("%v: health %q, want %q", tt.args, health, tt.health)
		}
	}
}
