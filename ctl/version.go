package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newVersionCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version [OPTIONS]",
		Short: "Show the berth version information",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVersion(cmd.Context(), os.Stdout, format)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format the output using a Go template")
	return cmd
}

// clientVersion is the Client half of `version`, with Docker's keys.
func clientVersion() map[string]any {
	return map[string]any{
		"Platform":   map[string]string{"Name": "berth"},
		"Version":    version,
		"ApiVersion": "1",
		"GoVersion":  runtime.Version(),
		"Os":         runtime.GOOS,
		"Arch":       runtime.GOARCH,
	}
}

// runVersion prints the client's version, then the server's. As with
// Docker, an unreachable daemon still gets the client part printed, then
// the error (exit 1).
func runVersion(ctx context.Context, w io.Writer, format string) error {
	all := map[string]any{"Client": clientVersion()}
	var serverErr error
	if c, err := dial(ctx); err != nil {
		serverErr = err
	} else {
		defer c.Close()
		resp, err := c.System().Version(ctx, &api.VersionRequest{})
		if err != nil {
			serverErr = client.Wrap(err)
		} else {
			var server map[string]any
			if err := json.Unmarshal(resp.GetJson(), &server); err != nil {
				return fmt.Errorf("berthd's version: %w", err)
			}
			all["Server"] = server
		}
	}
	if format != "" {
		if err := executeTemplate(w, format, all); err != nil {
			return err
		}
		return serverErr
	}
	printVersion(w, all)
	return serverErr
}

func printVersion(w io.Writer, all map[string]any) {
	kv := func(indent, key string, v any) { fmt.Fprintf(w, "%s%-*s %v\n", indent, 19-len(indent), key+":", v) }
	cl := all["Client"].(map[string]any)
	fmt.Fprintln(w, "Client:")
	kv(" ", "Version", cl["Version"])
	kv(" ", "API version", cl["ApiVersion"])
	kv(" ", "Go version", cl["GoVersion"])
	kv(" ", "OS/Arch", fmt.Sprintf("%v/%v", cl["Os"], cl["Arch"]))
	srv, ok := all["Server"].(map[string]any)
	if !ok {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Server:")
	comps, _ := srv["Components"].([]any)
	for _, c := range comps {
		comp, _ := c.(map[string]any)
		name, _ := comp["Name"].(string)
		fmt.Fprintf(w, " %s:\n", name)
		kv("  ", "Version", comp["Version"])
		if name != "Engine" {
			continue
		}
		d, _ := comp["Details"].(map[string]any)
		kv("  ", "API version", d["ApiVersion"])
		kv("  ", "Go version", d["GoVersion"])
		kv("  ", "OS/Arch", fmt.Sprintf("%v/%v", d["Os"], d["Arch"]))
		kv("  ", "Kernel Version", d["KernelVersion"])
	}
}
