// Package oomscore makes a shim a slightly better OOM victim than the
// process that started it (containerd's shims do the same): under memory
// pressure the kernel then kills one container's shim before the daemon
// that manages them all.
package oomscore

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Follow sets pid's oom_score_adj to the caller's plus one (at most
// 1000). Failures are ignored: the score is a preference, not a need.
func Follow(pid int) {
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return
	}
	score, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return
	}
	if score < 1000 {
		score++
	}
	os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", pid), []byte(strconv.Itoa(score)), 0)
}
