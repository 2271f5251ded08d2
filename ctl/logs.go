package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

type logsOptions struct {
	follow, timestamps bool
	since, until, tail string
}

func newLogsCommand() *cobra.Command {
	var o logsOptions
	cmd := &cobra.Command{
		Use:   "logs [OPTIONS] CONTAINER",
		Short: "Fetch the logs of a container",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogs(cmd.Context(), args[0], o)
		},
	}
	cmd.Flags().BoolVarP(&o.follow, "follow", "f", false, "follow log output")
	cmd.Flags().BoolVarP(&o.timestamps, "timestamps", "t", false, "show timestamps")
	cmd.Flags().StringVar(&o.since, "since", "", "show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	cmd.Flags().StringVar(&o.until, "until", "", "show logs before a timestamp or relative time")
	cmd.Flags().StringVarP(&o.tail, "tail", "n", "all", "number of lines to show from the end of the logs")
	return cmd
}

func runLogs(ctx context.Context, name string, o logsOptions) error {
	req := &api.LogsRequest{Id: name, Follow: o.follow, Stdout: true, Stderr: true, Tail: -1}
	now := time.Now()
	var err error
	if req.Since, err = parseTime(o.since, now); err != nil {
		return fmt.Errorf("invalid value for \"since\": %w", err)
	}
	if req.Until, err = parseTime(o.until, now); err != nil {
		return fmt.Errorf("invalid value for \"until\": %w", err)
	}
	if o.tail != "all" && o.tail != "" {
		if req.Tail, err = strconv.ParseInt(o.tail, 10, 64); err != nil {
			return fmt.Errorf("invalid value for \"tail\": %q", o.tail)
		}
		if req.Tail < 0 {
			req.Tail = -1
		}
	}
	// With -f, a berthd that goes away (a restart) is waited for and the
	// log taken up after the last entry shown: the shim kept writing it.
	var last int64
	seen := 0 // entries shown with time == last
	followStart := time.Now().UnixNano()
	for {
		err := followLogs(ctx, req, o.timestamps, func(e *api.LogEntry) {
			if e.Time == last {
				seen++
			} else {
				last, seen = e.Time, 1
			}
		})
		if err == nil || !o.follow || ctx.Err() != nil || !isDisconnect(err) {
			return err
		}
		if !waitForDaemon(ctx, 30*time.Second) {
			return err
		}
		req.Tail = -1
		if last > 0 {
			req.Since, skipN = last, seen
		} else {
			req.Since = max(req.Since, followStart)
		}
	}
}

// skipN entries at the resume time were shown before the reconnection.
var skipN int

// followLogs runs one Logs call, calling shown for each entry printed.
func followLogs(ctx context.Context, req *api.LogsRequest, timestamps bool, shown func(*api.LogEntry)) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	stream, err := c.Containers.Logs(ctx, req)
	if err != nil {
		return client.Wrap(err)
	}
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return client.Wrap(err)
		}
		for _, e := range resp.Entries {
			if skipN > 0 && e.Time == req.Since {
				skipN--
				continue
			}
			w := os.Stdout
			if e.Stream == 2 {
				w = os.Stderr
			}
			if timestamps {
				fmt.Fprint(w, time.Unix(0, e.Time).UTC().Format("2006-01-02T15:04:05.000000000Z")+" ")
			}
			w.Write(e.Data)
			shown(e)
		}
	}
}

// isDisconnect reports a lost connection to berthd (not an error it sent).
func isDisconnect(err error) bool {
	var de *client.DaemonError
	if errors.As(err, &de) {
		return de.Code == codes.Unavailable || de.Code == codes.Unknown && strings.Contains(de.Msg, "closed")
	}
	return true
}

// waitForDaemon waits until berthd answers again.
func waitForDaemon(ctx context.Context, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if c, err := dial(ctx); err == nil {
			_, err := c.Containers.List(ctx, &api.ListContainersRequest{})
			c.Close()
			if err == nil {
				return true
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}

// parseTime parses --since/--until: an RFC 3339 time, a Unix timestamp
// (with fraction), or a duration before now ("10m").
func parseTime(s string, now time.Time) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d).UnixNano(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t.UnixNano(), nil
		}
	}
	sec, frac, _ := strings.Cut(s, ".")
	if n, err := strconv.ParseInt(sec, 10, 64); err == nil {
		ns := int64(0)
		if frac != "" {
			frac = (frac + "000000000")[:9]
			ns, _ = strconv.ParseInt(frac, 10, 64)
		}
		return n*1e9 + ns, nil
	}
	return 0, fmt.Errorf("%q is neither a time, a Unix timestamp nor a duration", s)
}
