package main

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The shim is small, long-lived and runs once per container, so what it
// holds between requests is what a node pays per container. Go's defaults
// suit the opposite (throughput, a heap that may double), so the daemon:
//
//   - runs on one P: each P caches spans per size class, and the shim never
//     needs two CPUs;
//   - collects at 50% heap growth instead of 100%;
//   - turns off heap profiling, whose samples touch a 1.4 MiB bucket table;
//   - a moment after each burst of requests, drops its page-table entries
//     for clean, read-only file pages (its text and rodata, libc's): the
//     kernel's fault-around maps nearly the whole binary into every process
//     that runs a little of it, and those pages count in each shim's RSS
//     although they are shared page cache. They stay cached and are mapped
//     again on use (minor faults).
//
// Measured and rejected: debug.FreeOSMemory when idle. Its forced GC
// touches ~400 KiB of GC metadata for the ~100 KiB of heap it returns; the
// background scavenger returns free pages anyway.

// idleTrimDelay is how long after the last request the shim trims.
const idleTrimDelay = 500 * time.Millisecond

var (
	trimMu    sync.Mutex
	trimTimer *time.Timer
)

func tuneMemory() {
	runtime.MemProfileRate = 0
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(50)
}

// trimAfterWork schedules (or postpones) a trim.
func trimAfterWork() {
	trimMu.Lock()
	defer trimMu.Unlock()
	if trimTimer == nil {
		trimTimer = time.AfterFunc(idleTrimDelay, trim)
		return
	}
	trimTimer.Reset(idleTrimDelay)
}

func trim() {
	unmapCleanFilePages()
}

// unmapCleanFilePages applies MADV_DONTNEED to every read-only file mapping
// that has no private (copy-on-write) pages. Only then is it safe: a
// dropped page is read back from the file, so a mapping with modified
// pages (a relocated RELRO segment, the data segment) must be left alone.
func unmapCleanFilePages() {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	defer f.Close()
	var (
		start, end uint64
		candidate  bool
		ranges     [][2]uint64
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		if i := bytes.IndexByte(line, ' '); i > 0 && bytes.IndexByte(line[:i], '-') > 0 {
			// "7f..-7f.. r-xp 00000000 fe:00 123 /path" starts a mapping.
			fields := strings.Fields(string(line))
			lo, hi, _ := strings.Cut(fields[0], "-")
			start, _ = strconv.ParseUint(lo, 16, 64)
			end, _ = strconv.ParseUint(hi, 16, 64)
			candidate = len(fields) >= 6 && strings.HasPrefix(fields[5], "/") &&
				fields[1][0] == 'r' && fields[1][1] == '-' && fields[1][3] == 'p'
			continue
		}
		if candidate && bytes.HasPrefix(line, []byte("Anonymous:")) {
			if n := strings.Fields(string(line)); len(n) >= 2 && n[1] == "0" {
				ranges = append(ranges, [2]uint64{start, end})
			}
			candidate = false
		}
	}
	for _, r := range ranges {
		// The raw call: these addresses are not Go memory.
		unix.Syscall(unix.SYS_MADVISE, uintptr(r[0]), uintptr(r[1]-r[0]), unix.MADV_DONTNEED)
	}
}
