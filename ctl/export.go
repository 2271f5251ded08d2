package main

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newExportCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "export [OPTIONS] CONTAINER",
		Short: "Export a container's filesystem as a tar archive",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExport(cmd.Context(), args[0], output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to a file, instead of STDOUT")
	return cmd
}

func runExport(ctx context.Context, name, output string) error {
	var w io.Writer = os.Stdout
	if output == "" && term.IsTerminal(int(os.Stdout.Fd())) {
		return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
	}
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := c.Containers.Export(ctx, &api.ExportRequest{Id: name})
	if err != nil {
		return client.Wrap(err)
	}
	if output != "" {
		f, err := os.Create(output)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	for {
		chunk, err := st.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return client.Wrap(err)
		}
		if _, err := w.Write(chunk.Data); err != nil {
			return err
		}
	}
}
