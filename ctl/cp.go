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
	"syscall"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/internal/chunkio"
	"github.com/berth-project/berth/supervisor/api"
)

type cpOptions struct {
	archive, followLink bool
}

func newCpCommand() *cobra.Command {
	var o cpOptions
	cmd := &cobra.Command{
		Use:   "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n  berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		Short: "Copy files/folders between a container and the local filesystem",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCp(cmd.Context(), args[0], args[1], o)
		},
	}
	cmd.Flags().BoolVarP(&o.archive, "archive", "a", false, "archive mode (copy all uid/gid information)")
	cmd.Flags().BoolVarP(&o.followLink, "follow-link", "L", false, "always follow symbol link in SRC_PATH")
	return cmd
}

// splitCpArg splits CONTAINER:PATH; a local path has no container (a
// path with a slash before any colon is local, as in Docker).
func splitCpArg(arg string) (container, path string) {
	if filepath.IsAbs(arg) || strings.HasPrefix(arg, ".") {
		return "", arg
	}
	c, p, ok := strings.Cut(arg, ":")
	if !ok || strings.Contains(c, "/") {
		return "", arg
	}
	return c, p
}

func runCp(ctx context.Context, src, dst string, o cpOptions) error {
	srcCtr, srcPath := splitCpArg(src)
	dstCtr, dstPath := splitCpArg(dst)
	switch {
	case srcCtr != "" && dstCtr != "":
		return errors.New("copying between containers is not supported")
	case srcCtr == "" && dstCtr == "":
		return errors.New("must specify at least one container source")
	}
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if srcCtr != "" {
		return copyFromContainer(ctx, c, srcCtr, srcPath, dstPath, o)
	}
	return copyToContainer(ctx, c, srcPath, dstCtr, dstPath, o)
}

func copyFromContainer(ctx context.Context, c *client.Client, ctr, src, dst string, o cpOptions) error {
	st, err := c.Containers.StatPath(ctx, &api.StatPathRequest{Id: ctr, Path: src})
	if err != nil {
		return client.Wrap(err)
	}
	stream, err := c.Containers.CopyFrom(ctx, &api.CopyFromRequest{Id: ctr, Path: src, FollowLink: o.followLink})
	if err != nil {
		return client.Wrap(err)
	}
	r := &chunkio.Reader{Recv: func() ([]byte, error) {
		m, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		return m.Data, nil
	}}
	if dst == "-" {
		_, err := io.Copy(os.Stdout, r)
		return client.Wrap(err)
	}
	srcIsDir := st.IsDir || o.followLink && st.LinkTarget != ""
	contentsOnly := strings.HasSuffix(src, "/.") || src == "."
	destDir, rename, strip := dst, "", false
	fi, err := os.Stat(dst)
	switch {
	case err == nil && fi.IsDir():
		strip = contentsOnly
	case err == nil:
		if st.IsDir {
			return fmt.Errorf("cannot copy a directory to a file: %s", dst)
		}
		destDir, rename = filepath.Dir(dst), filepath.Base(dst)
	case errors.Is(err, fs.ErrNotExist):
		if strings.HasSuffix(dst, string(filepath.Separator)) && !srcIsDir {
			return fmt.Errorf("destination directory %s does not exist", dst)
		}
		destDir, rename = filepath.Dir(dst), filepath.Base(dst)
		if fi, err := os.Stat(destDir); err != nil || !fi.IsDir() {
			return fmt.Errorf("destination directory %s does not exist", destDir)
		}
	default:
		return err
	}
	return extractLocal(tar.NewReader(r), destDir, rename, strip, o.archive)
}

// extractLocal unpacks a container's tar into dir: the top entry renamed
// to rename (if set), or left out with strip (its contents land in dir).
// All writes go through os.Root, so no entry can leave dir.
func extractLocal(tr *tar.Reader, dir, rename string, strip, keepOwners bool) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return client.Wrap(err)
		}
		name := rebase(hdr.Name, rename, strip)
		if name == "" {
			continue
		}
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = rebase(hdr.Linkname, rename, strip)
		}
		if err := writeEntry(root, name, hdr, tr, keepOwners); err != nil {
			return fmt.Errorf("extract %s: %w", name, err)
		}
	}
}

// rebase renames the first element of name, or drops it with strip.
func rebase(name, rename string, strip bool) string {
	name = strings.TrimSuffix(filepath.Clean("/"+name), "/")[1:]
	first, rest, _ := strings.Cut(name, "/")
	switch {
	case strip:
		return rest
	case rename != "":
		if rest == "" {
			return rename
		}
		return rename + "/" + rest
	}
	_ = first
	return name
}

func writeEntry(root *os.Root, name string, hdr *tar.Header, r io.Reader, keepOwners bool) error {
	mode := fs.FileMode(hdr.Mode & 0o777)
	if dir := filepath.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if hdr.Typeflag != tar.TypeDir {
		if fi, err := root.Lstat(name); err == nil && !fi.IsDir() {
			root.Remove(name)
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := root.Mkdir(name, mode); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	case tar.TypeReg, tar.TypeRegA:
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := root.Symlink(hdr.Linkname, name); err != nil {
			return err
		}
	case tar.TypeLink:
		if err := root.Link(hdr.Linkname, name); err != nil {
			return err
		}
	default:
		return nil // devices and FIFOs are not recreated locally
	}
	if hdr.Typeflag != tar.TypeSymlink {
		root.Chmod(name, fs.FileMode(hdr.Mode&0o7777)|modeBits(hdr.Mode))
		root.Chtimes(name, hdr.ModTime, hdr.ModTime)
	}
	if keepOwners {
		root.Lchown(name, hdr.Uid, hdr.Gid)
	}
	return nil
}

func modeBits(m int64) fs.FileMode {
	var out fs.FileMode
	if m&04000 != 0 {
		out |= fs.ModeSetuid
	}
	if m&02000 != 0 {
		out |= fs.ModeSetgid
	}
	if m&01000 != 0 {
		out |= fs.ModeSticky
	}
	return out
}

func copyToContainer(ctx context.Context, c *client.Client, src, ctr, dst string, o cpOptions) error {
	targetDir, name := dst, ""
	contentsOnly := strings.HasSuffix(src, "/.") || src == "."
	var srcInfo fs.FileInfo
	if src != "-" {
		var err error
		if o.followLink {
			srcInfo, err = os.Stat(src)
		} else {
			srcInfo, err = os.Lstat(src)
		}
		if err != nil {
			return err
		}
		st, err := c.Containers.StatPath(ctx, &api.StatPathRequest{Id: ctr, Path: dst})
		switch {
		case err == nil && st.IsDir:
			if !contentsOnly {
				name = filepath.Base(src)
			}
		case err == nil:
			if srcInfo.IsDir() {
				return fmt.Errorf("cannot copy a directory to a file: %s", dst)
			}
			targetDir, name = filepath.Dir(dst), filepath.Base(dst)
		case isNotFound(err):
			if strings.HasSuffix(dst, "/") {
				return fmt.Errorf("destination directory %s does not exist in the container", dst)
			}
			targetDir, name = filepath.Dir(dst), filepath.Base(dst)
		default:
			return client.Wrap(err)
		}
	}
	stream, err := c.Containers.CopyTo(ctx)
	if err != nil {
		return client.Wrap(err)
	}
	if err := stream.Send(&api.CopyToRequest{Id: ctr, Path: targetDir, CopyUidGid: o.archive}); err != nil {
		return client.Wrap(err)
	}
	pr, pw := io.Pipe()
	go func() {
		if src == "-" {
			_, err := io.Copy(pw, os.Stdin)
			pw.CloseWithError(err)
			return
		}
		pw.CloseWithError(tarLocal(pw, src, name, o.followLink))
	}()
	if err := sendChunks(pr, func(b []byte) error { return stream.Send(&api.CopyToRequest{Data: b}) }); err != nil {
		return err
	}
	_, err = stream.CloseAndRecv()
	return client.Wrap(err)
}

// tarLocal writes src as a tar whose top entry is named name ("" puts
// src's contents at the top).
func tarLocal(w io.Writer, src, name string, follow bool) error {
	tw := tar.NewWriter(w)
	links := map[[2]uint64]string{}
	base := filepath.Clean(src)
	err := filepath.Walk(base, func(p string, fi fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if p == base && follow {
			if fi, err = os.Stat(p); err != nil {
				return err
			}
		}
		rel, _ := filepath.Rel(base, p)
		tarName := filepath.ToSlash(filepath.Join(name, rel))
		if tarName == "." {
			return nil
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return nil // sockets
		}
		hdr.Name = tarName
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.Format = tar.FormatPAX
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && !fi.IsDir() && st.Nlink > 1 {
			key := [2]uint64{st.Dev, st.Ino}
			if first, ok := links[key]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
				return tw.WriteHeader(hdr)
			}
			links[key] = tarName
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.CopyN(tw, f, fi.Size())
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
