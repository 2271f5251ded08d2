// Package containerdtest configures the private containerd instances the
// integration suites start: root, state and sockets under the test's
// directory, CRI off, so that nothing touches the host's containerd.
package containerdtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// WriteConfig writes dir/config.toml for a containerd whose root, state
// and opt dirs are under dir, listening on sock (gRPC) and sock.ttrpc,
// and returns its path.
func WriteConfig(t testing.TB, dir, sock string) string {
	t.Helper()
	cfg := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
[ttrpc]
  address = %q
[debug]
  level = "info"
[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc", filepath.Join(dir, "opt"))
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
