package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/specs"
)

func newSpecCmd() *cobra.Command {
	var (
		bundle   string
		rootless bool
	)
	cmd := &cobra.Command{
		Use:   "spec",
		Short: "create a new specification file (config.json) for a bundle",
		Long: `Write a starter config.json into the bundle directory (the current
directory by default): "sh" on a terminal in a read-only rootfs named
"rootfs", with the same defaults as runc spec. Edit it before use, e.g. set
process.args. --rootless writes a config for an unprivileged user: a user
namespace mapping the current user to root, the host network, no cgroup limits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSpec(bundle, rootless)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&bundle, "bundle", "b", "", "path to the root of the bundle directory")
	// This local --rootless (a switch) shadows the global --rootless (a
	// string that is ignored) for this command only, as in runc.
	f.BoolVar(&rootless, "rootless", false, "generate a configuration for a rootless container")
	return cmd
}

// runSpec writes the default spec to bundle/config.json. It never overwrites
// an existing file: O_EXCL makes the check and the creation one step.
func runSpec(bundle string, rootless bool) (err error) {
	var opts []specs.Opt
	if rootless {
		opts = append(opts, specs.WithRootless())
	}
	s, err := specs.New(opts...)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		return fmt.Errorf("encode spec: %w", err)
	}

	path := filepath.Join(bundle, "config.json")
	// 0666 before the umask, like runc: config.json holds nothing secret.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if errors.Is(err, fs.ErrExist) {
		// runc's wording, capital letter included: scripts match on it.
		return fmt.Errorf("File %s exists. Remove it first", path) //nolint:staticcheck // runc's message
	}
	if err != nil {
		return err // *PathError: "open PATH: reason"
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path) // do not leave a truncated config.json behind
		}
	}()
	_, err = f.Write(data)
	return err
}
