package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newImportCommand() *cobra.Command {
	var message string
	cmd := &cobra.Command{
		Use:   "import [OPTIONS] file|- [REPOSITORY[:TAG]]",
		Short: "Import the contents from a tarball to create a filesystem image",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := ""
			if len(args) == 2 {
				ref = args[1]
			}
			return runImport(cmd.Context(), args[0], ref, message)
		},
	}
	cmd.Flags().StringVarP(&message, "message", "m", "", "set commit message for imported image")
	return cmd
}

func runImport(ctx context.Context, file, ref, message string) error {
	var in io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	stream, err := c.Images.Import(ctx)
	if err != nil {
		return client.Wrap(err)
	}
	if err := stream.Send(&api.ImportRequest{Reference: ref, Message: message}); err != nil {
		return client.Wrap(err)
	}
	if err := sendChunks(in, func(b []byte) error { return stream.Send(&api.ImportRequest{Data: b}) }); err != nil {
		return err
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return client.Wrap(err)
	}
	fmt.Println(resp.ImageId)
	return nil
}
