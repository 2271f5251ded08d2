package dockerfile

import (
	"fmt"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ApplyConfig applies an instruction that only changes the image config
// (ENV, LABEL, CMD, ENTRYPOINT, WORKDIR, USER, STOPSIGNAL, EXPOSE,
// VOLUME; MAINTAINER is ignored) to c, as a build step and `commit
// --change` both do. Variables in it expand through env (nil: none).
func ApplyConfig(in Instruction, c *v1.Config, env Lookup) error {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	argv := func() []string {
		if in.JSON {
			return in.Args
		}
		return []string{"/bin/sh", "-c", in.Rest}
	}
	one := func() (string, error) { return Expand(in.Rest, env) }
	switch in.Cmd {
	case "ENV", "LABEL":
		pairs, err := KeyValues(in.Rest, env, true)
		if err != nil {
			return err
		}
		for _, p := range pairs {
			if in.Cmd == "ENV" {
				c.Env = setEnv(c.Env, p.Key, p.Value)
				continue
			}
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			c.Labels[p.Key] = p.Value
		}
	case "MAINTAINER":
		// Deprecated in Docker; recorded as the author there. Nothing here.
	case "CMD":
		c.Cmd = argv()
	case "ENTRYPOINT":
		c.Entrypoint = argv()
		c.Cmd = nil
	case "WORKDIR":
		w, err := one()
		if err != nil {
			return err
		}
		if !path.IsAbs(w) {
			w = path.Join("/", c.WorkingDir, w)
		}
		c.WorkingDir = path.Clean(w)
	case "USER":
		u, err := one()
		if err != nil {
			return err
		}
		c.User = u
	case "STOPSIGNAL":
		sig, err := one()
		if err != nil {
			return err
		}
		c.StopSignal = sig
	case "EXPOSE":
		ports, err := Words(in.Rest, env)
		if err != nil {
			return err
		}
		if c.ExposedPorts == nil {
			c.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range ports {
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			c.ExposedPorts[p] = struct{}{}
		}
	case "VOLUME":
		vols := in.Args
		if !in.JSON {
			var err error
			if vols, err = Words(in.Rest, env); err != nil {
				return err
			}
		}
		if c.Volumes == nil {
			c.Volumes = map[string]struct{}{}
		}
		for _, v := range vols {
			c.Volumes[v] = struct{}{}
		}
	default:
		return fmt.Errorf("unknown instruction %s", in.Cmd)
	}
	return nil
}

// commitConfig makes the image of a config-only step, or takes it from
// the cache.

// setEnv sets k in a KEY=VALUE list, replacing an earlier value.
func setEnv(env []string, k, v string) []string {
	out := make([]string, 0, len(env)+1)
	for _, e := range env {
		if kk, _, _ := strings.Cut(e, "="); kk != k {
			out = append(out, e)
		}
	}
	return append(out, k+"="+v)
}
