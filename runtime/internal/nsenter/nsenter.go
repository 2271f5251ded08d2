// Package nsenter joins and creates namespaces for berth-runtime's init and
// exec processes before the Go runtime starts. Importing it (for its side
// effect) links in a C constructor; see README.md for the protocol.
package nsenter

/*
#cgo CFLAGS: -Wall -O2
extern void berth_nsenter(void);
void __attribute__((constructor)) berth_nsenter_init(void) { berth_nsenter(); }
*/
import "C"
