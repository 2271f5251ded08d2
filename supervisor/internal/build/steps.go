package build

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"time"

	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/dockerfile"
	"github.com/berth-project/berth/supervisor/internal/images"
)

// builder is the state of one build.
type builder struct {
	s       *Service
	ctx     context.Context
	out     io.Writer
	root    *os.Root // the unpacked context
	noCache bool
	// auths are the client's credentials for FROM images, by reference
	// as written.
	auths map[string]*api.RegistryAuth

	// buildArgs are --build-arg; globalArgs the ARGs before the first
	// FROM; args the ARGs declared in the current stage, with values.
	buildArgs  map[string]string
	globalArgs map[string]string
	args       map[string]string
	argOrder   []string

	image     string // the current image ("" before FROM or for scratch)
	cfg       v1.Config
	stages    map[string]string
	started   bool
	stageName string
}

func (b *builder) run(instrs []dockerfile.Instruction) error {
	b.globalArgs = map[string]string{}
	for i, in := range instrs {
		fmt.Fprintf(b.out, "Step %d/%d : %s\n", i+1, len(instrs), in.Original)
		if !b.started && in.Cmd != "FROM" && in.Cmd != "ARG" {
			return fmt.Errorf("Please provide a source image with `from` prior to %s (line %d): %w", strings.ToLower(in.Cmd), in.Line, ErrInvalidArgument)
		}
		if err := b.step(in); err != nil {
			var se *StepError
			if errors.As(err, &se) || errors.Is(err, ErrInvalidArgument) || errors.Is(err, context.Canceled) {
				return err
			}
			return fmt.Errorf("%s (line %d): %w", in.Cmd, in.Line, err)
		}
	}
	if !b.started {
		return fmt.Errorf("no FROM instruction: %w", ErrInvalidArgument)
	}
	if b.image == "" {
		id, err := b.s.imgs.CommitConfig(b.ctx, "", b.cfg, "")
		if err != nil {
			return err
		}
		b.image = id
	}
	fmt.Fprintf(b.out, "Successfully built %s\n", shortID(b.image))
	return nil
}

// lookup resolves a variable: the image's ENV first, then the ARGs in
// effect (as Docker's builder does).
func (b *builder) lookup(name string) (string, bool) {
	for i := len(b.cfg.Env) - 1; i >= 0; i-- {
		if k, v, _ := strings.Cut(b.cfg.Env[i], "="); k == name {
			return v, true
		}
	}
	v, ok := b.args[name]
	return v, ok
}

// argEnv is the ARGs in effect that ENV does not set, as KEY=VALUE: what
// RUN gets besides the image's environment, and part of its cache key.
func (b *builder) argEnv() []string {
	var out []string
	for _, k := range b.argOrder {
		if _, inEnv := b.envValue(k); inEnv {
			continue
		}
		out = append(out, k+"="+b.args[k])
	}
	return out
}

func (b *builder) envValue(k string) (string, bool) {
	for i := len(b.cfg.Env) - 1; i >= 0; i-- {
		if kk, v, _ := strings.Cut(b.cfg.Env[i], "="); kk == k {
			return v, true
		}
	}
	return "", false
}

func (b *builder) step(in dockerfile.Instruction) error {
	switch in.Cmd {
	case "FROM":
		return b.from(in)
	case "ARG":
		return b.arg(in)
	case "RUN":
		return b.runStep(in)
	case "COPY", "ADD":
		return b.copyStep(in)
	case "ONBUILD":
		return b.onbuild(in)
	}
	c := cloneConfig(b.cfg)
	if err := b.configChange(in, &c); err != nil {
		return fmt.Errorf("%s (line %d): %w: %w", in.Cmd, in.Line, err, ErrInvalidArgument)
	}
	if in.Cmd == "WORKDIR" && b.image != "" {
		return b.workdir(in, c)
	}
	return b.commitConfig(in, c)
}

// workdir commits WORKDIR: as Docker, a directory that is not in the
// image is created (a layer with it and its missing parents, owned by
// root, 0755); otherwise only the config changes.
func (b *builder) workdir(in dockerfile.Instruction, c v1.Config) error {
	dir := path.Clean("/" + c.WorkingDir)
	// The cache first: looking at the image takes a container.
	raw, _ := json.Marshal(c)
	key := cacheKey(b.image, "workdir", in.Original, string(raw))
	if id, ok := b.useCache(key); ok {
		b.cfg, b.image = c, id
		return nil
	}
	id, err := b.fileContainer(b.image)
	if err != nil {
		return err
	}
	// The missing directories, outermost first: those that exist keep
	// their owner and mode (WORKDIR /tmp/x must not touch /tmp).
	var missing []string
	for p := dir; p != "/"; p = path.Dir(p) {
		if st, err := b.s.ctrs.StatPath(b.ctx, &api.StatPathRequest{Id: id, Path: p}); err == nil {
			if !st.GetIsDir() {
				b.s.removeContainer(id)
				return fmt.Errorf("WORKDIR %s (line %d): %s is not a directory: %w", dir, in.Line, p, ErrInvalidArgument)
			}
			break
		}
		missing = append([]string{strings.TrimPrefix(p, "/")}, missing...)
	}
	b.s.removeContainer(id)
	if len(missing) == 0 {
		if err := b.commitConfig(in, c); err != nil {
			return err
		}
		b.s.remember(key, b.image)
		return nil
	}
	old := b.cfg
	b.cfg = c
	err = b.extractInto(in, key, "/", false, func(w io.Writer, _ bool) error {
		tw := tar.NewWriter(w)
		for _, p := range missing {
			if err := tw.WriteHeader(&tar.Header{Name: p + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Now()}); err != nil {
				return err
			}
		}
		return tw.Close()
	})
	if err != nil {
		b.cfg = old
	}
	return err
}

// configChange applies a config-only instruction to c, keeping the
// builder's own view of the environment in step for later expansions.
func (b *builder) configChange(in dockerfile.Instruction, c *v1.Config) error {
	if err := dockerfile.ApplyConfig(in, c, b.lookup); err != nil {
		return err
	}
	if in.Cmd == "ENV" {
		b.cfg.Env = c.Env
	}
	return nil
}

func (b *builder) commitConfig(in dockerfile.Instruction, c v1.Config) error {
	raw, _ := json.Marshal(c)
	key := cacheKey(b.image, "config", in.Original, string(raw))
	if id, ok := b.useCache(key); ok {
		b.cfg, b.image = c, id
		return nil
	}
	id, err := b.s.imgs.CommitConfig(b.ctx, b.image, c, "/bin/sh -c #(nop) "+in.Original)
	if err != nil {
		return err
	}
	b.s.remember(key, id)
	b.cfg, b.image = c, id
	fmt.Fprintf(b.out, " ---> %s\n", shortID(id))
	return nil
}

func (b *builder) useCache(key string) (string, bool) {
	if b.noCache {
		return "", false
	}
	id, ok := b.s.cached(key)
	if ok {
		fmt.Fprintf(b.out, " ---> Using cache\n ---> %s\n", shortID(id))
	}
	return id, ok
}

func (b *builder) from(in dockerfile.Instruction) error {
	words, err := dockerfile.Words(in.Rest, func(k string) (string, bool) {
		v, ok := b.globalArgs[k]
		return v, ok
	})
	if err != nil {
		return fmt.Errorf("FROM (line %d): %w: %w", in.Line, err, ErrInvalidArgument)
	}
	if len(words) != 1 && !(len(words) == 3 && strings.EqualFold(words[1], "AS")) {
		return fmt.Errorf("FROM (line %d): want FROM IMAGE [AS NAME]: %w", in.Line, ErrInvalidArgument)
	}
	if b.started {
		b.finishStage()
	}
	b.started = true
	b.args, b.argOrder = map[string]string{}, nil
	b.stageName = ""
	if len(words) == 3 {
		b.stageName = strings.ToLower(words[2])
	}
	name := words[0]
	if strings.EqualFold(name, "scratch") {
		b.image, b.cfg = "", v1.Config{}
		fmt.Fprintf(b.out, " ---> \n")
		return nil
	}
	if id, ok := b.stages[strings.ToLower(name)]; ok {
		name = id
	}
	img, err := b.s.imgs.ForContainer(name)
	if errors.Is(err, images.ErrNotFound) && !b.isStage(name) {
		// As Docker's builder does, a missing base image is pulled, with
		// the credentials the client sent for it.
		img, err = b.pull(name)
	}
	if err != nil {
		return err
	}
	b.image, b.cfg = img.ID, imageConfig(img)
	fmt.Fprintf(b.out, " ---> %s\n", shortID(b.image))
	return b.runTriggers()
}

// onbuild records ONBUILD's instruction in the image, to run when the
// image is some later build's base. ONBUILD ONBUILD, FROM and MAINTAINER
// are refused, as Docker refuses them.
func (b *builder) onbuild(in dockerfile.Instruction) error {
	trigger := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(in.Original[len("ONBUILD"):]), " "))
	instrs, err := dockerfile.Parse(strings.NewReader(trigger + "\n"))
	if err != nil || len(instrs) != 1 {
		return fmt.Errorf("ONBUILD (line %d): want one instruction: %v: %w", in.Line, err, ErrInvalidArgument)
	}
	switch instrs[0].Cmd {
	case "ONBUILD", "FROM", "MAINTAINER":
		return fmt.Errorf("ONBUILD (line %d): %s isn't allowed as an ONBUILD trigger: %w", in.Line, instrs[0].Cmd, ErrInvalidArgument)
	}
	c := cloneConfig(b.cfg)
	c.OnBuild = append(append([]string(nil), c.OnBuild...), trigger)
	return b.commitConfig(in, c)
}

// runTriggers runs the base image's ONBUILD triggers right after FROM, as
// Docker does; the image built here does not carry them on.
func (b *builder) runTriggers() error {
	triggers := b.cfg.OnBuild
	if len(triggers) == 0 {
		return nil
	}
	b.cfg.OnBuild = nil
	fmt.Fprintf(b.out, "# Executing %d build trigger", len(triggers))
	if len(triggers) > 1 {
		fmt.Fprint(b.out, "s")
	}
	fmt.Fprintln(b.out)
	for _, t := range triggers {
		instrs, err := dockerfile.Parse(strings.NewReader(t + "\n"))
		if err != nil || len(instrs) != 1 {
			return fmt.Errorf("ONBUILD trigger %q of the base image: %v: %w", t, err, ErrInvalidArgument)
		}
		if err := b.step(instrs[0]); err != nil {
			return fmt.Errorf("ONBUILD trigger %q: %w", t, err)
		}
	}
	// Triggers that committed nothing (ARG alone) leave the base image
	// current, triggers and all: they go in a config of our own.
	if cur, err := b.s.imgs.ForContainer(b.image); err == nil && len(cur.OnBuild) > 0 {
		return b.commitConfig(dockerfile.Instruction{Cmd: "ONBUILD", Original: "# build triggers run"}, cloneConfig(b.cfg))
	}
	return nil
}

// finishStage records the stage just built for COPY --from and FROM.
// isStage reports whether name is an earlier stage's ID.
func (b *builder) isStage(name string) bool {
	for _, id := range b.stages {
		if id == name {
			return true
		}
	}
	return false
}

// pull fetches a base image that is not here, printing Docker's lines.
func (b *builder) pull(name string) (*images.ContainerImage, error) {
	fmt.Fprintf(b.out, "Unable to find image '%s' locally\n", name)
	last := ""
	final, err := b.s.imgs.Pull(b.ctx, &api.PullRequest{Reference: name, Auth: b.auths[name]}, func(p *api.Progress) {
		if p.GetId() != "" && p.GetStatus() != last && (p.GetStatus() == "Pull complete" || p.GetStatus() == "Already exists") {
			fmt.Fprintf(b.out, "%s: %s\n", p.GetId(), p.GetStatus())
		}
	})
	if err != nil {
		return nil, fmt.Errorf("FROM %s: %w", name, err)
	}
	if d := final.GetDigest(); d != "" {
		fmt.Fprintf(b.out, "Digest: %s\n", d)
	}
	fmt.Fprintf(b.out, "Status: Downloaded newer image for %s\n", name)
	return b.s.imgs.ForContainer(name)
}

func (b *builder) finishStage() {
	b.stages[fmt.Sprint(len(b.stages))] = b.image
	if b.stageName != "" {
		b.stages[b.stageName] = b.image
	}
}

func (b *builder) arg(in dockerfile.Instruction) error {
	pairs, err := dockerfile.KeyValues(in.Rest, b.lookup, false)
	if err != nil {
		return fmt.Errorf("ARG (line %d): %w: %w", in.Line, err, ErrInvalidArgument)
	}
	for _, p := range pairs {
		v, ok := p.Value, p.HasValue
		if bv, set := b.buildArgs[p.Key]; set {
			v, ok = bv, true
		} else if gv, global := b.globalArgs[p.Key]; global && !p.HasValue {
			v, ok = gv, true
		}
		if !b.started {
			b.globalArgs[p.Key] = v
			continue
		}
		if !ok {
			v = ""
		}
		if _, seen := b.args[p.Key]; !seen {
			b.argOrder = append(b.argOrder, p.Key)
		}
		b.args[p.Key] = v
	}
	if b.started && b.image != "" {
		fmt.Fprintf(b.out, " ---> %s\n", shortID(b.image))
	}
	return nil
}

// runStep runs a command in a container of the current image and commits
// its layer.
func (b *builder) runStep(in dockerfile.Instruction) error {
	if b.image == "" {
		return fmt.Errorf("RUN (line %d): cannot run in an empty (scratch) image: %w", in.Line, ErrInvalidArgument)
	}
	argv := in.Args
	if !in.JSON {
		argv = dockerfile.ShellForm(&b.cfg, in.Rest)
	}
	argEnv := b.argEnv()
	key := cacheKey(b.image, "run", strings.Join(argv, "\x01"), strings.Join(argEnv, "\x01"))
	if id, ok := b.useCache(key); ok {
		b.image = id
		return nil
	}
	env := append(slices.Clone(b.cfg.Env), argEnv...)
	id, err := b.s.runContainer(b.ctx, b.out, b.image, argv, env, b.cfg)
	if err != nil {
		return err
	}
	createdBy := "/bin/sh -c " + in.Rest
	if in.JSON {
		createdBy = strings.Join(argv, " ")
	}
	if len(argEnv) > 0 {
		createdBy = fmt.Sprintf("|%d %s %s", len(argEnv), strings.Join(argEnv, " "), createdBy)
	}
	img, err := b.s.commitAndRemove(b.ctx, b.out, id, b.cfg, createdBy)
	if err != nil {
		return err
	}
	b.s.remember(key, img)
	b.image = img
	fmt.Fprintf(b.out, " ---> %s\n", shortID(img))
	return nil
}

// runContainer creates a container for a RUN step, runs it with its
// output streamed to out, and returns its ID once it exited 0. On any
// failure the container is removed.
func (s *Service) runContainer(ctx context.Context, out io.Writer, image string, argv, env []string, cfg v1.Config) (id string, err error) {
	resp, err := s.ctrs.Create(ctx, &api.CreateContainerRequest{Config: &api.ContainerConfig{
		Image: image, Cmd: argv, Entrypoint: []string{""}, EntrypointSet: true,
		Env: env, WorkingDir: cfg.WorkingDir, User: cfg.User,
		AttachStdout: true, AttachStderr: true, StopTimeout: -1,
		Host: &api.HostConfig{NetworkMode: "bridge"},
	}})
	if err != nil {
		return "", fmt.Errorf("create container: %w", err)
	}
	id = resp.GetId()
	defer func() {
		if err != nil {
			s.removeContainer(id)
		}
	}()
	fmt.Fprintf(out, " ---> Running in %s\n", shortID(id))
	st := &runStream{out: out, code: -1}
	recv := func() (*api.AttachInput, error) {
		<-ctx.Done()
		return nil, io.EOF
	}
	if err := s.ctrs.Attach(ctx, &api.AttachInput{Id: id, Stdout: true, Stderr: true, Start: true}, recv, st); err != nil {
		return id, fmt.Errorf("run: %w", err)
	}
	if ctx.Err() != nil {
		return id, ctx.Err()
	}
	if st.code != 0 {
		if st.errMsg != "" {
			fmt.Fprintln(out, st.errMsg)
		}
		return id, &StepError{Msg: fmt.Sprintf("The command '%s' returned a non-zero code: %d", strings.Join(argv, " "), st.code)}
	}
	return id, nil
}

// removeContainer removes a build container, even when the build was
// cancelled.
func (s *Service) removeContainer(id string) {
	if err := s.ctrs.Remove(context.Background(), &api.RemoveContainerRequest{Id: id, Force: true}); err != nil {
		s.log.Warn("build: remove container", "id", id, "err", err)
	}
}

func (s *Service) commitAndRemove(ctx context.Context, out io.Writer, id string, cfg v1.Config, createdBy string) (string, error) {
	defer func() {
		s.removeContainer(id)
		fmt.Fprintf(out, "Removing intermediate container %s\n", shortID(id))
	}()
	return s.ctrs.CommitLayer(ctx, id, cfg, createdBy)
}

// runStream receives a RUN container's output.
type runStream struct {
	out    io.Writer
	code   int
	errMsg string
}

func (r *runStream) Send(m *api.AttachOutput) error {
	if len(m.GetData()) > 0 {
		r.out.Write(m.GetData())
	}
	if m.GetExited() {
		r.code, r.errMsg = int(m.GetExitCode()), m.GetError()
	}
	return nil
}

func cloneConfig(c v1.Config) v1.Config {
	c.Env = slices.Clone(c.Env)
	c.Cmd = slices.Clone(c.Cmd)
	c.Entrypoint = slices.Clone(c.Entrypoint)
	c.Labels = maps.Clone(c.Labels)
	c.ExposedPorts = maps.Clone(c.ExposedPorts)
	c.Volumes = maps.Clone(c.Volumes)
	return c
}
