// Package cgwarm shortens the first cgroup migration of a container start.
//
// Every move of a process into a cgroup (a write to cgroup.procs, which
// the OCI runtime does for each new container init) takes one global
// kernel lock, cgroup_threadgroup_rwsem, for writing. Taking it after a
// quiet spell waits for an RCU grace period first: 10-25 ms on the
// machines measured, the largest single cost of `berth run` there. For
// about one further grace period after a writer releases it, the next
// writer gets it at once. So berthd takes it itself, in the background,
// as a start begins (by moving itself into the cgroup it is already in, a
// no-op move): by the time the runtime joins the container's cgroups the
// grace period has passed, or is partly over.
package cgwarm

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

var (
	procsOnce sync.Once
	procsPath string
	inFlight  atomic.Bool
)

// Prime starts taking the migration lock in the background; it returns
// at once. Failures are ignored: priming only saves time.
func Prime() {
	procsOnce.Do(func() { procsPath = ownProcsFile("/proc/self/cgroup", "/sys/fs/cgroup") })
	if procsPath == "" || !inFlight.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer inFlight.Store(false)
		if f, err := os.OpenFile(procsPath, os.O_WRONLY, 0); err == nil {
			f.WriteString(strconv.Itoa(os.Getpid()))
			f.Close()
		}
	}()
}

// ownProcsFile finds the cgroup.procs file of the cgroup the process is
// in, from its /proc/PID/cgroup file: a v1 hierarchy's if there is one
// (hybrid and v1 hosts), else the unified hierarchy's.
func ownProcsFile(cgroupFile, mountRoot string) string {
	f, err := os.Open(cgroupFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	unified := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-ID:controllers:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		ctrls, path := parts[1], parts[2]
		if parts[0] == "0" && ctrls == "" {
			unified = path
			continue
		}
		for _, c := range strings.Split(ctrls, ",") {
			if strings.HasPrefix(c, "name=") {
				continue
			}
			p := filepath.Join(mountRoot, c, path, "cgroup.procs")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if unified != "" {
		p := filepath.Join(mountRoot, unified, "cgroup.procs")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
