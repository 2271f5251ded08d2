package rootfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// mountOpts is a config.json mount's options split the way mount(2) wants
// them.
type mountOpts struct {
	flags       uintptr // MS_* flags for the mount itself
	clear       uintptr // flags explicitly turned off (rw, suid...)
	propagation uintptr // MS_SHARED etc., applied by a separate call
	data        []string
	bind        bool
}

var flagOpts = map[string]struct {
	clear bool
	flag  uintptr
}{
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"nosuid":        {false, unix.MS_NOSUID},
	"suid":          {true, unix.MS_NOSUID},
	"nodev":         {false, unix.MS_NODEV},
	"dev":           {true, unix.MS_NODEV},
	"noexec":        {false, unix.MS_NOEXEC},
	"exec":          {true, unix.MS_NOEXEC},
	"sync":          {false, unix.MS_SYNCHRONOUS},
	"async":         {true, unix.MS_SYNCHRONOUS},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"remount":       {false, unix.MS_REMOUNT},
	"mand":          {false, unix.MS_MANDLOCK},
	"nomand":        {true, unix.MS_MANDLOCK},
	"noatime":       {false, unix.MS_NOATIME},
	"atime":         {true, unix.MS_NOATIME},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"diratime":      {true, unix.MS_NODIRATIME},
	"relatime":      {false, unix.MS_RELATIME},
	"norelatime":    {true, unix.MS_RELATIME},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"bind":          {false, unix.MS_BIND},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
}

var propagationOpts = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// ignoredOpts are options other runtimes understand that make no sense to
// pass to the kernel; dropping them is what runc and crun do.
var ignoredOpts = map[string]bool{"tmpcopyup": true, "idmap": true, "ridmap": true, "copy-symlink": true}

func parseOptions(typ string, opts []string) mountOpts {
	var o mountOpts
	for _, opt := range opts {
		if f, ok := flagOpts[opt]; ok {
			if f.clear {
				o.flags &^= f.flag
				o.clear |= f.flag
			} else {
				o.flags |= f.flag
				o.clear &^= f.flag
			}
			continue
		}
		if p, ok := propagationOpts[opt]; ok {
			o.propagation = p
			continue
		}
		if ignoredOpts[opt] {
			continue
		}
		o.data = append(o.data, opt)
	}
	if typ == "bind" {
		o.flags |= unix.MS_BIND
	}
	o.bind = o.flags&unix.MS_BIND != 0
	return o
}

func (o mountOpts) dataString() string { return strings.Join(o.data, ",") }
