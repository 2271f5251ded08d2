package cgroups

import (
	"fmt"
	"path"
	"strings"
)

// innerPath returns the container's cgroup as a clean absolute path relative
// to each hierarchy root, e.g. "/system.slice/docker-abc.scope".
//
// Without systemd this follows crun: an empty cgroupsPath means "/<id>" and a
// relative path is rooted at the hierarchy root too. (runc instead nests both
// under its own cgroup, which makes a container's limits depend on where the
// runtime happened to be started.)
func innerPath(cgroupsPath, id string, systemd bool) (string, error) {
	if systemd {
		return systemdPath(cgroupsPath, id)
	}
	if cgroupsPath == "" {
		if id == "" {
			return "", fmt.Errorf("%w: no cgroups path and no container id", ErrInvalidPath)
		}
		cgroupsPath = id
	}
	return cleanPath(cgroupsPath)
}

// cleanPath roots p at "/" and cleans it. A ".." that would climb above the
// root is refused rather than clamped: it means the spec author expected a
// different base, and silently moving the container elsewhere would hide it.
func cleanPath(p string) (string, error) {
	depth := 0
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return "", fmt.Errorf("%w %q: \"..\" climbs out of the cgroup hierarchy", ErrInvalidPath, p)
			}
		default:
			depth++
		}
	}
	clean := path.Clean("/" + p)
	if clean == "/" {
		return "", fmt.Errorf("%w %q: a container cannot use the root cgroup", ErrInvalidPath, p)
	}
	return clean, nil
}

// systemdPath maps systemd's "slice:prefix:name" to the cgroupfs path systemd
// itself would create for the scope, so that paths match a systemd host even
// though berth talks to cgroupfs directly (these machines run no systemd).
// An empty cgroupsPath means ":runc:<id>" and an empty slice "system.slice",
// as in runc.
func systemdPath(cgroupsPath, id string) (string, error) {
	slice, prefix, name := "", "runc", id
	if cgroupsPath != "" {
		parts := strings.Split(cgroupsPath, ":")
		if len(parts) != 3 {
			return "", fmt.Errorf("%w %q: want \"slice:prefix:name\" with the systemd cgroup driver", ErrInvalidPath, cgroupsPath)
		}
		slice, prefix, name = parts[0], parts[1], parts[2]
	}
	if slice == "" {
		slice = "system.slice"
	}
	dir, err := expandSlice(slice)
	if err != nil {
		return "", err
	}
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") || strings.Contains(prefix, "/") {
		return "", fmt.Errorf("%w %q: bad systemd unit name", ErrInvalidPath, cgroupsPath)
	}
	unit := name
	if !strings.HasSuffix(name, ".slice") {
		unit = prefix + "-" + name + ".scope"
	}
	return path.Join(dir, unit), nil
}

// expandSlice turns a systemd slice name into its cgroup path: each dash
// opens a nested slice, so "a-b.slice" lives in "/a.slice/a-b.slice", and
// "-.slice" is the root.
func expandSlice(slice string) (string, error) {
	name, ok := strings.CutSuffix(slice, ".slice")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("%w: bad systemd slice %q", ErrInvalidPath, slice)
	}
	if name == "-" {
		return "/", nil
	}
	var b strings.Builder
	prefix := ""
	for _, c := range strings.Split(name, "-") {
		if c == "" {
			return "", fmt.Errorf("%w: bad systemd slice %q", ErrInvalidPath, slice)
		}
		prefix += c
		b.WriteString("/" + prefix + ".slice")
		prefix += "-"
	}
	return b.String(), nil
}
