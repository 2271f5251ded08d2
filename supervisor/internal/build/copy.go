package build

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-project/berth/specs"
	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/dockerfile"
	"github.com/berth-project/berth/supervisor/internal/images"
)

// unpackContext extracts the client's context tar into dir. Every entry
// is created through an os.Root, so no name or symlink in the tar can
// write outside dir.
func unpackContext(r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(hdr.Name)
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("entry %q is outside the context", hdr.Name)
		}
		if name == "." {
			continue
		}
		if d := path.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		mode := fs.FileMode(hdr.Mode) & fs.ModePerm
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
			root.Chmod(name, mode)
		case tar.TypeReg:
			f, err := root.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			root.Chmod(name, mode)
		case tar.TypeSymlink:
			if err := root.Symlink(hdr.Linkname, name); err != nil {
				return err
			}
			continue
		default:
			continue // devices, fifos, hard links: not part of a context
		}
		root.Chtimes(name, hdr.ModTime, hdr.ModTime)
	}
}

// source is one COPY source: a path in the context, relative to its root.
type source struct {
	rel  string
	info fs.FileInfo
}

// copyStep runs COPY or ADD: sources from the context (or a stage with
// --from), extracted into a container of the current image at dest.
func (b *builder) copyStep(in dockerfile.Instruction) error {
	var words []string
	if in.JSON {
		for _, a := range in.Args {
			w, err := dockerfile.ExpandVars(a, b.lookup)
			if err != nil {
				return fmt.Errorf("%s (line %d): %w: %w", in.Cmd, in.Line, err, ErrInvalidArgument)
			}
			words = append(words, w)
		}
	} else {
		var err error
		if words, err = dockerfile.Words(in.Rest, b.lookup); err != nil {
			return fmt.Errorf("%s (line %d): %w: %w", in.Cmd, in.Line, err, ErrInvalidArgument)
		}
	}
	if len(words) < 2 {
		return fmt.Errorf("%s requires at least two arguments (line %d): %w", in.Cmd, in.Line, ErrInvalidArgument)
	}
	srcs, dest := words[:len(words)-1], words[len(words)-1]
	mode, chown := -1, ""
	for k, v := range in.Flags {
		switch k {
		case "chown":
			chown = v
		case "chmod":
			m, err := strconv.ParseUint(v, 8, 32)
			if err != nil || m > 0o7777 {
				return fmt.Errorf("%s --chmod=%s (line %d): want an octal mode such as 755: %w", in.Cmd, v, in.Line, ErrInvalidArgument)
			}
			mode = int(m)
		case "from":
			if in.Cmd == "ADD" {
				return fmt.Errorf("ADD does not support --from (line %d): %w", in.Line, ErrInvalidArgument)
			}
		default:
			return fmt.Errorf("%s (line %d): unknown flag: --%s: %w", in.Cmd, in.Line, k, ErrInvalidArgument)
		}
	}
	if !path.IsAbs(dest) {
		d := path.Join("/", b.cfg.WorkingDir, dest)
		if strings.HasSuffix(dest, "/") || dest == "." {
			d += "/"
		}
		dest = d
	}
	if from, ok := in.Flags["from"]; ok {
		return b.copyFrom(in, from, srcs, dest, chown, mode)
	}
	var list []source
	for _, s := range srcs {
		if in.Cmd == "ADD" && (strings.Contains(s, "://")) {
			return fmt.Errorf("ADD %s (line %d): URLs are not supported by berth build: %w", s, in.Line, ErrInvalidArgument)
		}
		found, err := b.resolveSource(s)
		if err != nil {
			return fmt.Errorf("%s failed: %w: %w", in.Cmd, err, ErrInvalidArgument)
		}
		for _, f := range found {
			if in.Cmd == "ADD" && !f.info.IsDir() && isArchiveName(f.rel) {
				return fmt.Errorf("ADD %s (line %d): extracting local archives is not supported by berth build, use COPY and RUN tar: %w", f.rel, in.Line, ErrInvalidArgument)
			}
		}
		list = append(list, found...)
	}
	destDir := strings.HasSuffix(dest, "/") || len(list) > 1 || len(srcs) > 1 || strings.ContainsAny(strings.Join(srcs, ""), "*?[")
	h := sha256.New()
	if err := b.writeSources(nil, h, list, "", false, -1, -1, -1); err != nil {
		return err
	}
	key := cacheKey(b.image, "copy", in.Original, dest, fmt.Sprintf("%x", h.Sum(nil)), chown, strconv.Itoa(mode))
	if id, ok := b.useCache(key); ok {
		b.image = id
		return nil
	}
	uid, gid, err := b.chownFlag(in, chown)
	if err != nil {
		return err
	}
	if b.image == "" {
		// FROM scratch: no container to copy into; the files are the
		// new image's first layer.
		return b.firstLayer(in, key, func(w io.Writer) error {
			tw := tar.NewWriter(w)
			if err := b.writeSources(tw, nil, list, dest, destDir, max(uid, 0), max(gid, 0), mode); err != nil {
				return err
			}
			return tw.Close()
		})
	}
	return b.extractInto(in, key, dest, uid >= 0, func(w io.Writer, isDir bool) error {
		tw := tar.NewWriter(w)
		if err := b.writeSources(tw, nil, list, dest, destDir || isDir, uid, gid, mode); err != nil {
			return err
		}
		return tw.Close()
	})
}

// extractInto creates a container of the current image, extracts the
// tar that write makes into it, and commits it as the step's image.
// write learns whether dest is a directory in the image.
func (b *builder) extractInto(in dockerfile.Instruction, key, dest string, keepOwners bool, write func(w io.Writer, destIsDir bool) error) error {
	ctx := b.ctx
	id, err := b.fileContainer(b.image)
	if err != nil {
		return err
	}
	isDir := false
	if st, err := b.s.ctrs.StatPath(ctx, &api.StatPathRequest{Id: id, Path: dest}); err == nil {
		isDir = st.GetIsDir()
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(write(pw, isDir)) }()
	err = b.s.ctrs.CopyTo(ctx, &api.CopyToRequest{Id: id, Path: "/", CopyUidGid: keepOwners}, pr)
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		b.s.removeContainer(id)
		return fmt.Errorf("%s failed: %w", in.Cmd, err)
	}
	img, err := b.s.commitAndRemove(ctx, io.Discard, id, b.cfg, "/bin/sh -c #(nop) "+in.Original)
	if err != nil {
		return err
	}
	b.s.remember(key, img)
	b.image = img
	fmt.Fprintf(b.out, " ---> %s\n", shortID(img))
	return nil
}

// firstLayer commits the tar that write makes as the only layer of a new
// image (a COPY right after FROM scratch). Files are owned by root unless
// --chown says otherwise, as Docker's are.
func (b *builder) firstLayer(in dockerfile.Instruction, key string, write func(w io.Writer) error) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(write(pw)) }()
	img, err := b.s.imgs.Commit(b.ctx, images.CommitInput{
		Layer: pr, CreatedBy: "/bin/sh -c #(nop) " + in.Original,
		Change: func(c *v1.Config) error { *c = cloneConfig(b.cfg); return nil },
	})
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return fmt.Errorf("%s failed: %w", in.Cmd, err)
	}
	b.s.remember(key, img)
	b.image = img
	fmt.Fprintf(b.out, " ---> %s\n", shortID(img))
	return nil
}

// resolveSource finds a COPY source in the context: a path (never out of
// it, also not through a symlink) or a wildcard pattern.
func (b *builder) resolveSource(s string) ([]source, error) {
	rel := path.Clean("/" + s)[1:]
	if c := path.Clean(s); c == ".." || strings.HasPrefix(c, "../") {
		return nil, fmt.Errorf("forbidden path outside the build context: %s", s)
	}
	if rel == "" {
		rel = "."
	}
	if strings.ContainsAny(rel, "*?[") {
		matches, err := fs.Glob(b.root.FS(), rel)
		if err != nil {
			return nil, fmt.Errorf("pattern %s: %w", s, err)
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("no source files were specified: %s", s)
		}
		var out []source
		for _, m := range matches {
			fi, err := b.root.Stat(m)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m, err)
			}
			out = append(out, source{rel: m, info: fi})
		}
		return out, nil
	}
	fi, err := b.root.Stat(rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("file not found in build context or excluded by .dockerignore: stat %s: file does not exist", s)
		}
		return nil, fmt.Errorf("forbidden path outside the build context: %s (%w)", s, err)
	}
	return []source{{rel: rel, info: fi}}, nil
}

// writeSources walks the sources: into h (names, modes, link targets and
// contents: the cache digest) or into tw (the layer's files at dest).
func (b *builder) writeSources(tw *tar.Writer, h hash.Hash, list []source, dest string, destIsDir bool, uid, gid, mode int) error {
	fsys := b.root.FS()
	for _, src := range list {
		base := dest
		if !src.info.IsDir() && destIsDir {
			base = path.Join(dest, path.Base(src.rel))
		}
		top := src.rel
		err := fs.WalkDir(fsys, top, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if p == top {
				fi = src.info // the top is followed if it is a symlink
			}
			if err != nil {
				return err
			}
			sub := strings.TrimPrefix(strings.TrimPrefix(p, top), "/")
			if p == top {
				sub = ""
			}
			if p == top && fi.IsDir() {
				return nil // its contents go into dest
			}
			target := path.Join(base, sub)
			link := ""
			if fi.Mode()&fs.ModeSymlink != 0 {
				if link, err = b.root.Readlink(p); err != nil {
					return err
				}
			}
			if h != nil {
				fmt.Fprintf(h, "%s\x00%o\x00%s\x00", path.Join(path.Base(src.rel), sub), fi.Mode(), link)
			}
			var hdr *tar.Header
			if tw != nil {
				if hdr, err = tar.FileInfoHeader(fi, link); err != nil {
					return err
				}
				hdr.Name = strings.TrimPrefix(target, "/")
				hdr.Uname, hdr.Gname, hdr.Uid, hdr.Gid = "", "", max(uid, 0), max(gid, 0)
				setMode(hdr, mode)
				hdr.Format = tar.FormatPAX
				if fi.IsDir() {
					hdr.Name += "/"
				}
				if err := tw.WriteHeader(hdr); err != nil {
					return err
				}
			}
			if !fi.Mode().IsRegular() {
				return nil
			}
			f, err := b.root.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			var w io.Writer = tw
			if h != nil {
				w = h
			}
			_, err = io.Copy(w, f)
			return err
		})
		if err != nil {
			return fmt.Errorf("COPY %s: %w", src.rel, err)
		}
	}
	return nil
}

// isArchiveName says whether ADD would extract the file in Docker.
func isArchiveName(name string) bool {
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz"} {
		if strings.HasSuffix(strings.ToLower(name), ext) {
			return true
		}
	}
	return false
}

// copyFrom is COPY --from: each source is read from a container of the
// stage's (or the named image's) image.
func (b *builder) copyFrom(in dockerfile.Instruction, from string, srcs []string, dest, chown string, mode int) error {
	img, ok := b.stages[strings.ToLower(from)]
	if !ok {
		ci, err := b.s.imgs.ForContainer(from)
		if err != nil {
			return fmt.Errorf("COPY --from=%s (line %d): no such stage or image: %w", from, in.Line, ErrInvalidArgument)
		}
		img = ci.ID
	}
	key := cacheKey(b.image, "copy-from", img, in.Original, dest, chown, strconv.Itoa(mode))
	if id, ok := b.useCache(key); ok {
		b.image = id
		return nil
	}
	uid, gid, err := b.chownFlag(in, chown)
	if err != nil {
		return err
	}
	ctx := b.ctx
	srcID, err := b.fileContainer(img)
	if err != nil {
		return err
	}
	defer b.s.removeContainer(srcID)
	destDir := strings.HasSuffix(dest, "/") || len(srcs) > 1
	return b.extractInto(in, key, dest, uid >= 0, func(w io.Writer, isDir bool) error {
		tw := tar.NewWriter(w)
		for _, s := range srcs {
			p := path.Clean("/" + s)
			st, err := b.s.ctrs.StatPath(ctx, &api.StatPathRequest{Id: srcID, Path: p})
			if err != nil {
				return fmt.Errorf("COPY --from=%s %s: %w", from, s, err)
			}
			base := dest
			if !st.GetIsDir() && (destDir || isDir) {
				base = path.Join(dest, path.Base(p))
			}
			pr, pw := io.Pipe()
			go func() { pw.CloseWithError(b.s.ctrs.CopyFrom(ctx, &api.CopyFromRequest{Id: srcID, Path: p}, pw)) }()
			if err := retar(pr, tw, st.GetIsDir(), base, uid, gid, mode); err != nil {
				pr.CloseWithError(err)
				return err
			}
		}
		return tw.Close()
	})
}

// setMode gives every entry but symlinks --chmod's permission bits (mode
// -1: none given), to directories as to files, as BuildKit does.
func setMode(hdr *tar.Header, mode int) {
	if mode >= 0 && hdr.Typeflag != tar.TypeSymlink {
		hdr.Mode = hdr.Mode&^0o7777 | int64(mode)
	}
}

// retar copies a CopyFrom tar (its top entry named after the source) to
// tw with the top renamed to base: a directory's contents go into base.
func retar(r io.Reader, tw *tar.Writer, isDir bool, base string, uid, gid, mode int) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		_, sub, _ := strings.Cut(name, "/")
		if isDir && sub == "" {
			continue
		}
		target := path.Join(base, sub)
		if !isDir {
			target = base
		}
		hdr.Name = strings.TrimPrefix(filepath.ToSlash(target), "/")
		if uid >= 0 {
			hdr.Uid, hdr.Gid = uid, gid
		}
		setMode(hdr, mode)
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}

// chownFlag is --chown's uid and gid, -1 without one. Names are read
// from the image, so this runs only once the cache missed: the key has
// the flag as written (the image decides what its names mean).
func (b *builder) chownFlag(in dockerfile.Instruction, v string) (uid, gid int, err error) {
	if v == "" {
		return -1, -1, nil
	}
	if uid, gid, err = b.chownIDs(v); err != nil {
		return 0, 0, fmt.Errorf("%s --chown=%s (line %d): %w: %w", in.Cmd, v, in.Line, err, ErrInvalidArgument)
	}
	return uid, gid, nil
}

// chownIDs resolves --chown's USER[:GROUP] as Docker does: names through
// the current image's /etc/passwd and /etc/group, and without a group the
// gid is the uid's number (not the user's primary group).
func (b *builder) chownIDs(v string) (uid, gid int, err error) {
	u, g, hasGroup := strings.Cut(v, ":")
	if u == "" || (hasGroup && g == "") {
		return 0, 0, fmt.Errorf("want USER[:GROUP]")
	}
	uid, errU := strconv.Atoi(u)
	gid, errG := strconv.Atoi(g)
	if !hasGroup {
		errG = nil
	}
	if errU == nil && errG == nil {
		if !hasGroup {
			gid = uid
		}
		if uid < 0 || gid < 0 {
			return 0, 0, fmt.Errorf("ids must not be negative")
		}
		return uid, gid, nil
	}
	// Names: read the image's user and group files.
	if b.image == "" {
		return 0, 0, fmt.Errorf("names need the image's /etc/passwd and /etc/group, and FROM scratch has none")
	}
	dir, err := os.MkdirTemp("", "berth-chown-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	if err := b.imageFiles(dir, "/etc/passwd", "/etc/group"); err != nil {
		return 0, 0, err
	}
	if errU != nil {
		usr, _, err := specs.ResolveUser(dir, u)
		if err != nil {
			return 0, 0, err
		}
		uid = int(usr.UID)
	}
	switch {
	case !hasGroup:
		gid = uid
	case errG != nil:
		grp, _, err := specs.ResolveUser(dir, "0:"+g)
		if err != nil {
			return 0, 0, err
		}
		gid = int(grp.GID)
	}
	return uid, gid, nil
}

// imageFiles copies files of the current image (those that exist) into
// dir under their own paths, through a throwaway container.
func (b *builder) imageFiles(dir string, files ...string) error {
	id, err := b.fileContainer(b.image)
	if err != nil {
		return err
	}
	defer b.s.removeContainer(id)
	for _, f := range files {
		var buf bytes.Buffer
		if err := b.s.ctrs.CopyFrom(b.ctx, &api.CopyFromRequest{Id: id, Path: f}, &buf); err != nil {
			continue // a missing file counts as empty, as for USER
		}
		tr := tar.NewReader(&buf)
		if _, err := tr.Next(); err != nil {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, 16<<20))
		if err != nil {
			return err
		}
		target := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// fileContainer creates a container of image that is never started, only
// read from and written into (StatPath, CopyFrom, CopyTo); the caller
// removes it.
func (b *builder) fileContainer(image string) (string, error) {
	resp, err := b.s.ctrs.Create(b.ctx, &api.CreateContainerRequest{Config: &api.ContainerConfig{
		Image: image, Cmd: []string{"/nonexistent-build-step"}, Entrypoint: []string{""}, EntrypointSet: true,
		Host: &api.HostConfig{NetworkMode: "none"},
	}})
	if err != nil {
		return "", fmt.Errorf("create container: %w", err)
	}
	return resp.GetId(), nil
}
