// Command containerd-shim-berth-v2 is berth's containerd shim v2: one
// long-lived process per container (or per group of containers) that runs
// the OCI runtime, keeps the container's stdio, logs and exit status, reaps
// its processes and serves containerd's task API over ttrpc. containerd
// resolves runtime "io.containerd.berth.v2" to this binary; berthd drives it
// the same way.
//
// Invocations (flags in Go flag syntax, before the action):
//
//	containerd-shim-berth-v2 -namespace NS -address ADDR -id ID [-debug] start
//	containerd-shim-berth-v2 -namespace NS -address ADDR -id ID -bundle DIR delete
//	containerd-shim-berth-v2 -namespace NS -address ADDR -id ID [-debug]   (the daemon; started by start)
//	containerd-shim-berth-v2 -v
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

// version is the shim's version, set at link time (-X main.version=...).
var version = "dev"

// options are the shim's command-line flags, as containerd passes them.
type options struct {
	namespace     string
	id            string
	address       string // the caller's (containerd's) socket
	publishBinary string
	bundle        string
	socket        string
	debug         bool
	version       bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("containerd-shim-berth-v2", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.namespace, "namespace", "", "namespace of the container")
	fs.StringVar(&o.id, "id", "", "id of the container (or of its group)")
	fs.StringVar(&o.address, "address", "", "the caller's (containerd's) socket address")
	fs.StringVar(&o.publishBinary, "publish-binary", "", "ignored: events go to TTRPC_ADDRESS")
	fs.StringVar(&o.bundle, "bundle", "", "bundle directory (delete)")
	fs.StringVar(&o.socket, "socket", "", "ignored: the socket is derived from -address")
	fs.BoolVar(&o.debug, "debug", false, "log debug messages")
	fs.BoolVar(&o.version, "v", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.version {
		fmt.Fprintf(stdout, "containerd-shim-berth-v2 version %s\n", version)
		return 0
	}
	var err error
	switch action := fs.Arg(0); action {
	case "start":
		err = runStart(&o, stdout)
	case "delete":
		err = runDelete(&o, stdout, stderr)
	case "":
		err = runServe(&o)
	default:
		err = fmt.Errorf("unknown action %q (want start or delete)", action)
	}
	if err != nil {
		fmt.Fprintf(stderr, "containerd-shim-berth-v2: %v\n", err)
		return 1
	}
	return 0
}

// need checks the flags an action cannot do without.
func (o *options) need(action string, namespace, id, address bool) error {
	switch {
	case namespace && o.namespace == "":
		return fmt.Errorf("%s: -namespace is required", action)
	case id && o.id == "":
		return fmt.Errorf("%s: -id is required", action)
	case address && o.address == "":
		return fmt.Errorf("%s: -address is required", action)
	}
	return nil
}
