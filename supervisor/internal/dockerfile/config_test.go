package dockerfile

import (
	"reflect"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestApplyConfig(t *testing.T) {
	tests := []struct {
		name  string
		lines string
		check func(c v1.Config) bool
		bad   bool
	}{
		{"shell then shell-form cmd", "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nCMD echo hi", func(c v1.Config) bool {
			return reflect.DeepEqual(c.Cmd, []string{"/bin/bash", "-o", "pipefail", "-c", "echo hi"})
		}, false},
		{"shell not json", "SHELL /bin/bash -c", nil, true},
		{"healthcheck cmd-shell with flags", "HEALTHCHECK --interval=5s --retries=3 CMD wget -q -O- localhost", func(c v1.Config) bool {
			h := c.Healthcheck
			return h != nil && reflect.DeepEqual(h.Test, []string{"CMD-SHELL", "wget -q -O- localhost"}) && h.Interval == 5*time.Second && h.Retries == 3
		}, false},
		{"healthcheck exec form", "HEALTHCHECK CMD [\"/check\", \"-v\"]", func(c v1.Config) bool {
			return c.Healthcheck != nil && reflect.DeepEqual(c.Healthcheck.Test, []string{"CMD", "/check", "-v"})
		}, false},
		{"healthcheck none", "HEALTHCHECK NONE", func(c v1.Config) bool {
			return c.Healthcheck != nil && reflect.DeepEqual(c.Healthcheck.Test, []string{"NONE"})
		}, false},
		{"healthcheck bad flag", "HEALTHCHECK --often=1s CMD true", nil, true},
		{"healthcheck bad duration", "HEALTHCHECK --interval=soon CMD true", nil, true},
		{"healthcheck without cmd", "HEALTHCHECK true", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, err := Parse(strings.NewReader(tt.lines))
			if err != nil {
				t.Fatal(err)
			}
			var c v1.Config
			for _, in := range ins {
				if err = ApplyConfig(in, &c, nil); err != nil {
					break
				}
			}
			if (err != nil) != tt.bad {
				t.Fatalf("error = %v, want bad=%v", err, tt.bad)
			}
			if !tt.bad && !tt.check(c) {
				t.Errorf("config after %q: %+v (healthcheck %+v)", tt.lines, c, c.Healthcheck)
			}
		})
	}
}
