package seccomp

import (
	"testing"

	"github.com/berth-project/berth/specs"
)

// TestDockerDefaultProfileBuilds checks that the Docker-equivalent profile
// berthd uses compiles with libseccomp, with the default capability set and
// at both ends of --cap-add/--cap-drop.
func TestDockerDefaultProfileBuilds(t *testing.T) {
	for name, opts := range map[string][]specs.Opt{
		"default": nil,
		"cap ALL": {specs.WithCapAdd("ALL")},
		"no caps": {specs.WithCapDrop("ALL")},
	} {
		s, err := specs.NewDocker(append(opts, specs.WithArgs("true"))...)
		if err != nil {
			t.Fatalf("%s: NewDocker: %v", name, err)
		}
		p, err := Compile(s.Linux.Seccomp)
		if err != nil {
			t.Errorf("%s: Compile error = %v", name, err)
			continue
		}
		if len(p.insns) < 100 {
			t.Errorf("%s: filter has only %d instructions", name, len(p.insns))
		}
	}
}
