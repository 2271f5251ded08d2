package dockerfile

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Instruction // only Cmd, Rest, JSON, Args, Line, Flags are compared
		err  string
	}{
		{name: "simple", in: "FROM busybox\nRUN echo hi\n", want: []Instruction{
			{Cmd: "FROM", Rest: "busybox", Line: 1}, {Cmd: "RUN", Rest: "echo hi", Line: 2}}},
		{name: "lower-case keywords", in: "from busybox\nworkdir /x", want: []Instruction{
			{Cmd: "FROM", Rest: "busybox", Line: 1}, {Cmd: "WORKDIR", Rest: "/x", Line: 2}}},
		{name: "comments and blank lines", in: "# syntax=x\n\nFROM a\n  # indented comment\nCMD b\n", want: []Instruction{
			{Cmd: "FROM", Rest: "a", Line: 3}, {Cmd: "CMD", Rest: "b", Line: 5}}},
		{name: "continuation", in: "FROM a\nRUN echo a && \\\n  echo b \\\n  && echo c\n", want: []Instruction{
			{Cmd: "FROM", Rest: "a", Line: 1}, {Cmd: "RUN", Rest: "echo a &&   echo b   && echo c", Line: 2}}},
		{name: "comment inside continuation", in: "RUN a \\\n# note\n  b\n", want: []Instruction{
			{Cmd: "RUN", Rest: "a   b", Line: 1}}},
		{name: "json form", in: `CMD ["sh", "-c", "echo hi"]`, want: []Instruction{
			{Cmd: "CMD", Rest: `["sh", "-c", "echo hi"]`, JSON: true, Args: []string{"sh", "-c", "echo hi"}, Line: 1}}},
		{name: "bad json is shell form", in: `CMD [not json`, want: []Instruction{
			{Cmd: "CMD", Rest: `[not json`, Line: 1}}},
		{name: "flags", in: "COPY --from=build --chown=1:2 /a /b", want: []Instruction{
			{Cmd: "COPY", Rest: "/a /b", Flags: map[string]string{"from": "build", "chown": "1:2"}, Line: 1}}},
		{name: "unknown instruction", in: "FROM a\nFROBNICATE x\n", err: "dockerfile parse error line 2: unknown instruction: FROBNICATE"},
		{name: "missing argument", in: "FROM\n", err: "line 1: FROM requires at least one argument"},
		{name: "empty", in: "# nothing\n", err: "cannot be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				got[i].Original = ""
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestWordsAndExpand(t *testing.T) {
	env := func(k string) (string, bool) {
		v, ok := map[string]string{"A": "aa", "B": "b b", "EMPTY": ""}[k]
		return v, ok
	}
	tests := []struct {
		in   string
		want []string
	}{
		{`$A`, []string{"aa"}},
		{`${A}x`, []string{"aax"}},
		{`$A/$B`, []string{"aa/b b"}},
		{`"$B"`, []string{"b b"}},
		{`'$A'`, []string{"$A"}},
		{`\$A`, []string{"$A"}},
		{`${MISSING:-def} ${A:-def} ${EMPTY:-e}`, []string{"def", "aa", "e"}},
		{`${A:+set}${MISSING:+set}`, []string{"set"}},
		{`$MISSING x`, []string{"x"}},
		{`"$MISSING"`, []string{""}},
		{`a\ b c`, []string{"a b", "c"}},
		{`cost$`, []string{"cost$"}},
	}
	for _, tt := range tests {
		got, err := Words(tt.in, env)
		if err != nil {
			t.Errorf("Words(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got, _ := Expand(`hello "$B"  there`, env); got != "hello b b  there" {
		t.Errorf("Expand = %q", got)
	}
	if _, err := Words(`"open`, env); err == nil {
		t.Error("unmatched quote: no error")
	}
	if _, err := Words(`${A`, env); err == nil {
		t.Error("missing brace: no error")
	}
}

func TestKeyValues(t *testing.T) {
	env := func(k string) (string, bool) { return map[string]string{"X": "1"}[k], k == "X" }
	tests := []struct {
		in     string
		legacy bool
		want   []Pair
		err    bool
	}{
		{in: `A=1 B="two words" C=$X`, legacy: true, want: []Pair{{"A", "1", true}, {"B", "two words", true}, {"C", "1", true}}},
		{in: `NAME value with  spaces`, legacy: true, want: []Pair{{"NAME", "value with  spaces", true}}},
		{in: `V`, want: []Pair{{"V", "", false}}},
		{in: `V=default`, want: []Pair{{"V", "default", true}}},
		{in: `=x`, legacy: true, err: true},
	}
	for _, tt := range tests {
		got, err := KeyValues(tt.in, env, tt.legacy)
		if (err != nil) != tt.err {
			t.Errorf("KeyValues(%q): err %v", tt.in, err)
			continue
		}
		if !tt.err && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("KeyValues(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
