package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/template"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

// newTopInspectCommand is `berth inspect`: containers first, then images,
// as Docker's does.
func newTopInspectCommand() *cobra.Command {
	var tmpl, typ string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NAME|ID [NAME|ID...]",
		Short: "Return low-level information on containers or images",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runObjectInspect(cmd.Context(), args, tmpl, typ)
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", "format the output using a Go template")
	cmd.Flags().StringVar(&typ, "type", "", "only inspect objects of this type (container or image)")
	cmd.Flags().BoolP("size", "s", false, "display total file sizes (ignored)")
	return cmd
}

func newContainerInspectCommand() *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Display detailed information on one or more containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runObjectInspect(cmd.Context(), args, tmpl, "container")
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", "format the output using a Go template")
	cmd.Flags().BoolP("size", "s", false, "display total file sizes (ignored)")
	return cmd
}

func runObjectInspect(ctx context.Context, names []string, tmpl, typ string) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	var objs []json.RawMessage
	failed := false
	for _, n := range names {
		var j [][]byte
		var err error
		if typ == "" || typ == "container" {
			var resp *api.InspectContainersResponse
			resp, err = c.Containers.Inspect(ctx, &api.InspectContainersRequest{Names: []string{n}})
			if err == nil {
				j = resp.Json
			}
		}
		if typ == "image" || typ == "" && isNotFound(err) {
			var resp *api.InspectImagesResponse
			resp, err = c.Images.Inspect(ctx, &api.InspectImagesRequest{Names: []string{n}})
			if err == nil {
				j = resp.Json
			}
		}
		if err != nil {
			if isNotFound(err) {
				fmt.Fprintf(os.Stderr, "Error: No such object: %s\n", n)
			} else {
				fmt.Fprintln(os.Stderr, client.Wrap(err))
			}
			failed = true
			continue
		}
		for _, o := range j {
			objs = append(objs, o)
		}
	}
	if err := printJSONObjects(objs, tmpl); err != nil {
		return err
	}
	if failed {
		return exitError{1}
	}
	return nil
}

func isNotFound(err error) bool {
	de, ok := client.Wrap(err).(*client.DaemonError)
	return ok && de.Code == codes.NotFound
}

// printJSONObjects prints objects as Docker's inspect does: an indented
// JSON array, or each through a Go template.
func printJSONObjects(objs []json.RawMessage, tmpl string) error {
	if tmpl != "" {
		for _, o := range objs {
			var v any
			jsonUnmarshal(o, &v)
			if err := executeTemplate(os.Stdout, tmpl, v); err != nil {
				return err
			}
		}
		return nil
	}
	var buf bytes.Buffer
	buf.WriteString("[")
	for i, o := range objs {
		if i > 0 {
			buf.WriteString(",")
		}
		var ind bytes.Buffer
		if json.Indent(&ind, o, "    ", "    ") != nil {
			ind.Reset()
			ind.Write(o)
		}
		buf.WriteString("\n    ")
		buf.Write(ind.Bytes())
	}
	if len(objs) > 0 {
		buf.WriteString("\n")
	}
	buf.WriteString("]\n")
	_, err := os.Stdout.Write(buf.Bytes())
	return err
}

// executeTemplate renders v with a --format template (with Docker's
// `json` function) and a newline.
func executeTemplate(w io.Writer, tmpl string, v any) error {
	t, err := template.New("").Funcs(template.FuncMap{"json": jsonString}).Parse(tmpl)
	if err != nil {
		return fmt.Errorf("template parsing error: %w", err)
	}
	if err := t.Execute(w, v); err != nil {
		return err
	}
	_, err = fmt.Fprintln(w)
	return err
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// jsonUnmarshal decodes JSON for a template as Docker's typed structs
// would show it: whole numbers as int64 (a memory limit prints 33554432,
// not 3.3554432e+07, and `eq .State.ExitCode 0` works), others as float64.
func jsonUnmarshal(b []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	*v = typedNumbers(*v)
	return nil
}

func typedNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = typedNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = typedNumbers(e)
		}
	}
	return v
}

// inspectEach looks each name up with get and prints what was found the way
// `inspect` does; the errors of the others go to stderr, and then the
// command fails if any lookup failed, as Docker does.
func inspectEach(ctx context.Context, names []string, tmpl string,
	get func(ctx context.Context, c *client.Client, name string) ([][]byte, error)) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	var objs []json.RawMessage
	failed := false
	for _, n := range names {
		found, err := get(ctx, c, n)
		if err != nil {
			fmt.Fprintln(os.Stderr, client.Wrap(err))
			failed = true
			continue
		}
		for _, j := range found {
			objs = append(objs, j)
		}
	}
	if err := printJSONObjects(objs, tmpl); err != nil {
		return err
	}
	if failed {
		return exitError{1}
	}
	return nil
}
