package main

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/ctl/internal/dockerignore"
	"github.com/berth-project/berth/supervisor/api"
)

func newBuildCommand() *cobra.Command {
	var o buildOptions
	cmd := &cobra.Command{
		Use:   "build [OPTIONS] PATH",
		Short: "Build an image from a Dockerfile",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBuild(cmd.Context(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.tags, "tag", "t", nil, "name and optionally a tag in the \"name:tag\" format")
	f.StringVarP(&o.file, "file", "f", "", "name of the Dockerfile (default \"PATH/Dockerfile\")")
	f.StringArrayVar(&o.buildArgs, "build-arg", nil, "set build-time variables")
	f.BoolVar(&o.noCache, "no-cache", false, "do not use cache when building the image")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "suppress the build output and print image ID on success")
	return cmd
}

type buildOptions struct {
	tags, buildArgs []string
	file            string
	noCache, quiet  bool
}

func runBuild(ctx context.Context, dir string, o buildOptions) error {
	if dir == "-" || strings.Contains(dir, "://") {
		return fmt.Errorf("berth build takes a local directory as its context, not %q", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return fmt.Errorf("unable to prepare context: path %q not found", dir)
	}
	dockerfile := "Dockerfile"
	if o.file != "" {
		p, err := filepath.Abs(o.file)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(abs, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return fmt.Errorf("the Dockerfile (%s) must be within the build context (%s)", o.file, dir)
		}
		dockerfile = filepath.ToSlash(rel)
	}
	if _, err := os.Stat(filepath.Join(abs, dockerfile)); err != nil {
		return fmt.Errorf("unable to prepare context: unable to evaluate symlinks in Dockerfile path: %w", err)
	}
	var ignore *dockerignore.Matcher
	if f, err := os.Open(filepath.Join(abs, ".dockerignore")); err == nil {
		ignore, err = dockerignore.Parse(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	args := make([]string, 0, len(o.buildArgs))
	for _, a := range o.buildArgs {
		if !strings.Contains(a, "=") {
			v, ok := os.LookupEnv(a) // Docker: --build-arg NAME takes NAME from the environment
			if !ok {
				continue
			}
			a += "=" + v
		}
		args = append(args, a)
	}

	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	stream, err := c.Build().Build(ctx)
	if err != nil {
		return client.Wrap(err)
	}
	auths := fromAuths(filepath.Join(abs, dockerfile), args)
	if err := stream.Send(&api.BuildInput{Dockerfile: dockerfile, Tags: o.tags, BuildArgs: args, NoCache: o.noCache, Quiet: o.quiet, Auths: auths}); err != nil {
		return client.Wrap(err)
	}
	sendErr := make(chan error, 1)
	go func() {
		w := &buildChunkWriter{send: stream.Send}
		err := packContext(abs, dockerfile, ignore, w)
		if err == nil {
			err = w.flush(true)
		}
		sendErr <- err
	}()
	out := io.Writer(os.Stdout)
	if o.quiet {
		out = io.Discard
	}
	for {
		m, err := stream.Recv()
		if err != nil {
			if serr := <-sendErrOrNil(sendErr); serr != nil {
				return serr
			}
			return client.Wrap(err)
		}
		out.Write(m.GetOutput())
		if !m.GetDone() {
			continue
		}
		if m.GetError() != "" {
			fmt.Fprintln(os.Stderr, m.GetError())
			return exitError{1}
		}
		if o.quiet {
			fmt.Println(m.GetImageId())
		}
		return nil
	}
}

// sendErrOrNil returns ch if the sender finished, or a closed channel.
func sendErrOrNil(ch chan error) <-chan error {
	select {
	case err := <-ch:
		out := make(chan error, 1)
		out <- err
		return out
	default:
		out := make(chan error, 1)
		out <- nil
		return out
	}
}

// buildChunkWriter sends the context tar in chunks.
type buildChunkWriter struct {
	send func(*api.BuildInput) error
	buf  []byte
}

const buildChunk = 256 << 10

func (w *buildChunkWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if len(w.buf) >= buildChunk {
		if err := w.flush(false); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (w *buildChunkWriter) flush(end bool) error {
	for len(w.buf) > 0 || end {
		n := min(len(w.buf), buildChunk)
		last := end && n == len(w.buf)
		if err := w.send(&api.BuildInput{Data: w.buf[:n], End: last}); err != nil {
			return err
		}
		w.buf = w.buf[n:]
		if last {
			break
		}
	}
	w.buf = nil
	return nil
}

// packContext writes the context directory as a tar, leaving out what
// .dockerignore names (never the Dockerfile or .dockerignore itself,
// which the builder needs). Symlinks are sent as symlinks.
func packContext(dir, dockerfile string, ignore *dockerignore.Matcher, w io.Writer) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != dockerfile && rel != ".dockerignore" && ignore.Ignored(rel) {
			if d.IsDir() && !ignore.HasExceptions() {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		} else if !fi.Mode().IsRegular() && !fi.IsDir() {
			return nil
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = rel
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("pack build context: %w", err)
	}
	if err := tw.Close(); err != nil {
		return errors.Join(errors.New("pack build context"), err)
	}
	return nil
}

// fromAuths reads the Dockerfile's FROM images and returns the user's
// credentials for each one that has some (berthd pulls a missing base
// image), keyed by the reference as berthd expands it. Variables in FROM
// are the ARGs declared before the first FROM, with their --build-arg
// values (buildArgs, NAME=VALUE) or defaults; references naming earlier
// stages or scratch need none.
func fromAuths(dockerfile string, buildArgs []string) map[string]*api.RegistryAuth {
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		return nil
	}
	given := map[string]string{}
	for _, a := range buildArgs {
		k, v, _ := strings.Cut(a, "=")
		given[k] = v
	}
	args := map[string]string{}
	seenFrom := false
	out := map[string]*api.RegistryAuth{}
	text := strings.ReplaceAll(string(data), "\\\n", " ") // continuation lines
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "ARG":
			if seenFrom {
				continue // a stage's own ARGs are not seen by FROM
			}
			for _, a := range f[1:] {
				k, def, hasDef := strings.Cut(a, "=")
				if v, ok := given[k]; ok {
					args[k] = v
				} else if hasDef {
					args[k] = strings.Trim(def, `"'`)
				} else {
					args[k] = ""
				}
			}
			continue
		case "FROM":
		default:
			continue
		}
		seenFrom = true
		ref := f[1]
		for i := 1; i < len(f) && strings.HasPrefix(f[i], "--"); i++ { // --platform=...
			if i+1 < len(f) {
				ref = f[i+1]
			}
		}
		ref = os.Expand(ref, func(name string) string { return expandArg(name, args) })
		if ref == "" || strings.EqualFold(ref, "scratch") {
			continue
		}
		if a := registryAuth(ref); a != nil {
			out[ref] = a
		}
	}
	return out
}

// expandArg is the value of a Dockerfile variable for os.Expand: NAME,
// or NAME:-DEFAULT and NAME:+ALTERNATIVE as the Dockerfile reads them.
func expandArg(name string, args map[string]string) string {
	if k, def, ok := strings.Cut(name, ":-"); ok {
		if v := args[k]; v != "" {
			return v
		}
		return def
	}
	if k, alt, ok := strings.Cut(name, ":+"); ok {
		if args[k] != "" {
			return alt
		}
		return ""
	}
	return args[name]
}
