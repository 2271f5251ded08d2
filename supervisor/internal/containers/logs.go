package containers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"time"

	"github.com/berth-project/berth/supervisor/api"
)

// logRecord is one line of the shim's JSON-lines log (Docker's json-file
// format).
type logRecord struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// logBatch is how many bytes of log entries go in one message.
const logBatch = 256 << 10

// Logs streams a container's log: the last Tail lines (all with -1) that
// fall between Since and Until, then, with Follow, what the container
// writes until it stops. The log file is the shim's, so this works the
// same for containers that ran while berthd was down.
func (s *Service) Logs(ctx context.Context, req *api.LogsRequest, send func(*api.LogsResponse) error) error {
	c, err := s.get(req.GetId())
	if err != nil {
		return err
	}
	f, err := os.Open(c.paths.Log())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if f != nil {
		defer f.Close()
	}
	want := func(r *logRecord) bool {
		if r.Stream == "stderr" && !req.GetStderr() || r.Stream != "stderr" && !req.GetStdout() {
			return false
		}
		t := r.Time.UnixNano()
		return (req.GetSince() == 0 || t >= req.GetSince()) && (req.GetUntil() == 0 || t <= req.GetUntil())
	}
	entry := func(r *logRecord) *api.LogEntry {
		st := int32(streamStdout)
		if r.Stream == "stderr" {
			st = streamStderr
		}
		return &api.LogEntry{Stream: st, Data: []byte(r.Log), Time: r.Time.UnixNano()}
	}
	var (
		batch   []*api.LogEntry
		size    int
		partial []byte
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := send(&api.LogsResponse{Entries: batch})
		batch, size = nil, 0
		return err
	}
	add := func(e *api.LogEntry) error {
		batch = append(batch, e)
		size += len(e.Data) + 16
		if size >= logBatch {
			return flush()
		}
		return nil
	}
	// readAvailable decodes the complete lines available now.
	var br *bufio.Reader
	if f != nil {
		br = bufio.NewReaderSize(f, 64<<10)
	}
	readAvailable := func(each func(*logRecord) error) error {
		if br == nil {
			return nil
		}
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 && line[len(line)-1] == '\n' {
				if len(partial) > 0 {
					line = append(partial, line...)
					partial = nil
				}
				var r logRecord
				if json.Unmarshal(bytes.TrimSpace(line), &r) == nil && want(&r) {
					if err := each(&r); err != nil {
						return err
					}
				}
			} else if len(line) > 0 {
				partial = append(partial, line...)
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}

	tail := req.GetTail()
	if tail < 0 {
		if err := readAvailable(func(r *logRecord) error { return add(entry(r)) }); err != nil {
			return err
		}
	} else if tail > 0 {
		ring := make([]*api.LogEntry, 0, min(tail, 4096))
		n := 0
		err := readAvailable(func(r *logRecord) error {
			if int64(len(ring)) < tail {
				ring = append(ring, entry(r))
			} else {
				ring[n%len(ring)] = entry(r)
			}
			n++
			return nil
		})
		if err != nil {
			return err
		}
		start := 0
		if int64(n) > tail {
			start = n % len(ring)
		}
		for i := range ring {
			if err := add(ring[(start+i)%len(ring)]); err != nil {
				return err
			}
		}
	} else if err := readAvailable(func(*logRecord) error { return nil }); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	if !req.GetFollow() {
		return nil
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		changed := c.waitChange()
		running := c.running() || c.state().Status == "restarting"
		if br == nil {
			if f, err = os.Open(c.paths.Log()); err == nil {
				defer f.Close()
				br = bufio.NewReaderSize(f, 64<<10)
			}
		}
		if err := readAvailable(func(r *logRecord) error { return add(entry(r)) }); err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		if !running {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.removed:
			return nil
		case <-changed:
		case <-tick.C:
		}
	}
}
