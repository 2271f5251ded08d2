package oomscore

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestFollow(t *testing.T) {
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	Follow(cmd.Process.Pid)
	read := func(path string) int {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
	self := read("/proc/self/oom_score_adj")
	want := min(self+1, 1000)
	if self == 1000 {
		want = 1000
	}
	if got := read("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/oom_score_adj"); got != want {
		t.Errorf("child's oom_score_adj = %d, want %d (ours %d)", got, want, self)
	}
}
