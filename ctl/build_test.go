package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestFromAuths: the credentials sent with a build are those of its FROM
// images, with ARG variables expanded as berthd expands them.
func TestFromAuths(t *testing.T) {
	cfg := t.TempDir()
	// user:secret for localhost:5999 only.
	os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"auths":{"localhost:5999":{"auth":"dXNlcjpzZWNyZXQ="}}}`), 0o600)
	t.Setenv("DOCKER_CONFIG", cfg)
	tests := []struct {
		name       string
		dockerfile string
		buildArgs  []string
		want       []string // keys with credentials
	}{
		{"plain", "FROM localhost:5999/app:1\n", nil, []string{"localhost:5999/app:1"}},
		{"other registry", "FROM busybox\nFROM other:5000/x\n", nil, nil},
		{"ARG default", "ARG REG=localhost:5999\nFROM ${REG}/img:1 AS base\n", nil, []string{"localhost:5999/img:1"}},
		{"--build-arg wins", "ARG REG=other:1\nFROM $REG/img\n", []string{"REG=localhost:5999"}, []string{"localhost:5999/img"}},
		{"default syntax", "FROM ${REG:-localhost:5999}/x\n", nil, []string{"localhost:5999/x"}},
		{"a stage's ARG is not FROM's", "FROM busybox AS a\nARG REG=localhost:5999\nFROM ${REG}/x\n", nil, nil},
		{"continuation and --platform", "ARG V=2 \\\n  REG=localhost:5999\nFROM --platform=linux/amd64 $REG/y:$V\n", nil, []string{"localhost:5999/y:2"}},
		{"scratch and stages", "FROM scratch\nFROM localhost:5999/z AS b\nFROM b\n", nil, []string{"localhost:5999/z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			df := filepath.Join(t.TempDir(), "Dockerfile")
			os.WriteFile(df, []byte(tt.dockerfile), 0o644)
			got := fromAuths(df, tt.buildArgs)
			var keys []string
			for k, a := range got {
				if a.GetUsername() != "user" || a.GetPassword() != "secret" {
					t.Errorf("%s: credentials %v", k, a)
				}
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if strings.Join(keys, ",") != strings.Join(tt.want, ",") {
				t.Errorf("credentials for %v, want %v", keys, tt.want)
			}
		})
	}
}
