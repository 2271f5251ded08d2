package specs

import (
	"encoding/csv"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// MountType is the kind of a MountPoint, as in `--mount type=`.
type MountType string

// The mount types of `docker run`.
const (
	MountBind   MountType = "bind"
	MountVolume MountType = "volume"
	MountTmpfs  MountType = "tmpfs"
)

// A MountPoint is a mount as the user asked for it with -v, --mount or
// --tmpfs, before berthd has resolved volumes: what ParseVolume, ParseMount
// and ParseTmpfs return. Spec turns it into the config.json mount.
type MountPoint struct {
	Type MountType
	// Source is the host path of a bind mount, the name of a volume ("" for
	// an anonymous one); a tmpfs has none.
	Source      string
	Destination string
	ReadOnly    bool
	// Propagation of a bind mount ("rprivate" when empty), one of private,
	// rprivate, shared, rshared, slave, rslave.
	Propagation string
	// NonRecursive binds the source alone, not the mounts under it.
	NonRecursive bool
	// CreateSource asks berthd to create a missing bind source directory:
	// -v does, --mount refuses a missing source.
	CreateSource bool
	// NoCopy: do not copy the image's files at Destination into a new
	// volume.
	NoCopy bool
	// TmpfsOptions are the options of a tmpfs (size=, mode=, exec...).
	TmpfsOptions []string
}

// Spec returns the config.json mount for m. A volume must have been
// resolved first: berthd sets Source to the volume's directory on the host.
func (m MountPoint) Spec() (specs.Mount, error) {
	out := specs.Mount{Destination: path.Clean(m.Destination)}
	switch m.Type {
	case MountBind, MountVolume:
		if !path.IsAbs(m.Source) {
			return specs.Mount{}, invalidf("%s mount source %q: want the absolute path of a host directory", m.Type, m.Source)
		}
		out.Type, out.Source = "bind", path.Clean(m.Source)
		out.Options = []string{"rbind"}
		if m.NonRecursive {
			out.Options[0] = "bind"
		}
		if m.ReadOnly {
			out.Options = append(out.Options, "ro")
		}
		switch {
		case m.Propagation != "":
			out.Options = append(out.Options, m.Propagation)
		case m.Type == MountBind:
			out.Options = append(out.Options, "rprivate")
		}
	case MountTmpfs:
		out.Type, out.Source = "tmpfs", "tmpfs"
		opts := append([]string{"noexec", "nosuid", "nodev", "rprivate"}, m.TmpfsOptions...)
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		out.Options = mergeTmpfsOptions(opts)
	default:
		return specs.Mount{}, invalidf("mount type %q", m.Type)
	}
	return out, nil
}

// volumeName is what Docker accepts as a volume name; anything else in the
// source of -v must be an absolute host path.
var volumeName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

var propagations = []string{"private", "rprivate", "shared", "rshared", "slave", "rslave"}

// ParseVolume parses a -v value: "DST" (an anonymous volume), "NAME:DST"
// (a named volume), "/HOST/PATH:DST" (a bind mount), each with an optional
// third part of comma-separated modes: rw or ro, nocopy for volumes, a
// propagation for binds; the SELinux (z, Z) and macOS consistency
// (consistent, cached, delegated) modes are accepted and ignored.
func ParseVolume(spec string) (MountPoint, error) {
	bad := func(why string) (MountPoint, error) {
		return MountPoint{}, invalidf("volume %q: %s", spec, why)
	}
	parts := strings.Split(spec, ":")
	var m MountPoint
	switch len(parts) {
	case 1:
		m = MountPoint{Type: MountVolume, Destination: parts[0]}
	case 2, 3:
		m = MountPoint{Source: parts[0], Destination: parts[1]}
	default:
		return bad("want [SOURCE:]DESTINATION[:MODE]")
	}
	if err := checkDestination(m.Destination); err != nil {
		return bad(err.Error())
	}
	if len(parts) > 1 {
		switch {
		case path.IsAbs(m.Source):
			m.Type, m.CreateSource = MountBind, true
		case volumeName.MatchString(m.Source):
			m.Type = MountVolume
		default:
			return bad(fmt.Sprintf("source %q is neither an absolute path nor a volume name", m.Source))
		}
	}
	if len(parts) < 3 {
		return m, nil
	}
	var seenRW, seenLabel, seenProp bool
	for _, mode := range strings.Split(parts[2], ",") {
		switch {
		case mode == "ro" || mode == "rw":
			if seenRW {
				return bad("more than one of ro and rw")
			}
			seenRW, m.ReadOnly = true, mode == "ro"
		case mode == "z" || mode == "Z":
			if seenLabel {
				return bad("more than one of z and Z")
			}
			seenLabel = true
		case mode == "nocopy" && m.Type == MountVolume:
			m.NoCopy = true
		case slices.Contains(propagations, mode) && m.Type == MountBind:
			if seenProp {
				return bad("more than one propagation mode")
			}
			seenProp, m.Propagation = true, mode
		case mode == "consistent" || mode == "cached" || mode == "delegated":
		default:
			return bad(fmt.Sprintf("unknown mode %q for a %s mount", mode, m.Type))
		}
	}
	return m, nil
}

// ParseMount parses a --mount value, comma-separated KEY=VALUE fields
// (CSV, so a field may be quoted): type (bind, volume, tmpfs; volume by
// default), source/src, target/destination/dst, readonly/ro,
// bind-propagation, bind-nonrecursive, volume-nocopy, volume-driver
// (local only), tmpfs-size, tmpfs-mode, consistency (ignored). Boolean
// fields may omit their value.
func ParseMount(spec string) (MountPoint, error) {
	bad := func(format string, args ...any) (MountPoint, error) {
		return MountPoint{}, invalidf("mount %q: %s", spec, fmt.Sprintf(format, args...))
	}
	fields, err := csv.NewReader(strings.NewReader(spec)).Read()
	if err != nil {
		return bad("%v", err)
	}
	m := MountPoint{Type: MountVolume}
	var kinds []MountType // the types the given options belong to
	for _, f := range fields {
		key, val, hasVal := strings.Cut(f, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		boolVal := func() (bool, error) {
			if !hasVal {
				return true, nil
			}
			b, err := strconv.ParseBool(val)
			if err != nil {
				return false, fmt.Errorf("%s=%q: want true or false", key, val)
			}
			return b, nil
		}
		if !hasVal && !slices.Contains([]string{"readonly", "ro", "bind-nonrecursive", "volume-nocopy"}, key) {
			return bad("field %q: want KEY=VALUE", f)
		}
		switch key {
		case "type":
			m.Type = MountType(strings.ToLower(val))
			if !slices.Contains([]MountType{MountBind, MountVolume, MountTmpfs}, m.Type) {
				return bad("type %q: want bind, volume or tmpfs", val)
			}
		case "source", "src":
			m.Source = val
		case "target", "destination", "dst":
			m.Destination = val
		case "readonly", "ro":
			if m.ReadOnly, err = boolVal(); err != nil {
				return bad("%v", err)
			}
		case "bind-propagation":
			if !slices.Contains(propagations, val) {
				return bad("bind-propagation %q: want one of %s", val, strings.Join(propagations, ", "))
			}
			m.Propagation, kinds = val, append(kinds, MountBind)
		case "bind-nonrecursive":
			if m.NonRecursive, err = boolVal(); err != nil {
				return bad("%v", err)
			}
			kinds = append(kinds, MountBind)
		case "volume-nocopy":
			if m.NoCopy, err = boolVal(); err != nil {
				return bad("%v", err)
			}
			kinds = append(kinds, MountVolume)
		case "volume-driver":
			if val != "local" {
				return bad("volume-driver %q: only local volumes are supported", val)
			}
			kinds = append(kinds, MountVolume)
		case "tmpfs-size":
			n, err := ParseMemory(val)
			if err != nil || n <= 0 {
				return bad("tmpfs-size %q: want a size such as 64m", val)
			}
			m.TmpfsOptions, kinds = append(m.TmpfsOptions, "size="+strconv.FormatInt(n, 10)), append(kinds, MountTmpfs)
		case "tmpfs-mode":
			mode, err := strconv.ParseUint(val, 8, 32)
			if err != nil || mode > 0o7777 {
				return bad("tmpfs-mode %q: want an octal mode such as 1777", val)
			}
			m.TmpfsOptions, kinds = append(m.TmpfsOptions, fmt.Sprintf("mode=%o", mode)), append(kinds, MountTmpfs)
		case "consistency":
		default:
			return bad("unknown field %q", key)
		}
	}
	for _, k := range kinds {
		if k != m.Type {
			return bad("%s options on a %s mount", k, m.Type)
		}
	}
	if err := checkDestination(m.Destination); err != nil {
		return bad("%v", err)
	}
	switch {
	case m.Type == MountBind && !path.IsAbs(m.Source):
		return bad("a bind mount needs an absolute source path")
	case m.Type == MountVolume && m.Source != "" && !volumeName.MatchString(m.Source):
		return bad("volume name %q: want letters, digits and _.-", m.Source)
	case m.Type == MountTmpfs && m.Source != "":
		return bad("a tmpfs mount takes no source")
	}
	return m, nil
}

// ParseTmpfs parses a --tmpfs value, "DST[:OPTIONS]" with comma-separated
// mount options such as size=64m, mode=1777, exec or ro.
func ParseTmpfs(spec string) (MountPoint, error) {
	dst, opts, _ := strings.Cut(spec, ":")
	if err := checkDestination(dst); err != nil {
		return MountPoint{}, invalidf("tmpfs %q: %v", spec, err)
	}
	var list []string
	if opts != "" {
		list = strings.Split(opts, ",")
	}
	if err := checkTmpfsOptions(list); err != nil {
		return MountPoint{}, invalidf("tmpfs %q: %v", spec, err)
	}
	return MountPoint{Type: MountTmpfs, Destination: dst, TmpfsOptions: list}, nil
}

// checkDestination accepts absolute container paths other than "/".
func checkDestination(dst string) error {
	switch {
	case dst == "":
		return fmt.Errorf("no destination")
	case !path.IsAbs(dst):
		return fmt.Errorf("destination %q is not an absolute path", dst)
	case path.Clean(dst) == "/":
		return fmt.Errorf("destination cannot be /")
	}
	return nil
}

// tmpfsFlags pairs each mount flag with its opposite; both spellings of a
// pair are one setting, of which the last given wins.
var tmpfsFlags = map[string]string{
	"ro": "rw", "exec": "noexec", "suid": "nosuid", "dev": "nodev",
	"atime": "noatime", "diratime": "nodiratime", "relatime": "norelatime",
	"strictatime": "nostrictatime", "sync": "async", "mand": "nomand",
}

var tmpfsKeys = []string{"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol", "huge"}

// tmpfsSetting names the setting an option belongs to.
func tmpfsSetting(opt string) (string, bool) {
	if k, _, ok := strings.Cut(opt, "="); ok {
		return k, slices.Contains(tmpfsKeys, k)
	}
	if slices.Contains(propagations, opt) || opt == "unbindable" || opt == "runbindable" {
		return "propagation", true
	}
	for a, b := range tmpfsFlags {
		if opt == a || opt == b {
			return a, true
		}
	}
	return opt, opt == "dirsync" || opt == "noswap"
}

func checkTmpfsOptions(opts []string) error {
	for _, o := range opts {
		if _, ok := tmpfsSetting(o); !ok {
			return fmt.Errorf("unknown tmpfs option %q", o)
		}
		if k, v, ok := strings.Cut(o, "="); ok && k == "size" {
			// tmpfs also takes a share of RAM: size=50%.
			pct, isPct := strings.CutSuffix(v, "%")
			if _, err := strconv.ParseUint(pct, 10, 8); isPct && err == nil {
				continue
			}
			if _, err := ParseMemory(v); err != nil {
				return fmt.Errorf("size %q: want a size such as 64m or 50%%", v)
			}
		}
	}
	return nil
}

// mergeTmpfsOptions keeps the last value of each setting ("exec" after the
// default "noexec" wins, a later size= replaces an earlier one), in the
// order the settings first appeared. size= values in Docker's units
// ("64m") are turned into bytes, which the kernel also understands.
func mergeTmpfsOptions(opts []string) []string {
	last := map[string]string{}
	var order []string
	for _, o := range opts {
		k, _ := tmpfsSetting(o)
		if _, seen := last[k]; !seen {
			order = append(order, k)
		}
		if sz, ok := strings.CutPrefix(o, "size="); ok {
			if n, err := ParseMemory(sz); err == nil {
				o = "size=" + strconv.FormatInt(n, 10)
			}
		}
		last[k] = o
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, last[k])
	}
	return out
}

// WithMounts adds mounts to the container, as Docker adds -v, --mount and
// --tmpfs: a mount replaces any earlier one at the same destination (so
// --tmpfs /dev/shm replaces the default /dev/shm), a mount at /dev
// replaces every default mount under /dev, and the new mounts are added
// parents first. A shared or slave bind makes the rootfs propagation
// shared or rslave, without which the propagation could not work.
func WithMounts(mounts ...specs.Mount) Opt {
	return func(s *specs.Spec) error {
		for _, m := range mounts {
			if err := checkDestination(m.Destination); err != nil {
				return invalidf("mount: %v", err)
			}
		}
		dests := map[string]bool{}
		for _, m := range mounts {
			dests[path.Clean(m.Destination)] = true
		}
		s.Mounts = slices.DeleteFunc(s.Mounts, func(m specs.Mount) bool {
			d := path.Clean(m.Destination)
			return dests[d] || dests["/dev"] && strings.HasPrefix(d, "/dev/")
		})
		add := make([]specs.Mount, len(mounts))
		for i, m := range mounts {
			m.Destination = path.Clean(m.Destination)
			m.Options = slices.Clone(m.Options)
			add[i] = m
		}
		slices.SortStableFunc(add, func(a, b specs.Mount) int {
			return strings.Count(a.Destination, "/") - strings.Count(b.Destination, "/")
		})
		s.Mounts = append(s.Mounts, add...)

		l := linux(s)
		for _, m := range add {
			switch {
			case slices.Contains(m.Options, "shared") || slices.Contains(m.Options, "rshared"):
				if l.RootfsPropagation != "shared" && l.RootfsPropagation != "rshared" {
					l.RootfsPropagation = "shared"
				}
			case slices.Contains(m.Options, "slave") || slices.Contains(m.Options, "rslave"):
				if !slices.Contains([]string{"shared", "rshared", "slave", "rslave"}, l.RootfsPropagation) {
					l.RootfsPropagation = "rslave"
				}
			}
		}
		return nil
	}
}

// WithTmpfs mounts a tmpfs at dst (--tmpfs DST:OPTIONS), noexec, nosuid
// and nodev unless options say otherwise, as in Docker.
func WithTmpfs(dst string, options ...string) Opt {
	return func(s *specs.Spec) error {
		if err := checkDestination(dst); err != nil {
			return invalidf("tmpfs: %v", err)
		}
		if err := checkTmpfsOptions(options); err != nil {
			return invalidf("tmpfs %s: %v", dst, err)
		}
		m, err := MountPoint{Type: MountTmpfs, Destination: dst, TmpfsOptions: options}.Spec()
		if err != nil {
			return err
		}
		return WithMounts(m)(s)
	}
}
