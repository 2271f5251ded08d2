package containers

import (
	"strings"
	"testing"
)

// TestEnvAndHome: inspect's Config.Env is the image's and the user's
// variables (not the HOSTNAME and HOME added for the process), and an
// exec gets the HOME of its own user unless the image or -e set one, as
// with Docker.
func TestEnvAndHome(t *testing.T) {
	d := startBerthd(t)
	d.ok("run", "-d", "--name", "env1", "-u", "1234", "-e", "MINE=1", "busybox", "sleep", "60")
	env := d.out("inspect", "-f", "{{json .Config.Env}}", "env1")
	if strings.Contains(env, "HOSTNAME=") || strings.Contains(env, "HOME=") || !strings.Contains(env, "MINE=1") || !strings.Contains(env, "PATH=") {
		t.Errorf("Config.Env = %s, want PATH and MINE only", env)
	}
	// The same before the container ever ran.
	d.ok("create", "--name", "env0", "-e", "MINE=0", "busybox", "true")
	if env := d.out("inspect", "-f", "{{json .Config.Env}}", "env0"); !strings.Contains(env, "PATH=") || !strings.Contains(env, "MINE=0") {
		t.Errorf("Config.Env of a created container = %s, want the image's PATH and MINE", env)
	}
	for _, c := range []struct{ user, want string }{{"", "/"}, {"nobody", "/home"}, {"root", "/root"}} {
		args := []string{"exec"}
		if c.user != "" {
			args = append(args, "-u", c.user)
		}
		if got := d.out(append(args, "env1", "sh", "-c", "echo $HOME")...); got != c.want {
			t.Errorf("exec -u %q: HOME=%q, want %q", c.user, got, c.want)
		}
	}
	if got := d.out("exec", "env1", "sh", "-c", "echo $HOSTNAME"); got == "" {
		t.Error("exec: HOSTNAME is not set")
	}
	d.ok("run", "-d", "--name", "env2", "-e", "HOME=/custom", "busybox", "sleep", "60")
	if got := d.out("exec", "-u", "nobody", "env2", "sh", "-c", "echo $HOME"); got != "/custom" {
		t.Errorf("exec with -e HOME at run: HOME=%q, want /custom", got)
	}
}
