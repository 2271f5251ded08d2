package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newSaveCommand() *cobra.Command {
	var output, fmtName string
	cmd := &cobra.Command{
		Use:   "save [OPTIONS] IMAGE [IMAGE...]",
		Short: "Save one or more images to a tar archive (streamed to STDOUT by default)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSave(cmd.Context(), args, output, fmtName)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to a file, instead of STDOUT")
	cmd.Flags().StringVar(&fmtName, "format", "docker-archive", "archive format: docker-archive or oci-archive")
	return cmd
}

func runSave(ctx context.Context, names []string, output, format string) (err error) {
	var out io.Writer = os.Stdout
	var tmp *os.File
	if output == "" {
		if term.IsTerminal(int(os.Stdout.Fd())) {
			return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
		}
	} else {
		// Write beside the target and rename, so a failed save leaves
		// no truncated archive behind.
		tmp, err = os.CreateTemp(filepath.Dir(output), ".berth-save-")
		if err != nil {
			return err
		}
		defer func() {
			tmp.Close()
			if err != nil {
				os.Remove(tmp.Name())
			}
		}()
		out = tmp
	}
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	stream, err := c.Images.Save(ctx, &api.SaveRequest{Names: names, Format: format})
	if err != nil {
		return client.Wrap(err)
	}
	for {
		chunk, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return client.Wrap(err)
		}
		if _, err := out.Write(chunk.Data); err != nil {
			return fmt.Errorf("write %s: %w", output, err)
		}
	}
	if tmp != nil {
		if err := tmp.Chmod(0o644); err != nil {
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		return os.Rename(tmp.Name(), output)
	}
	return nil
}
