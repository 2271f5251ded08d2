package stdio

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// An input FIFO must not read EOF before its writer has come, and must
// read EOF once the writer has gone.
func TestInputFIFOWaitsForWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stdin")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := openInput(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	got := make(chan string, 1)
	go func() {
		b, err := io.ReadAll(in)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- string(b)
	}()
	select {
	case s := <-got:
		t.Fatalf("read %q before any writer opened the FIFO", s)
	case <-time.After(100 * time.Millisecond):
	}
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("hello"))
	w.Close()
	select {
	case s := <-got:
		if s != "hello" {
			t.Errorf("read %q, want %q", s, "hello")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no EOF after the writer closed")
	}
}

// A writer that comes and goes without writing is end of input too.
func TestInputFIFOEmptyWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stdin")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := openInput(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	done := make(chan error, 1)
	go func() {
		_, err := in.Read(make([]byte, 10))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	select {
	case err := <-done:
		if err != io.EOF {
			t.Errorf("Read = %v, want EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no EOF after an empty writer closed")
	}
}

// Output FIFOs are opened read-write: no reader needed, no SIGPIPE later.
func TestOpenOutputWithoutReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stdout")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := openOutput(path)
		if err == nil {
			_, err = f.Write([]byte("buffered"))
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("openOutput blocked without a reader")
	}
}

// A pipe-mode IO copies the child's output to the FIFO and the log.
func TestIOPipesToFileAndLog(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "log.json")
	l, err := OpenJSONLog(LogConfig{Path: logPath})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.txt")
	x, err := New(Config{Stdout: "file://" + out, Stderr: "file://" + out, Log: l})
	if err != nil {
		t.Fatal(err)
	}
	child := x.Stdio()
	if child.Out == nil || child.Err == nil || child.In != nil {
		t.Fatalf("Stdio() = %+v, want stdout and stderr pipes only", child)
	}
	cw, ce := child.Out, child.Err
	// Keep our own copies: Start closes the ones it handed out.
	w1, _ := dupFile(cw)
	w2, _ := dupFile(ce)
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	w1.Write([]byte("to stdout\n"))
	w2.Write([]byte("to stderr\n"))
	w1.Close()
	w2.Close()
	if !x.Wait(5 * time.Second) {
		t.Fatal("copy did not finish")
	}
	x.Close()
	l.Close()
	b, _ := os.ReadFile(out)
	if len(b) != len("to stdout\nto stderr\n") {
		t.Errorf("file got %q", b)
	}
	recs := readRecords(t, logPath)
	if len(recs) != 2 {
		t.Fatalf("log records %+v, want 2", recs)
	}
}

func dupFile(f *os.File) (*os.File, error) {
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// A bad destination fails New cleanly (and closes what it opened).
func TestNewBadURI(t *testing.T) {
	stdin := filepath.Join(t.TempDir(), "stdin")
	if err := syscall.Mkfifo(stdin, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []Config{
		{Stdout: "http://example.com/x"},
		{Stdin: stdin, Stdout: "/nonexistent-dir/out", Stderr: "/nonexistent-dir/err"},
	} {
		if x, err := New(c); err == nil {
			x.Close()
			t.Errorf("New(%+v) succeeded, want an error", c)
		}
	}
}
