package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"google.golang.org/grpc/codes"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/ctl/internal/progress"
	"github.com/berth-project/berth/supervisor/api"
)

func newCreateCommand() *cobra.Command {
	var o containerOptions
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create a new container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := o.config(cmd.Flags(), args[0], args[1:])
			if err != nil {
				return statusError{125, err}
			}
			// As in Docker, a container created with -i is meant for
			// start -ai: its stdin closes with the attached client's.
			cfg.AttachStdin, cfg.StdinOnce = o.interactive, o.interactive
			cfg.AttachStdout, cfg.AttachStderr = true, true
			return runCreate(cmd.Context(), o.name, cfg)
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

func runCreate(ctx context.Context, name string, cfg *api.ContainerConfig) error {
	c, err := dial(ctx)
	if err != nil {
		return statusError{125, err}
	}
	defer c.Close()
	id, err := createContainer(ctx, c, name, cfg)
	if err != nil {
		return statusError{125, err}
	}
	fmt.Println(id)
	return nil
}

// createContainer creates a container, pulling its image first if berthd
// does not have it, as `docker create` and `docker run` do.
func createContainer(ctx context.Context, c *client.Client, name string, cfg *api.ContainerConfig) (string, error) {
	req := &api.CreateContainerRequest{Name: name, Config: cfg}
	resp, err := c.Containers.Create(ctx, req)
	if de, ok := client.Wrap(err).(*client.DaemonError); ok && de.Code == codes.NotFound && strings.HasPrefix(de.Msg, "No such image") {
		fmt.Fprintf(os.Stderr, "Unable to find image '%s' locally\n", imageWithTag(cfg.Image))
		if err := pullQuiet(ctx, c, cfg.Image, os.Stderr); err != nil {
			return "", err
		}
		resp, err = c.Containers.Create(ctx, req)
	}
	if err != nil {
		return "", client.Wrap(err)
	}
	for _, w := range resp.Warnings {
		fmt.Fprintf(os.Stderr, "WARNING: %s\n", w)
	}
	return resp.Id, nil
}

func imageWithTag(ref string) string {
	if !strings.ContainsAny(lastComponent(ref), ":@") {
		return ref + ":latest"
	}
	return ref
}

// pullQuiet pulls ref, rendering progress on w (stderr for run).
func pullQuiet(ctx context.Context, c *client.Client, ref string, w io.Writer) error {
	stream, err := c.Images.Pull(ctx, &api.PullRequest{Reference: ref, Auth: registryAuth(ref)})
	if err != nil {
		return client.Wrap(err)
	}
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	r := progress.New(w, tty)
	for {
		p, err := stream.Recv()
		if err == io.EOF {
			return fmt.Errorf("pull %s: berthd closed the stream early", ref)
		}
		if err != nil {
			return client.Wrap(err)
		}
		if p.Done {
			return nil // the final event is the reference, which run does not print
		}
		r.Event(p)
	}
}
