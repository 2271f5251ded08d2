package stdio

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// maxLogLine is where a line without a newline is cut into a partial
// record, as Docker's json-file driver does at 16 KiB.
const maxLogLine = 16 << 10

// LogConfig selects the JSON-lines log of a container's output.
type LogConfig struct {
	Path     string // "" disables the log
	MaxSize  int64  // rotate when the file would grow past this; 0 = never
	MaxFiles int    // files kept including the current one (>= 1)
}

// JSONLog writes a container's output in Docker's json-file format, one
// record per line of output:
//
//	{"log":"hi\n","stream":"stdout","time":"2026-01-02T15:04:05.123456789Z"}
//
// stdout and stderr stay apart (the "stream" field) and every record has
// the time the shim read it, so `logs -t` and `logs --since` can be served
// from the file alone.
type JSONLog struct {
	mu   sync.Mutex
	cfg  LogConfig
	f    *os.File
	size int64
	now  func() time.Time
}

// OpenJSONLog opens (appends to) the log file, creating its directory.
func OpenJSONLog(cfg LogConfig) (*JSONLog, error) {
	if cfg.MaxFiles < 1 {
		cfg.MaxFiles = 1
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o750); err != nil {
		return nil, fmt.Errorf("log dir: %w", err)
	}
	l := &JSONLog{cfg: cfg, now: time.Now}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *JSONLog) open() error {
	f, err := os.OpenFile(l.cfg.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	l.f, l.size = f, fi.Size()
	return nil
}

// Close closes the file.
func (l *JSONLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// write appends encoded records, rotating first when they would not fit.
func (l *JSONLog) write(rec []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return
	}
	if l.cfg.MaxSize > 0 && l.size > 0 && l.size+int64(len(rec)) > l.cfg.MaxSize {
		l.rotate()
	}
	n, _ := l.f.Write(rec)
	l.size += int64(n)
}

// rotate shifts path.N-1 -> path.N ... path -> path.1 and starts a new file.
func (l *JSONLog) rotate() {
	l.f.Close()
	l.f = nil
	if l.cfg.MaxFiles == 1 {
		os.Truncate(l.cfg.Path, 0)
	} else {
		for i := l.cfg.MaxFiles - 1; i > 1; i-- {
			os.Rename(l.cfg.Path+"."+strconv.Itoa(i-1), l.cfg.Path+"."+strconv.Itoa(i))
		}
		os.Rename(l.cfg.Path, l.cfg.Path+".1")
	}
	l.open()
}

// Stream returns the writer for one stream ("stdout" or "stderr"); it
// buffers an unfinished line until its newline, Flush or 16 KiB.
func (l *JSONLog) Stream(name string) *LogStream {
	return &LogStream{log: l, name: name}
}

// LogStream turns one stream's bytes into records.
type LogStream struct {
	log     *JSONLog
	name    string
	partial []byte
	out     []byte
}

// Write encodes every complete line of p, keeping the rest for later.
func (s *LogStream) Write(p []byte) (int, error) {
	n := len(p)
	now := s.log.now()
	s.out = s.out[:0]
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.partial = append(s.partial, p...)
			for len(s.partial) >= maxLogLine {
				s.out = s.record(s.out, s.partial[:maxLogLine], now)
				s.partial = append(s.partial[:0], s.partial[maxLogLine:]...)
			}
			break
		}
		line := p[:i+1]
		if len(s.partial) > 0 {
			s.partial = append(s.partial, line...)
			line = s.partial
		}
		s.out = s.record(s.out, line, now)
		s.partial = s.partial[:0]
		p = p[i+1:]
	}
	if len(s.out) > 0 {
		s.log.write(s.out)
	}
	if cap(s.out) > 4*maxLogLine {
		s.out = nil // do not keep a burst's buffer for the container's life
	}
	return n, nil
}

// Flush writes an unfinished line as a record of its own.
func (s *LogStream) Flush() {
	if len(s.partial) == 0 {
		return
	}
	s.log.write(s.record(nil, s.partial, s.log.now()))
	s.partial = nil
}

func (s *LogStream) record(dst, line []byte, t time.Time) []byte {
	dst = append(dst, `{"log":`...)
	dst = appendJSONString(dst, line)
	dst = append(dst, `,"stream":"`...)
	dst = append(dst, s.name...)
	dst = append(dst, `","time":"`...)
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, "\"}\n"...)
}

// appendJSONString quotes s as a JSON string; invalid UTF-8 becomes U+FFFD
// as encoding/json does.
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
