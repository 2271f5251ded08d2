// Command berth-runtime is an OCI runtime with runc's command line: it turns
// an OCI bundle into namespaced, cgroup-limited processes. Each subcommand
// lives in its own file; this file holds the global flags and error handling.
package main

import (
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	_ "github.com/berth-project/berth/runtime/internal/nsenter" // joins namespaces before the Go runtime starts
)

// globals are runc's global flags, shared by every subcommand.
type globals struct {
	root          string
	log           string
	logFormat     string
	debug         bool
	systemdCgroup bool
	rootless      string
}

var g globals

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runInit() // never returns
	}
	// Commands live for milliseconds: no garbage collection unless the
	// heap gets large (events runs for long, but allocates little).
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(64 << 20)
	takeCreatedFD()
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		os.Exit(reportError(err))
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "berth-runtime",
		Short:         "an OCI runtime with runc's command line",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return setupLogging()
		},
	}
	root.SetVersionTemplate(versionText())
	f := root.PersistentFlags()
	f.StringVar(&g.root, "root", defaultRoot(), "root directory for storage of container state")
	f.StringVar(&g.log, "log", "", "log file path (default stderr)")
	f.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	f.BoolVar(&g.debug, "debug", false, "enable debug logging")
	f.BoolVar(&g.systemdCgroup, "systemd-cgroup", false, "interpret cgroupsPath as slice:prefix:name")
	f.StringVar(&g.rootless, "rootless", "auto", "ignored, for compatibility with runc")
	f.String("criu", "criu", "ignored, for compatibility with runc")
	f.MarkHidden("criu")
	root.AddCommand(
		newSpecCmd(),
		newCreateCmd(),
		newStartCmd(),
		newRunCmd(),
		newStateCmd(),
		newKillCmd(),
		newDeleteCmd(),
		newListCmd(),
		newPsCmd(),
		newExecCmd(),
		newPauseCmd(),
		newResumeCmd(),
		newUpdateCmd(),
		newFeaturesCmd(),
		newEventsCmd(),
	)
	return root
}
