// Package nsenter joins and creates namespaces for berth-runtime's init and
// exec processes before the Go runtime starts. Importing it (for its side
// effect) links in a C constructor; see README.md for the protocol.
package nsenter

/*
#cgo CFLAGS: -Wall -O2
extern void berth_nsenter(int argc, char **argv);
extern char berth_self[4096];
extern int berth_hostns;
// glibc passes argc, argv and envp to constructors.
void __attribute__((constructor)) berth_nsenter_init(int argc, char **argv) { berth_nsenter(argc, argv); }
*/
import "C"

import (
	"os"
	"strconv"
)

// Self is the path of our binary on the read-only bind mount the
// constructor made for create, run and exec (see nsenter.c), or "" when
// there is none. Children must be started through it.
func Self() string {
	return C.GoString(&C.berth_self[0])
}

// HostMountNS is a path to the mount namespace we were started in, before
// the constructor moved us into a private one, or "" if it did not. A
// container whose config has no mount namespace belongs in that one.
func HostMountNS() string {
	if C.berth_hostns < 0 {
		return ""
	}
	return "/proc/" + strconv.Itoa(os.Getpid()) + "/fd/" + strconv.Itoa(int(C.berth_hostns))
}
