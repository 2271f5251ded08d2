package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newInfoCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "info [OPTIONS]",
		Short: "Display system-wide information",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInfo(cmd.Context(), os.Stdout, format)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format the output using a Go template")
	return cmd
}

// runInfo prints berthd's Docker-shaped info. Templates see the server's
// fields at the top, and the client's under .ClientInfo, as Docker's do.
func runInfo(ctx context.Context, w io.Writer, format string) error {
	cl := map[string]any{"Version": version, "Debug": false}
	var info map[string]any
	var serverErr error
	if c, err := dial(ctx); err != nil {
		serverErr = err
	} else {
		defer c.Close()
		resp, err := c.System().Info(ctx, &api.InfoRequest{})
		if err != nil {
			serverErr = client.Wrap(err)
		} else if err := json.Unmarshal(resp.GetJson(), &info); err != nil {
			return fmt.Errorf("berthd's info: %w", err)
		}
	}
	if format != "" {
		if info == nil {
			info = map[string]any{}
		}
		info["ClientInfo"] = cl
		if err := executeTemplate(w, format, info); err != nil {
			return err
		}
		return serverErr
	}
	fmt.Fprintf(w, "Client:\n Version:    %v\n Debug Mode: %v\n", cl["Version"], cl["Debug"])
	if info != nil {
		fmt.Fprintln(w)
		printInfo(w, info)
	}
	return serverErr
}

func printInfo(w io.Writer, in map[string]any) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("Server:")
	p(" Containers: %v", in["Containers"])
	p("  Running: %v", in["ContainersRunning"])
	p("  Paused: %v", in["ContainersPaused"])
	p("  Stopped: %v", in["ContainersStopped"])
	p(" Images: %v", in["Images"])
	p(" Server Version: %v", in["ServerVersion"])
	p(" Storage Driver: %v", in["Driver"])
	p(" Logging Driver: %v", in["LoggingDriver"])
	p(" Cgroup Driver: %v", in["CgroupDriver"])
	p(" Cgroup Version: %v", in["CgroupVersion"])
	if rts, ok := in["Runtimes"].(map[string]any); ok {
		names := make([]string, 0, len(rts))
		for n := range rts {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprint(w, " Runtimes:")
		for _, n := range names {
			fmt.Fprint(w, " ", n)
		}
		fmt.Fprintln(w)
	}
	p(" Default Runtime: %v", in["DefaultRuntime"])
	if opts, ok := in["SecurityOptions"].([]any); ok && len(opts) > 0 {
		p(" Security Options:")
		for _, o := range opts {
			// Docker's "name=seccomp,profile=builtin" is shown as the name
			// and its properties under it.
			s, _ := o.(string)
			for i, part := range strings.Split(s, ",") {
				k, v, _ := strings.Cut(part, "=")
				if k == "" {
					continue
				}
				if i == 0 && k == "name" {
					p("  %s", v)
				} else {
					p("   %s: %s", strings.ToUpper(k[:1])+k[1:], v)
				}
			}
		}
	}
	p(" Kernel Version: %v", in["KernelVersion"])
	p(" Operating System: %v", in["OperatingSystem"])
	p(" OSType: %v", in["OSType"])
	p(" Architecture: %v", in["Architecture"])
	p(" CPUs: %v", in["NCPU"])
	if mem, ok := in["MemTotal"].(float64); ok {
		p(" Total Memory: %.2fGiB", mem/(1<<30))
	}
	p(" Name: %v", in["Name"])
	p(" Berth Root Dir: %v", in["DockerRootDir"])
	p(" Debug Mode: %v", in["Debug"])
	if regs, ok := in["InsecureRegistries"].([]any); ok && len(regs) > 0 {
		p(" Insecure Registries:")
		for _, r := range regs {
			p("  %v", r)
		}
	}
	p(" Live Restore Enabled: %v", in["LiveRestoreEnabled"])
}
