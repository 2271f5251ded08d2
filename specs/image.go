package specs

import (
	"encoding/json"
	"path"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ImageConfig is the part of an OCI image config that a container's spec
// takes, with the field names and JSON of image-spec's ImageConfig. It is
// declared here rather than imported so that berth-runtime, which links
// this package for its defaults, does without image-spec and go-digest,
// whose package initialisation cost every runtime call 0.3 ms.
type ImageConfig struct {
	User         string              `json:"User,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	Volumes      map[string]struct{} `json:"Volumes,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
}

// Annotations WithImageConfig records in the spec. Each value is a JSON
// array of strings except the stop signal, which is the image's own
// string. berthd reads them back with ImageInfoOf, for `inspect`, for
// `stop` and for -P and anonymous volumes; they also keep the entrypoint
// apart from the command so that WithEntrypoint and WithCmd can follow
// Docker's rules.
const (
	// AnnotationStopSignal is the signal `stop` sends first ("SIGTERM" if
	// absent); podman and buildah use the same key.
	AnnotationStopSignal = "org.opencontainers.image.stopSignal"
	// AnnotationExposedPorts lists "PORT/PROTO" ("80/tcp"), sorted.
	AnnotationExposedPorts = "berth.image.exposedPorts"
	// AnnotationVolumes lists the image's VOLUME paths, sorted.
	AnnotationVolumes = "berth.image.volumes"
	// AnnotationEntrypoint is the container's entrypoint.
	AnnotationEntrypoint = "berth.entrypoint"
	// AnnotationCmd is the container's command: its arguments follow the
	// entrypoint's in process.args.
	AnnotationCmd = "berth.cmd"
)

// WithImageConfig applies an image's config to the spec as `docker run`
// does, with rootfs the host path of the container's root filesystem
// (where the image's /etc/passwd is read):
//
//   - process.args is Entrypoint followed by Cmd, unless both are empty;
//   - Env is merged into the spec's environment, the image winning (the
//     default PATH stays only if the image sets none);
//   - WorkingDir becomes the cwd, "/" if empty;
//   - User is resolved as ResolveUser does, and HOME set to the user's home
//     when the environment has none;
//   - StopSignal, ExposedPorts and Volumes are recorded as annotations.
//
// Apply it before the run options (WithEnv, WithUser, WithEntrypoint...),
// which then override the image as the matching docker flags do.
func WithImageConfig(rootfs string, cfg ImageConfig) Opt {
	return func(s *specs.Spec) error {
		p := process(s)
		if len(cfg.Entrypoint) > 0 || len(cfg.Cmd) > 0 {
			setCommand(s, cfg.Entrypoint, cfg.Cmd)
		}
		p.Env = mergeEnv(p.Env, cfg.Env)
		p.Cwd = "/"
		if cfg.WorkingDir != "" {
			// Docker refuses a relative WorkingDir; images built by
			// other tools may have one, and "/" is what it can mean.
			p.Cwd = path.Join("/", cfg.WorkingDir)
		}
		if err := WithUser(rootfs, cfg.User)(s); err != nil {
			return err
		}

		a := annotations(s)
		delete(a, AnnotationStopSignal)
		if cfg.StopSignal != "" {
			a[AnnotationStopSignal] = cfg.StopSignal
		}
		var ports []string
		for p := range cfg.ExposedPorts {
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			ports = append(ports, p)
		}
		setListAnnotation(s, AnnotationExposedPorts, ports)
		var vols []string
		for v := range cfg.Volumes {
			vols = append(vols, v)
		}
		setListAnnotation(s, AnnotationVolumes, vols)
		return nil
	}
}

// WithEntrypoint overrides the image's entrypoint (`--entrypoint`). As in
// Docker, a new entrypoint also drops the image's Cmd, so apply WithCmd
// after it to give arguments. No arguments, or a single "", clear the
// entrypoint and keep the command (`--entrypoint ""`).
func WithEntrypoint(entrypoint ...string) Opt {
	return func(s *specs.Spec) error {
		if len(entrypoint) == 0 || len(entrypoint) == 1 && entrypoint[0] == "" {
			setCommand(s, nil, listAnnotation(s, AnnotationCmd))
			return nil
		}
		setCommand(s, entrypoint, nil)
		return nil
	}
}

// WithCmd overrides the image's Cmd (the arguments after the image name
// in `docker run IMAGE CMD...`), keeping the entrypoint. With no
// arguments it changes nothing: the image's Cmd stays.
func WithCmd(cmd ...string) Opt {
	return func(s *specs.Spec) error {
		if len(cmd) > 0 {
			setCommand(s, listAnnotation(s, AnnotationEntrypoint), cmd)
		}
		return nil
	}
}

// setCommand sets process.args to entrypoint + cmd and records both.
func setCommand(s *specs.Spec, entrypoint, cmd []string) {
	process(s).Args = append(slices.Clone(entrypoint), cmd...)
	a := annotations(s)
	for k, v := range map[string][]string{AnnotationEntrypoint: entrypoint, AnnotationCmd: cmd} {
		if len(v) == 0 {
			delete(a, k)
			continue
		}
		b, _ := json.Marshal(v)
		a[k] = string(b)
	}
}

// ImageInfo is what WithImageConfig and the command options recorded in a
// spec's annotations.
type ImageInfo struct {
	StopSignal   string
	ExposedPorts []string
	Volumes      []string
	Entrypoint   []string
	Cmd          []string
}

// ImageInfoOf reads back the annotations of WithImageConfig, WithEntrypoint
// and WithCmd; a missing or unreadable one reads as empty.
func ImageInfoOf(s *specs.Spec) ImageInfo {
	return ImageInfo{
		StopSignal:   s.Annotations[AnnotationStopSignal],
		ExposedPorts: listAnnotation(s, AnnotationExposedPorts),
		Volumes:      listAnnotation(s, AnnotationVolumes),
		Entrypoint:   listAnnotation(s, AnnotationEntrypoint),
		Cmd:          listAnnotation(s, AnnotationCmd),
	}
}

func listAnnotation(s *specs.Spec, key string) []string {
	var v []string
	if err := json.Unmarshal([]byte(s.Annotations[key]), &v); err != nil {
		return nil
	}
	return v
}

// setListAnnotation records list, sorted, under key, or removes key when
// list is empty.
func setListAnnotation(s *specs.Spec, key string, list []string) {
	a := annotations(s)
	if len(list) == 0 {
		delete(a, key)
		return
	}
	slices.Sort(list)
	b, _ := json.Marshal(list)
	a[key] = string(b)
}

// annotations returns s.Annotations, creating the map if needed.
func annotations(s *specs.Spec) map[string]string {
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	return s.Annotations
}

// mergeEnv returns env with overrides applied in order, as Docker merges
// -e into the image's Env: "K=V" replaces K where it is or is appended,
// and a bare "K" removes K (docker run -e K, with K unset on the client).
func mergeEnv(env, overrides []string) []string {
	out := slices.Clone(env)
	for _, o := range overrides {
		key, _, hasValue := strings.Cut(o, "=")
		i := slices.IndexFunc(out, func(e string) bool {
			k, _, _ := strings.Cut(e, "=")
			return k == key
		})
		switch {
		case !hasValue && i >= 0:
			out = slices.Delete(out, i, i+1)
		case !hasValue:
		case i >= 0:
			out[i] = o
		default:
			out = append(out, o)
		}
	}
	return out
}

// getEnv returns the value of key in env.
func getEnv(env []string, key string) (string, bool) {
	for _, e := range env {
		if k, v, ok := strings.Cut(e, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}
