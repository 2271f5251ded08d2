package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/ctl/internal/progress"
	"github.com/berth-project/berth/supervisor/api"
)

func newPushCommand() *cobra.Command {
	var quiet, insecure bool
	cmd := &cobra.Command{
		Use:   "push [OPTIONS] NAME[:TAG]",
		Short: "Upload an image to a registry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPush(cmd.Context(), args[0], quiet, insecure)
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "suppress verbose output")
	cmd.Flags().BoolVar(&insecure, "insecure", false, "allow plain HTTP and unverified TLS for this registry")
	return cmd
}

func runPush(ctx context.Context, ref string, quiet, insecure bool) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	stream, err := c.Images.Push(ctx, &api.PushRequest{Reference: ref, Auth: registryAuth(ref), Insecure: insecure})
	if err != nil {
		return client.Wrap(err)
	}
	var out io.Writer = os.Stdout
	if quiet {
		out = io.Discard
	}
	r := progress.New(out, !quiet && term.IsTerminal(int(os.Stdout.Fd())))
	for {
		p, err := stream.Recv()
		if err == io.EOF {
			return fmt.Errorf("push %s: berthd closed the stream early", ref)
		}
		if err != nil {
			return client.Wrap(err)
		}
		if p.Done {
			if quiet {
				fmt.Println(ref)
			}
			return nil
		}
		r.Event(p)
	}
}
