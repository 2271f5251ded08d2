package specs

import (
	"math"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// memoryUnits are the multipliers of Docker's sizes: binary, whatever the
// spelling ("1k" = "1kb" = "1KiB" = 1024).
var memoryUnits = map[string]int64{
	"":  1,
	"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50,
}

// ParseMemory parses a size as `docker run --memory` and `--shm-size`
// take it: a number, possibly with a fraction, and an optional unit b, k,
// m, g, t or p (any case, with an optional "i" and "b": "512m", "1.5GiB",
// "64 MB"), all powers of 1024.
func ParseMemory(s string) (int64, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	end := strings.IndexFunc(v, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if end == -1 {
		end = len(v)
	}
	num, rest := v[:end], strings.TrimSpace(v[end:])
	unit := ""
	if rest != "" && strings.ContainsRune("kmgtp", rune(rest[0])) {
		unit, rest = rest[:1], rest[1:]
	}
	rest = strings.TrimPrefix(strings.TrimPrefix(rest, "i"), "b")
	mult, ok := memoryUnits[unit]
	if !ok || rest != "" {
		return 0, invalidf("memory size %q: unknown unit %q", s, strings.TrimSpace(v[end:]))
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, invalidf("memory size %q: want a number and a unit such as 512m", s)
	}
	bytes := f * float64(mult)
	if bytes >= math.MaxInt64 {
		return 0, invalidf("memory size %q: too large", s)
	}
	return int64(bytes), nil
}

// ParseCPUs parses a `--cpus` value, a decimal number of CPUs such as
// "1.5" (0 means no limit).
func ParseCPUs(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, invalidf("cpus %q: want a decimal number such as 1.5", s)
	}
	return f, nil
}

// ParseSecurityOpt parses a `--security-opt` value into the option that
// applies it:
//
//   - "no-new-privileges", "no-new-privileges=true|false";
//   - "seccomp=unconfined", "seccomp=builtin" (the default profile), or
//     "seccomp=FILE", a Docker-format profile read when the option is
//     applied;
//   - "systempaths=unconfined": no masked or read-only /proc and /sys paths;
//   - "apparmor=..." and "label=...", accepted and ignored: berth sets no
//     AppArmor or SELinux labels, as Docker does on hosts without them.
//
// Docker's older "KEY:VALUE" spelling is accepted too. Options that
// depend on capabilities (seccomp) belong after the capability options.
func ParseSecurityOpt(opt string) (Opt, error) {
	key, val, ok := strings.Cut(opt, "=")
	if !ok && key != "no-new-privileges" {
		key, val, ok = strings.Cut(opt, ":")
	}
	switch {
	case key == "no-new-privileges":
		on := true
		if ok {
			b, err := strconv.ParseBool(val)
			if err != nil {
				return nil, invalidf("security option %q: want no-new-privileges=true or false", opt)
			}
			on = b
		}
		return withNoNewPrivileges(on), nil
	case !ok || val == "":
		return nil, invalidf("security option %q: want KEY=VALUE", opt)
	case key == "seccomp" && val == "unconfined":
		return WithSeccompUnconfined(), nil
	case key == "seccomp" && val == "builtin":
		return WithDefaultSeccomp(), nil
	case key == "seccomp":
		return WithSeccompProfile(val), nil
	case key == "systempaths" && val == "unconfined":
		return func(s *specs.Spec) error {
			if s.Linux != nil {
				s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
			}
			return nil
		}, nil
	case key == "apparmor" || key == "label":
		return func(*specs.Spec) error { return nil }, nil
	}
	return nil, invalidf("security option %q: want seccomp=, no-new-privileges, systempaths=unconfined, apparmor= or label=", opt)
}
