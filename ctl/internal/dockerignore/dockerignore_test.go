package dockerignore

import (
	"strings"
	"testing"
)

func TestIgnored(t *testing.T) {
	tests := []struct {
		patterns string
		path     string
		want     bool
	}{
		{"secret.txt", "secret.txt", true},
		{"secret.txt", "dir/secret.txt", false},
		{"/secret.txt", "secret.txt", true},
		{"*.tmp", "a.tmp", true},
		{"*.tmp", "dir/a.tmp", false},
		{"**/*.tmp", "dir/sub/a.tmp", true},
		{"**/*.tmp", "a.tmp", true},
		{"logs", "logs/x/y.log", true},
		{"logs/", "logs/a", true},
		{"# comment\n\nnode_modules", "node_modules/pkg", true},
		{"*.md\n!README.md", "README.md", false},
		{"*.md\n!README.md", "CHANGES.md", true},
		{"!README.md\n*.md", "README.md", true},
		{"dir/*/x", "dir/a/x", true},
		{"dir/*/x", "dir/a/b/x", false},
		{"file?.txt", "file1.txt", true},
		{"file[0-9].txt", "filea.txt", false},
		{"./build", "build/out", true},
		{"a", "abc", false},
	}
	for _, tt := range tests {
		m, err := Parse(strings.NewReader(tt.patterns))
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.patterns, err)
		}
		if got := m.Ignored(tt.path); got != tt.want {
			t.Errorf("patterns %q: Ignored(%q) = %v, want %v", tt.patterns, tt.path, got, tt.want)
		}
	}
}

func TestExceptions(t *testing.T) {
	m, _ := Parse(strings.NewReader("dir\n!dir/keep"))
	if !m.HasExceptions() || m.Ignored("dir/keep") || !m.Ignored("dir/other") {
		t.Errorf("exceptions: %v %v %v", m.HasExceptions(), m.Ignored("dir/keep"), m.Ignored("dir/other"))
	}
	var none *Matcher
	if none.Ignored("x") {
		t.Error("nil matcher ignores")
	}
}
