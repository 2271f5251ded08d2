// Package dockerignore reads a build context's .dockerignore and says
// which paths the CLI leaves out of the context it sends to berthd.
package dockerignore

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
)

// rule is one line of .dockerignore.
type rule struct {
	re      *regexp.Regexp
	exclude bool // false for a "!pattern" exception
}

// Matcher decides which context paths are ignored.
type Matcher struct {
	rules      []rule
	exceptions bool
}

// Parse reads .dockerignore patterns: one a line, '#' comments, '!'
// exceptions, Go's filepath.Match syntax plus "**" for any number of
// directories. Later lines win over earlier ones.
func Parse(r io.Reader) (*Matcher, error) {
	m := &Matcher{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ru := rule{exclude: true}
		if strings.HasPrefix(line, "!") {
			ru.exclude = false
			m.exceptions = true
			line = strings.TrimSpace(line[1:])
		}
		line = strings.TrimPrefix(path.Clean("/"+line), "/")
		if line == "" {
			continue
		}
		re, err := compile(line)
		if err != nil {
			return nil, fmt.Errorf(".dockerignore: pattern %q: %w", line, err)
		}
		ru.re = re
		m.rules = append(m.rules, ru)
	}
	return m, sc.Err()
}

// compile turns a pattern into an anchored regular expression.
func compile(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '*' && strings.HasPrefix(p[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case c == '*' && strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unterminated [")
			}
			class := p[i+1 : i+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += end
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// Ignored says whether the context path rel (slash-separated, relative to
// the context) is left out: the last rule matching it or one of its
// parent directories decides.
func (m *Matcher) Ignored(rel string) bool {
	if m == nil {
		return false
	}
	rel = strings.TrimPrefix(path.Clean("/"+rel), "/")
	ignored := false
	for _, ru := range m.rules {
		if ru.matches(rel) {
			ignored = ru.exclude
		}
	}
	return ignored
}

func (ru rule) matches(rel string) bool {
	for p := rel; p != "." && p != "/" && p != ""; p = path.Dir(p) {
		if ru.re.MatchString(p) {
			return true
		}
	}
	return false
}

// HasExceptions says whether some "!" rule may bring back a path under
// an ignored directory (so the directory must still be walked).
func (m *Matcher) HasExceptions() bool { return m != nil && m.exceptions }
