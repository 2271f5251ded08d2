package containers

import (
	"errors"
	"reflect"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-project/berth/supervisor/api"
)

func TestMergeHealth(t *testing.T) {
	img := &v1.HealthConfig{Test: []string{"CMD", "true"}, Interval: time.Second, Timeout: 2 * time.Second, StartPeriod: 3 * time.Second, Retries: 4}
	tests := []struct {
		name  string
		user  *api.HealthConfig
		image *v1.HealthConfig
		want  *api.HealthConfig
	}{
		{"neither", nil, nil, nil},
		{"flags only", &api.HealthConfig{Test: []string{"CMD-SHELL", "x"}}, nil, &api.HealthConfig{Test: []string{"CMD-SHELL", "x"}}},
		{"image only", nil, img, &api.HealthConfig{Test: []string{"CMD", "true"}, Interval: 1e9, Timeout: 2e9, StartPeriod: 3e9, Retries: 4}},
		{"flags override what they set", &api.HealthConfig{Interval: 5e8, Retries: 1}, img,
			&api.HealthConfig{Test: []string{"CMD", "true"}, Interval: 5e8, Timeout: 2e9, StartPeriod: 3e9, Retries: 1}},
		{"--no-healthcheck wins", &api.HealthConfig{Test: []string{"NONE"}}, img,
			&api.HealthConfig{Test: []string{"NONE"}, Interval: 1e9, Timeout: 2e9, StartPeriod: 3e9, Retries: 4}},
	}
	for _, tt := range tests {
		if got := mergeHealth(tt.user, tt.image); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: mergeHealth = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValidateHealth(t *testing.T) {
	tests := []struct {
		h       *api.HealthConfig
		wantErr bool
		argv    []string
	}{
		{nil, false, nil},
		{&api.HealthConfig{Test: []string{"NONE"}}, false, nil},
		{&api.HealthConfig{Test: []string{"CMD", "curl", "-f", "x"}}, false, []string{"curl", "-f", "x"}},
		{&api.HealthConfig{Test: []string{"CMD-SHELL", "curl -f x"}}, false, []string{"/bin/sh", "-c", "curl -f x"}},
		{&api.HealthConfig{Test: []string{"CMD"}}, true, nil},
		{&api.HealthConfig{Test: []string{"CMD-SHELL"}}, true, nil},
		{&api.HealthConfig{Test: []string{"SHELL", "x"}}, true, nil},
		{&api.HealthConfig{Test: []string{"CMD", "true"}, Interval: int64(time.Microsecond)}, true, nil},
		{&api.HealthConfig{Test: []string{"CMD", "true"}, Timeout: int64(time.Millisecond)}, false, []string{"true"}},
		{&api.HealthConfig{Test: []string{"CMD", "true"}, Retries: -1}, true, nil},
	}
	for _, tt := range tests {
		err := validateHealth(tt.h)
		if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrInvalidArgument)) {
			t.Errorf("validateHealth(%v) = %v, want error %v (invalid argument)", tt.h, err, tt.wantErr)
		}
		if err == nil {
			if argv, _ := healthArgv(tt.h.GetTest()); !reflect.DeepEqual(argv, tt.argv) {
				t.Errorf("healthArgv(%v) = %q, want %q", tt.h.GetTest(), argv, tt.argv)
			}
		}
	}
}
