package cgroups

import (
	"errors"
	"strconv"
)

// sharesToWeight maps v1 cpu.shares [2, 262144] onto v2 cpu.weight
// [1, 10000] linearly, the conversion runc and crun have long used, so the
// same spec gives the same weight under either runtime.
func sharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	shares = min(max(shares, 2), 262144)
	return 1 + ((shares-2)*9999)/262142
}

// blkioToIOWeight maps a v1 blkio weight [10, 1000] onto v2 io.weight
// [1, 10000], as runc does when io.bfq.weight is absent.
func blkioToIOWeight(w uint16) uint64 {
	if w == 0 {
		return 0
	}
	return 1 + (uint64(max(w, 10))-10)*9999/990
}

// swapToV2 turns the OCI swap value, which is memory+swap as in v1's
// memory.memsw.limit_in_bytes, into v2's memory.swap.max, which counts swap
// alone. 0 means "leave unset" and -1 "max". As in runc, an unlimited
// memory with no swap given means unlimited swap too.
func swapToV2(swap, limit int64) (int64, error) {
	switch {
	case limit == -1 && swap == 0:
		return -1, nil
	case swap == -1 || swap == 0:
		return swap, nil
	case limit == 0 || limit == -1:
		return 0, errors.New("memory swap limit needs a memory limit")
	case swap < limit:
		return 0, errors.New("memory+swap limit is below the memory limit")
	}
	return swap - limit, nil
}

// v2Value formats a limit for a v2 file: negative means "max".
func v2Value(v int64) string {
	if v < 0 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// deref returns *p, or the zero value, which the spec uses for "unset".
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
