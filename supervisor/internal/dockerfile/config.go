package dockerfile

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

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
		return ShellForm(c, in.Rest)
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
	case "SHELL":
		if !in.JSON || len(in.Args) == 0 {
			return fmt.Errorf("SHELL requires the arguments as a JSON array, such as [\"/bin/sh\", \"-c\"]")
		}
		c.Shell = in.Args
	case "HEALTHCHECK":
		h, err := healthcheck(in, c)
		if err != nil {
			return err
		}
		c.Healthcheck = h
	default:
		return fmt.Errorf("unknown instruction %s", in.Cmd)
	}
	return nil
}

// ShellForm is the argv of a shell-form command: the image's SHELL (by
// default /bin/sh -c) and the command.
func ShellForm(c *v1.Config, cmd string) []string {
	if len(c.Shell) > 0 {
		return append(append([]string(nil), c.Shell...), cmd)
	}
	return []string{"/bin/sh", "-c", cmd}
}

// healthcheck reads `HEALTHCHECK NONE` or `HEALTHCHECK [--interval=D]
// [--timeout=D] [--start-period=D] [--retries=N] CMD command`, which
// berth records in the image config as Docker does.
func healthcheck(in Instruction, c *v1.Config) (*v1.HealthConfig, error) {
	kind, rest, _ := strings.Cut(in.Rest, " ")
	kind, rest = strings.ToUpper(kind), strings.TrimSpace(rest)
	if kind == "NONE" {
		if rest != "" || len(in.Flags) > 0 {
			return nil, fmt.Errorf("HEALTHCHECK NONE takes no arguments")
		}
		return &v1.HealthConfig{Test: []string{"NONE"}}, nil
	}
	if kind != "CMD" || rest == "" {
		return nil, fmt.Errorf("HEALTHCHECK wants NONE or CMD followed by a command")
	}
	h := &v1.HealthConfig{Test: []string{"CMD-SHELL", rest}}
	if strings.HasPrefix(rest, "[") {
		var a []string
		if json.Unmarshal([]byte(rest), &a) == nil {
			h.Test = append([]string{"CMD"}, a...)
		}
	}
	for k, v := range in.Flags {
		var err error
		switch k {
		case "interval":
			h.Interval, err = time.ParseDuration(v)
		case "timeout":
			h.Timeout, err = time.ParseDuration(v)
		case "start-period":
			h.StartPeriod, err = time.ParseDuration(v)
		case "retries":
			h.Retries, err = strconv.Atoi(v)
		default:
			return nil, fmt.Errorf("HEALTHCHECK: unknown flag --%s", k)
		}
		if err != nil {
			return nil, fmt.Errorf("HEALTHCHECK --%s=%s: %w", k, v, err)
		}
	}
	return h, nil
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
