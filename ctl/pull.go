package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/ctl/internal/progress"
	"github.com/berth-project/berth/supervisor/api"
)

type pullOptions struct {
	platform string
	quiet    bool
	insecure bool
}

func newPullCommand() *cobra.Command {
	var o pullOptions
	cmd := &cobra.Command{
		Use:   "pull [OPTIONS] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPull(cmd.Context(), args[0], o)
		},
	}
	cmd.Flags().StringVar(&o.platform, "platform", "", "platform os/arch[/variant] (default: this host's)")
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print only the image reference")
	cmd.Flags().BoolVar(&o.insecure, "insecure", false, "allow plain HTTP and unverified TLS for this registry")
	return cmd
}

func runPull(ctx context.Context, ref string, o pullOptions) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if !o.quiet && !strings.ContainsAny(lastComponent(ref), ":@") {
		fmt.Println("Using default tag: latest")
	}
	stream, err := c.Images.Pull(ctx, &api.PullRequest{
		Reference: ref, Platform: o.platform, Auth: registryAuth(ref), Insecure: o.insecure,
	})
	if err != nil {
		return client.Wrap(err)
	}
	var out io.Writer = os.Stdout
	if o.quiet {
		out = io.Discard
	}
	r := progress.New(out, !o.quiet && term.IsTerminal(int(os.Stdout.Fd())))
	for {
		p, err := stream.Recv()
		if err == io.EOF {
			return fmt.Errorf("pull %s: berthd closed the stream early", ref)
		}
		if err != nil {
			return client.Wrap(err)
		}
		if p.Done {
			fmt.Println(p.Status)
			return nil
		}
		r.Event(p)
	}
}

func lastComponent(ref string) string {
	if i := strings.LastIndexByte(ref, '/'); i >= 0 {
		return ref[i+1:]
	}
	return ref
}
