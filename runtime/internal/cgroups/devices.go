package cgroups

import (
	"fmt"
	"math"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Device access bits, with the values of the kernel's BPF_DEVCG_ACC_*, so
// the emulated rules can be compiled to eBPF as they are.
const (
	accMknod = 1
	accRead  = 2
	accWrite = 4
	accAll   = accMknod | accRead | accWrite
)

// devRule is one device cgroup rule in the kernel's v1 terms.
type devRule struct {
	allow        bool
	typ          byte  // 'a' (every device), 'b' or 'c'
	major, minor int64 // -1 is the wildcard
	access       uint8 // acc* bits
}

// String is the rule as written to devices.allow or devices.deny.
func (r devRule) String() string {
	if r.typ == 'a' {
		// The kernel reads any line starting with "a" as "every device,
		// every access" and ignores the rest.
		return "a"
	}
	num := func(n int64) string {
		if n < 0 {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	acc := ""
	for _, a := range []struct {
		bit uint8
		c   string
	}{{accRead, "r"}, {accWrite, "w"}, {accMknod, "m"}} {
		if r.access&a.bit != 0 {
			acc += a.c
		}
	}
	return fmt.Sprintf("%c %s:%s %s", r.typ, num(r.major), num(r.minor), acc)
}

// deviceRules converts the OCI device list to kernel rules, in spec order.
// An empty type means every type and an empty access "rwm" (as in crun). A
// rule for every type with a specific number becomes a "b" and a "c" rule,
// because the kernel would read "a 1:3" as "everything".
func deviceRules(ds []specs.LinuxDeviceCgroup) ([]devRule, error) {
	out := make([]devRule, 0, len(ds))
	for _, d := range ds {
		r := devRule{allow: d.Allow, major: -1, minor: -1}
		if d.Major != nil {
			r.major = *d.Major
		}
		if d.Minor != nil {
			r.minor = *d.Minor
		}
		// BPF compares against a 32-bit immediate; real numbers are far smaller.
		if r.major > math.MaxInt32 || r.minor > math.MaxInt32 {
			return nil, fmt.Errorf("device rule %v: number out of range", d)
		}
		if r.major < 0 {
			r.major = -1
		}
		if r.minor < 0 {
			r.minor = -1
		}
		if d.Access == "" {
			r.access = accAll
		}
		for _, c := range d.Access {
			switch c {
			case 'r':
				r.access |= accRead
			case 'w':
				r.access |= accWrite
			case 'm':
				r.access |= accMknod
			default:
				return nil, fmt.Errorf("device rule %v: bad access %q", d, d.Access)
			}
		}
		switch d.Type {
		case "", "a":
			if r.major == -1 && r.minor == -1 {
				r.typ = 'a'
				out = append(out, r)
				continue
			}
			b, c := r, r
			b.typ, c.typ = 'b', 'c'
			out = append(out, b, c)
		case "b", "c":
			r.typ = d.Type[0]
			out = append(out, r)
		default:
			return nil, fmt.Errorf("device rule %v: bad type %q", d, d.Type)
		}
	}
	return out, nil
}

// devState is a v1 device cgroup's state: a default and its exceptions
// (denials when the default is allow, grants when it is deny).
type devState struct {
	defaultAllow bool
	exceptions   []devRule
}

// emulateDevices replays rules the way the v1 kernel does
// (devcgroup_update_access in security/device_cgroup.c), so that v2's eBPF
// filter grants exactly what v1 would for the same spec, starting like a new
// v1 cgroup from "allow everything".
func emulateDevices(rules []devRule) devState {
	s := devState{defaultAllow: true}
	for _, r := range rules {
		if r.typ == 'a' {
			s = devState{defaultAllow: r.allow}
			continue
		}
		if r.allow == s.defaultAllow {
			s.remove(r)
		} else {
			s.add(r)
		}
	}
	return s
}

// add merges r into an exception for the same device or appends it.
func (s *devState) add(r devRule) {
	for i, e := range s.exceptions {
		if e.typ == r.typ && e.major == r.major && e.minor == r.minor {
			s.exceptions[i].access |= r.access
			return
		}
	}
	s.exceptions = append(s.exceptions, r)
}

// remove takes r's access away from the exception for the very same device
// (no wildcard matching, as in the kernel's dev_exception_rm).
func (s *devState) remove(r devRule) {
	out := s.exceptions[:0]
	for _, e := range s.exceptions {
		if e.typ == r.typ && e.major == r.major && e.minor == r.minor {
			e.access &^= r.access
			if e.access == 0 {
				continue
			}
		}
		out = append(out, e)
	}
	s.exceptions = out
}
