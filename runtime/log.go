package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/berth-project/berth/runtime/internal/container"
)

// logFile receives errors as JSON lines ({"level","msg","time"}) when --log
// is set: containerd's shim reads the last "error" message from it.
var logFile *os.File

func setupLogging() error {
	container.Warn = func(msg string) {
		logLine("warning", msg)
		fmt.Fprintln(os.Stderr, "berth-runtime: warning: "+msg)
	}
	if g.log == "" {
		return nil
	}
	f, err := os.OpenFile(g.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	logFile = f
	return nil
}

func logLine(level, msg string) {
	if logFile == nil {
		return
	}
	var line []byte
	if g.logFormat == "json" {
		line, _ = json.Marshal(map[string]string{"level": level, "msg": msg, "time": time.Now().UTC().Format(time.RFC3339Nano)})
	} else {
		line = fmt.Appendf(nil, "time=%q level=%s msg=%q", time.Now().UTC().Format(time.RFC3339), level, msg)
	}
	logFile.Write(append(line, '\n'))
}

// exitError carries an exit code without a message (the container's own
// status, from run and exec).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// codedError is an error printed as usual but exiting with its own code
// (exec failures exit 255, as with runc).
type codedError struct {
	err  error
	code int
}

func (e codedError) Error() string { return e.err.Error() }
func (e codedError) Unwrap() error { return e.err }

// reportError prints err as one line on stderr and to the log, and picks the
// exit code.
func reportError(err error) int {
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	msg := err.Error()
	logLine("error", msg)
	fmt.Fprintln(os.Stderr, "berth-runtime: "+msg)
	var ce codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	return 1
}
