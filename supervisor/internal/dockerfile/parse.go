// Package dockerfile parses Dockerfiles into instructions, and expands
// build variables in their arguments, for berthd's builder. It knows the
// syntax (continuations, comments, JSON and shell forms, quoting); what an
// instruction does is the builder's business.
package dockerfile

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Instruction is one instruction of a Dockerfile.
type Instruction struct {
	// Cmd is the keyword, upper-cased (RUN).
	Cmd string
	// Flags are the leading --name=value options (COPY --from=x).
	Flags map[string]string
	// Rest is the text after the keyword and flags, continuations joined.
	Rest string
	// JSON is set when Rest is a JSON array (exec form); Args then holds
	// its elements.
	JSON bool
	Args []string
	// Line is the line the instruction starts on (1-based).
	Line int
	// Original is the instruction as written, on one line, for the
	// build's "Step N/M" lines.
	Original string
}

// known are the instructions the builder accepts.
var known = map[string]bool{
	"FROM": true, "RUN": true, "COPY": true, "ADD": true, "ENV": true, "ARG": true,
	"WORKDIR": true, "USER": true, "CMD": true, "ENTRYPOINT": true, "LABEL": true,
	"EXPOSE": true, "VOLUME": true, "STOPSIGNAL": true, "MAINTAINER": true,
	"SHELL": true, "HEALTHCHECK": true, "ONBUILD": true,
}

// flagged are the instructions that take --flags.
var flagged = map[string]bool{"COPY": true, "ADD": true, "FROM": true, "RUN": true, "HEALTHCHECK": true}

// Parse reads a Dockerfile. An unknown instruction is an error naming it
// and its line, as is an instruction without arguments.
func Parse(r io.Reader) ([]Instruction, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	var out []Instruction
	var cur strings.Builder
	start, n := 0, 0
	flush := func() error {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return nil
		}
		in, err := parseLine(text, start)
		if err != nil {
			return err
		}
		out = append(out, in)
		return nil
	}
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimSpace(line)
		// Comments (and parser directives) are whole lines, also in the
		// middle of a continued instruction; so are blank lines there.
		if strings.HasPrefix(trimmed, "#") || trimmed == "" && cur.Len() > 0 {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`))
			continue
		}
		cur.WriteString(line)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read Dockerfile: %w", err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the Dockerfile cannot be empty")
	}
	return out, nil
}

func parseLine(text string, line int) (Instruction, error) {
	word, rest, _ := strings.Cut(text, " ")
	if i := strings.IndexAny(word, "\t"); i >= 0 {
		word, rest = word[:i], word[i+1:]+" "+rest
	}
	in := Instruction{Cmd: strings.ToUpper(word), Line: line}
	if !known[in.Cmd] {
		return in, fmt.Errorf("dockerfile parse error line %d: unknown instruction: %s", line, word)
	}
	rest = strings.TrimSpace(rest)
	if flagged[in.Cmd] {
		for strings.HasPrefix(rest, "--") {
			f, r, _ := strings.Cut(rest, " ")
			k, v, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
			if in.Flags == nil {
				in.Flags = map[string]string{}
			}
			in.Flags[k] = v
			rest = strings.TrimSpace(r)
		}
	}
	in.Rest = rest
	in.Original = strings.TrimSpace(in.Cmd + " " + strings.TrimSpace(text[len(word):]))
	if rest == "" {
		return in, fmt.Errorf("dockerfile parse error line %d: %s requires at least one argument", line, in.Cmd)
	}
	if strings.HasPrefix(rest, "[") {
		var a []string
		if json.Unmarshal([]byte(rest), &a) == nil {
			in.JSON, in.Args = true, a
		}
	}
	return in, nil
}
