package dockerfile

import (
	"fmt"
	"strings"
)

// Lookup returns a build variable's value (ENV or ARG in effect).
type Lookup func(name string) (string, bool)

// Words splits s into words as a shell would for the builder: spaces
// separate words outside quotes, quotes are removed, a backslash escapes
// the next character, and $VAR, ${VAR}, ${VAR:-default} and
// ${VAR:+alternative} are expanded (not inside single quotes).
func Words(s string, env Lookup) ([]string, error) {
	return split(s, env, true)
}

// Expand expands variables and removes quotes in s, keeping it as one
// word (ENV NAME value with spaces, WORKDIR, USER).
func Expand(s string, env Lookup) (string, error) {
	w, err := split(s, env, false)
	if err != nil || len(w) == 0 {
		return "", err
	}
	return w[0], nil
}

// ExpandVars expands variables in s and keeps everything else as is (the
// elements of a JSON-form COPY).
func ExpandVars(s string, env Lookup) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '$' {
			v, n, err := variable(s[i:], env)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i += n - 1
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

func split(s string, env Lookup, spaces bool) ([]string, error) {
	var words []string
	var b strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				b.WriteByte(c)
			}
		case c == '\\' && i+1 < len(s) && (quote == 0 || s[i+1] == '"' || s[i+1] == '\\' || s[i+1] == '$'):
			i++
			b.WriteByte(s[i])
			inWord = true
		case c == '$':
			v, n, err := variable(s[i:], env)
			if err != nil {
				return nil, err
			}
			b.WriteString(v)
			i += n - 1
			// An unquoted variable that is empty makes no word, as in
			// a shell; a value is not split again at its spaces.
			inWord = inWord || v != "" || quote != 0
		case quote == '"':
			if c == '"' {
				quote = 0
			} else {
				b.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote = c
			inWord = true
		case spaces && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		default:
			b.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unmatched quote %c in %q", quote, s)
	}
	if inWord || !spaces {
		words = append(words, b.String())
	}
	return words, nil
}

// variable expands the reference at the start of s ("$" first) and
// returns its value and length. A "$" not followed by a name is itself.
func variable(s string, env Lookup) (string, int, error) {
	get := func(name string) string {
		v, _ := env(name)
		return v
	}
	if len(s) > 1 && s[1] == '{' {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "", 0, fmt.Errorf("missing '}' in %q", s)
		}
		body := s[2:end]
		name, word := body, ""
		op := ""
		if i := strings.Index(body, ":"); i >= 0 {
			name, op, word = body[:i], body[i:min(i+2, len(body))], body[min(i+2, len(body)):]
		}
		if !isName(name) {
			return "", 0, fmt.Errorf("bad substitution %q", s[:end+1])
		}
		v, ok := env(name)
		switch op {
		case "":
		case ":-":
			if !ok || v == "" {
				v = word
			}
		case ":+":
			if ok && v != "" {
				v = word
			} else {
				v = ""
			}
		default:
			return "", 0, fmt.Errorf("unsupported modifier %q in %q", op, s[:end+1])
		}
		return v, end + 1, nil
	}
	n := 1
	for n < len(s) && (s[n] == '_' || s[n] >= 'a' && s[n] <= 'z' || s[n] >= 'A' && s[n] <= 'Z' || n > 1 && s[n] >= '0' && s[n] <= '9') {
		n++
	}
	if n == 1 {
		return "$", 1, nil
	}
	return get(s[1:n]), n, nil
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// KeyValues parses the arguments of ENV, LABEL and ARG: KEY=VALUE pairs
// (quoted values allowed), or for ENV and LABEL the old "KEY VALUE" form
// where the value is the rest of the line. An ARG without a value has
// ok false in its pair.
func KeyValues(rest string, env Lookup, legacy bool) ([]Pair, error) {
	first, after, _ := strings.Cut(strings.TrimSpace(rest), " ")
	if legacy && !strings.Contains(first, "=") && strings.TrimSpace(after) != "" {
		v, err := Expand(strings.TrimSpace(after), env)
		if err != nil {
			return nil, err
		}
		return []Pair{{Key: first, Value: v, HasValue: true}}, nil
	}
	words, err := Words(rest, env)
	if err != nil {
		return nil, err
	}
	var out []Pair
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if k == "" {
			return nil, fmt.Errorf("%q: a key is needed before '='", w)
		}
		if !ok && legacy {
			return nil, fmt.Errorf("%q: want KEY=VALUE", w)
		}
		out = append(out, Pair{Key: k, Value: v, HasValue: ok})
	}
	return out, nil
}

// Pair is one KEY=VALUE of ENV, LABEL or ARG.
type Pair struct {
	Key, Value string
	HasValue   bool
}
