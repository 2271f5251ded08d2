package stdio

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAppendJSONString(t *testing.T) {
	for _, in := range []string{
		"plain", "quote\" back\\slash", "tab\tnl\ncr\r", "\x00\x1f<>&", "ünïcødé ✓", "bad \xff utf8", "\u2028\u2029",
	} {
		got := appendJSONString(nil, []byte(in))
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("appendJSONString(%q) = %s: not JSON: %v", in, got, err)
			continue
		}
		want, _ := json.Marshal(in)
		var wantBack string
		json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("appendJSONString(%q) decodes to %q, want %q", in, back, wantBack)
		}
	}
}

type rec struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

func readRecords(t *testing.T, path string) []rec {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []rec
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		var r rec
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("record %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

func TestLogStreamLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c", "c-json.log")
	l, err := OpenJSONLog(LogConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	l.now = func() time.Time { return fixed }
	out, errs := l.Stream("stdout"), l.Stream("stderr")
	out.Write([]byte("one\ntw"))
	errs.Write([]byte("oops\n"))
	out.Write([]byte("o\nthree"))
	out.Flush()
	errs.Flush()
	l.Close()
	got := readRecords(t, path)
	want := []rec{{"one\n", "stdout", fixed}, {"oops\n", "stderr", fixed}, {"two\n", "stdout", fixed}, {"three", "stdout", fixed}}
	if len(got) != len(want) {
		t.Fatalf("records %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Log != want[i].Log || got[i].Stream != want[i].Stream || !got[i].Time.Equal(want[i].Time) {
			t.Errorf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestLogStreamLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "long.log")
	l, err := OpenJSONLog(LogConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	s := l.Stream("stdout")
	s.Write([]byte(strings.Repeat("x", maxLogLine+10)))
	s.Write([]byte("y\n"))
	l.Close()
	got := readRecords(t, path)
	if len(got) != 2 || len(got[0].Log) != maxLogLine || got[1].Log != strings.Repeat("x", 10)+"y\n" {
		t.Errorf("long line split into %d records (%d, ...), want a %d-byte partial and the rest", len(got), len(got[0].Log), maxLogLine)
	}
}

func TestLogRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.log")
	l, err := OpenJSONLog(LogConfig{Path: path, MaxSize: 200, MaxFiles: 3})
	if err != nil {
		t.Fatal(err)
	}
	s := l.Stream("stdout")
	for i := 0; i < 20; i++ {
		s.Write([]byte("a line of output\n"))
	}
	l.Close()
	for _, p := range []string{path, path + ".1", path + ".2"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if fi.Size() > 200 {
			t.Errorf("%s is %d bytes, want <= 200", p, fi.Size())
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Errorf("%s.3 exists, want at most 3 files", path)
	}
}
