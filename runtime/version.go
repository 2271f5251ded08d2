package main

import (
	"fmt"
	"runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

var commit = "unknown"

// versionText follows runc's layout: dockerd parses the "version" and
// "commit:" lines of `<runtime> --version` for `docker info`.
func versionText() string {
	return fmt.Sprintf("berth-runtime version %s\ncommit: %s\nspec: %s\ngo: %s\n", version, commit, specs.Version, runtime.Version())
}
