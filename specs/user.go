package specs

import (
	"errors"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// passwdEntry and groupEntry are the fields of /etc/passwd and /etc/group
// lines that user resolution needs.
type passwdEntry struct {
	name     string
	uid, gid uint32
	home     string
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// ResolveUser resolves a Docker user spec ("", "name", "uid", "name:group",
// "uid:gid", ...) against the /etc/passwd and /etc/group of the image at
// rootfs, the way Docker does for `--user` and the image's USER:
//
//   - "" means root (uid 0);
//   - a user found in passwd (by name, or by uid if numeric) gives its
//     uid, primary gid and home; a numeric uid with no entry is allowed and
//     gets gid 0 and home "/"; an unknown name is an error;
//   - an explicit group (name or gid) replaces the primary gid, and a
//     numeric gid need not exist in /etc/group;
//   - without an explicit group, the groups of /etc/group that list the
//     user as a member become supplementary groups.
//
// The returned user's AdditionalGids start with its primary gid, as
// Docker's do. Both files are read inside rootfs without following
// symlinks out of it; a missing file counts as empty.
func ResolveUser(rootfs, user string) (specs.User, string, error) {
	userPart, groupPart, hasGroup := strings.Cut(user, ":")
	if (hasGroup && groupPart == "") || (userPart == "" && user != "") {
		return specs.User{}, "", invalidf("user %q: want USER[:GROUP]", user)
	}
	if userPart == "" {
		userPart = "0"
	}
	passwd, err := readPasswd(rootfs)
	if err != nil {
		return specs.User{}, "", err
	}
	uid, uidErr := parseID(userPart)
	i := slices.IndexFunc(passwd, func(e passwdEntry) bool {
		if uidErr == nil {
			return e.uid == uid
		}
		return e.name == userPart
	})

	u := specs.User{UID: uid}
	home, name := "/", ""
	switch {
	case i >= 0:
		u.UID, u.GID, home, name = passwd[i].uid, passwd[i].gid, passwd[i].home, passwd[i].name
		if home == "" {
			home = "/"
		}
	case uidErr != nil:
		return specs.User{}, "", invalidf("user %q: no such user in the image's /etc/passwd", userPart)
	}

	var sgids []uint32
	if hasGroup || name != "" {
		groups, err := readGroup(rootfs)
		if err != nil {
			return specs.User{}, "", err
		}
		if hasGroup {
			gid, gidErr := parseID(groupPart)
			j := slices.IndexFunc(groups, func(g groupEntry) bool {
				if gidErr == nil {
					return g.gid == gid
				}
				return g.name == groupPart
			})
			switch {
			case j >= 0:
				u.GID = groups[j].gid
			case gidErr != nil:
				return specs.User{}, "", invalidf("group %q: no such group in the image's /etc/group", groupPart)
			default:
				u.GID = gid
			}
		} else {
			for _, g := range groups {
				if slices.Contains(g.members, name) && g.gid != u.GID && !slices.Contains(sgids, g.gid) {
					sgids = append(sgids, g.gid)
				}
			}
		}
	}
	u.AdditionalGids = append([]uint32{u.GID}, sgids...)
	return u, home, nil
}

// parseID parses a numeric uid or gid. Ids are 32 bits, but -1
// (4294967295) is the kernel's "no change" and is refused.
func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == math.MaxUint32 {
		return 0, strconv.ErrRange
	}
	return uint32(n), nil
}

func readPasswd(rootfs string) ([]passwdEntry, error) {
	lines, err := readColonFile(rootfs, "/etc/passwd")
	if err != nil {
		return nil, err
	}
	var out []passwdEntry
	for _, f := range lines {
		// name:password:uid:gid:gecos:home:shell
		if len(f) < 4 {
			continue
		}
		uid, err1 := parseID(f[2])
		gid, err2 := parseID(f[3])
		if f[0] == "" || err1 != nil || err2 != nil {
			continue
		}
		e := passwdEntry{name: f[0], uid: uid, gid: gid}
		if len(f) > 5 {
			e.home = f[5]
		}
		out = append(out, e)
	}
	return out, nil
}

func readGroup(rootfs string) ([]groupEntry, error) {
	lines, err := readColonFile(rootfs, "/etc/group")
	if err != nil {
		return nil, err
	}
	var out []groupEntry
	for _, f := range lines {
		// name:password:gid:member,member
		if len(f) < 3 {
			continue
		}
		gid, err := parseID(f[2])
		if f[0] == "" || err != nil {
			continue
		}
		g := groupEntry{name: f[0], gid: gid}
		if len(f) > 3 && f[3] != "" {
			g.members = strings.Split(f[3], ",")
		}
		out = append(out, g)
	}
	return out, nil
}

// readColonFile reads a passwd-style file from rootfs and splits each
// line into its colon-separated fields. Blank lines, comments and NIS
// "+"/"-" lines are skipped, as glibc skips what it cannot use.
func readColonFile(rootfs, name string) ([][]string, error) {
	data, err := readRootfsFile(rootfs, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &fs.PathError{Op: "read image file", Path: name, Err: unwrapPathError(err)}
	}
	var out [][]string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	return out, nil
}

// unwrapPathError strips a *PathError so the path is not printed twice.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
