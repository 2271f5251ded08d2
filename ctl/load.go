package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newLoadCommand() *cobra.Command {
	var input string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "load [OPTIONS]",
		Short: "Load images from a tar archive (Docker archive or OCI layout) or STDIN",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLoad(cmd.Context(), input, quiet)
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "read from tar archive file, instead of STDIN")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "suppress the load output")
	return cmd
}

// sendChunks streams r to berthd in chunks of at most 1 MiB.
func sendChunks(r io.Reader, send func([]byte) error) error {
	buf := make([]byte, 1<<20)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if serr := send(buf[:n]); serr != nil {
				return client.Wrap(serr)
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func runLoad(ctx context.Context, input string, quiet bool) error {
	var in io.Reader = os.Stdin
	if input != "" {
		f, err := os.Open(input)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	} else if term.IsTerminal(int(os.Stdin.Fd())) {
		return errors.New("requested load from stdin, but stdin is empty")
	}
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	stream, err := c.Images.Load(ctx)
	if err != nil {
		return client.Wrap(err)
	}
	if err := sendChunks(in, func(b []byte) error { return stream.Send(&api.DataChunk{Data: b}) }); err != nil {
		return err
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return client.Wrap(err)
	}
	if !quiet {
		for _, l := range resp.Loaded {
			fmt.Println(l)
		}
	}
	return nil
}
