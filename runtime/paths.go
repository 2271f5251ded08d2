package main

import "os"

// defaultRoot is runc's default with our name: /run/berth-runtime, or
// $XDG_RUNTIME_DIR/berth-runtime for an unprivileged user.
func defaultRoot() string {
	if os.Geteuid() != 0 {
		if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
			return d + "/berth-runtime"
		}
	}
	return "/run/berth-runtime"
}
