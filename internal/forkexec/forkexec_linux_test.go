package forkexec

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestStartWait(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   string // Wait's error, "" for nil
	}{
		{"exit 0", "exit 0", ""},
		{"exit 3", "exit 3", "exit status 3"},
		{"killed", "kill -9 $$", "signal: killed"},
		{"nil stdin is /dev/null", `test "$(readlink /proc/self/fd/0)" = /dev/null`, ""},
		{"fd 3 is the extra file", `test "$(cat <&3)" = extra`, ""},
		{"environment as given, no more", `test "$FOO" = bar && test -z "$HOME"`, ""},
		{"working directory", `test "$(pwd)" = /`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra := filepath.Join(t.TempDir(), "extra")
			os.WriteFile(extra, []byte("extra"), 0o600)
			f, err := os.Open(extra)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			pid, err := Start("/bin/sh", []string{"sh", "-c", tt.script}, Attr{
				Dir:   "/",
				Env:   []string{"FOO=bar", "PATH=/usr/bin:/bin"},
				Files: []*os.File{nil, os.Stderr, os.Stderr, f},
			})
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if err := Wait(pid); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Wait = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	_, err := Start("/nonexistent/prog", []string{"prog"}, Attr{})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/prog") {
		t.Errorf("Start of a missing program = %v, want an error naming it", err)
	}
	if err := Wait(1 << 22); err == nil {
		t.Error("Wait for a pid that is not our child = nil, want an error")
	}
}

func TestStartSysAttr(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pid, err := Start("/bin/sh", []string{"sh", "-c", "echo $(cut -d' ' -f5 /proc/self/stat)"}, Attr{
		Files: []*os.File{nil, w, w},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	if err := Wait(pid); err != nil {
		t.Fatal(err)
	}
	// The shell's $(...) runs cut in a child of the same group: the group
	// is the shell's own pid.
	if got := strings.TrimSpace(string(out)); got != strconv.Itoa(pid) {
		t.Errorf("process group %q, want %d (Setpgid applied)", got, pid)
	}
}
