// Package reference parses image references the way Docker does:
// "busybox" is docker.io/library/busybox:latest, "user/app" is
// docker.io/user/app, and a first component with a dot, a colon or named
// localhost is a registry host. It is the one place where names are
// validated and normalised; everything stored uses String().
package reference

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid reference format")

// DefaultRegistry is the registry of names that do not name one.
const DefaultRegistry = "docker.io"

// Ref is a normalised image reference. Tag and Digest may both be set;
// at least one is, after Parse.
type Ref struct {
	Registry   string // docker.io, localhost:5000, ...
	Repository string // library/busybox
	Tag        string // latest
	Digest     string // sha256:...
}

var (
	pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$`)
	tagRE         = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestRE      = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
	hostRE        = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:.]+\](?::[0-9]+)?$`)
)

// Parse parses s, adding the default registry, "library/" for official
// Docker Hub images and the tag "latest" when s has neither tag nor digest.
func Parse(s string) (Ref, error) {
	r, err := ParseAny(s)
	if err != nil {
		return r, err
	}
	if r.Tag == "" && r.Digest == "" {
		r.Tag = "latest"
	}
	return r, nil
}

// ParseAny is Parse without the default tag.
func ParseAny(s string) (Ref, error) {
	bad := func(why string) (Ref, error) {
		return Ref{}, fmt.Errorf("%w: %q: %s", ErrInvalid, s, why)
	}
	if s == "" {
		return bad("empty")
	}
	if len(s) > 4096 {
		return bad("too long")
	}
	var r Ref
	rest := s
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		r.Digest = rest[i+1:]
		rest = rest[:i]
		if !digestRE.MatchString(r.Digest) {
			return bad("digest must be sha256: and 64 lowercase hex digits")
		}
	}
	// A tag follows the last colon after the last slash.
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i:], "/") {
		r.Tag = rest[i+1:]
		rest = rest[:i]
		if !tagRE.MatchString(r.Tag) {
			return bad("invalid tag")
		}
	}
	first, remainder, hasSlash := strings.Cut(rest, "/")
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost" || strings.HasPrefix(first, "[")) {
		if !hostRE.MatchString(first) {
			return bad("invalid registry host")
		}
		r.Registry = first
		rest = remainder
	} else {
		r.Registry = DefaultRegistry
	}
	if r.Registry == "index.docker.io" || r.Registry == "registry-1.docker.io" {
		r.Registry = DefaultRegistry
	}
	if rest == "" {
		return bad("empty repository")
	}
	for _, c := range strings.Split(rest, "/") {
		if !pathComponent.MatchString(c) {
			if strings.ToLower(c) == c {
				return bad("invalid repository name")
			}
			return bad("repository name must be lowercase")
		}
	}
	if r.Registry == DefaultRegistry && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	if len(r.Registry)+1+len(rest) > 255 {
		return bad("repository name too long")
	}
	r.Repository = rest
	return r, nil
}

// Name is registry/repository.
func (r Ref) Name() string { return r.Registry + "/" + r.Repository }

// String is the fully qualified reference.
func (r Ref) String() string {
	s := r.Name()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// FamiliarName is the repository as Docker prints it: without docker.io/
// and library/.
func (r Ref) FamiliarName() string {
	if r.Registry == DefaultRegistry {
		return strings.TrimPrefix(r.Repository, "library/")
	}
	return r.Name()
}

// Familiar is the whole reference as Docker prints it.
func (r Ref) Familiar() string {
	s := r.FamiliarName()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// WithDigest returns the repository pinned to digest d.
func (r Ref) WithDigest(d string) Ref {
	return Ref{Registry: r.Registry, Repository: r.Repository, Digest: d}
}

// IsLoopback reports whether the registry is on this host, where plain
// HTTP is allowed (as Docker allows it).
func (r Ref) IsLoopback() bool {
	host := r.Registry
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Remote converts r for go-containerregistry; insecure allows plain HTTP.
func (r Ref) Remote(insecure bool) (name.Reference, error) {
	var opts []name.Option
	if insecure || r.IsLoopback() {
		opts = append(opts, name.Insecure)
	}
	s := r.String()
	if r.Tag != "" && r.Digest != "" {
		s = r.Name() + "@" + r.Digest // the digest is what is fetched
	}
	return name.ParseReference(s, opts...)
}

// Registry parses a registry host as given to login ("" = Docker Hub).
func Registry(s string) (string, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	s = strings.TrimSuffix(s, "/")
	s = strings.TrimSuffix(s, "/v1")
	s = strings.TrimSuffix(s, "/v2")
	switch s {
	case "", "docker.io", "index.docker.io", "registry-1.docker.io":
		return DefaultRegistry, nil
	}
	if !hostRE.MatchString(s) {
		return "", fmt.Errorf("%w: %q: invalid registry host", ErrInvalid, s)
	}
	return s, nil
}
