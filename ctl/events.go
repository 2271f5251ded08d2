package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

type eventsOptions struct {
	since, until, format string
	filters              []string
}

func newEventsCommand() *cobra.Command {
	var o eventsOptions
	cmd := &cobra.Command{
		Use:   "events [OPTIONS]",
		Short: "Get real time events from berthd",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEvents(cmd.Context(), os.Stdout, o, time.Now())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.since, "since", "", "show events since a time (RFC 3339, Unix seconds, or a duration ago such as 10m)")
	f.StringVar(&o.until, "until", "", "stream events until this time")
	f.StringArrayVarP(&o.filters, "filter", "f", nil, "filter output (type, event, container, image, network, volume, label)")
	f.StringVar(&o.format, "format", "", "format the output using a Go template")
	return cmd
}

func runEvents(ctx context.Context, w io.Writer, o eventsOptions, now time.Time) error {
	var req api.EventsRequest
	var err error
	if req.SinceNano, err = eventTime("since", o.since, now); err != nil {
		return err
	}
	if req.UntilNano, err = eventTime("until", o.until, now); err != nil {
		return err
	}
	req.Filters = o.filters
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	stream, err := c.System().Events(ctx, &req)
	if err != nil {
		return client.Wrap(err)
	}
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil // ^C ends the stream, as with Docker
			}
			return client.Wrap(err)
		}
		if err := printEvent(w, m.GetJson(), o.format); err != nil {
			return err
		}
	}
}

// eventTime parses --since/--until: RFC 3339 (with or without a zone),
// Unix seconds (fractions allowed), or a Go duration meaning that long
// before now. "" is 0 (no bound).
func eventTime(flag, v string, now time.Time) (int64, error) {
	if v == "" {
		return 0, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d).UnixNano(), nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		sec, frac := int64(f), f-float64(int64(f))
		return time.Unix(sec, int64(frac*1e9)).UnixNano(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t.UnixNano(), nil
		}
	}
	return 0, fmt.Errorf("invalid value %q for --%s: want RFC 3339, Unix seconds or a duration", v, flag)
}

// event is the part of berthd's event JSON the default output uses.
type event struct {
	Type, Action string
	Actor        struct {
		ID         string
		Attributes map[string]string
	}
	TimeNano int64 `json:"timeNano"`
}

// printEvent prints Docker's line: time, type, action, ID, then the
// attributes sorted by key; or the event through a template.
func printEvent(w io.Writer, raw []byte, tmpl string) error {
	if tmpl != "" {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		return executeTemplate(w, tmpl, v)
	}
	var e event
	if err := json.Unmarshal(raw, &e); err != nil {
		return err
	}
	keys := make([]string, 0, len(e.Actor.Attributes))
	for k := range e.Actor.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]string, len(keys))
	for i, k := range keys {
		attrs[i] = k + "=" + e.Actor.Attributes[k]
	}
	line := fmt.Sprintf("%s %s %s %s", time.Unix(0, e.TimeNano).Format(time.RFC3339Nano), e.Type, e.Action, e.Actor.ID)
	if len(attrs) > 0 {
		line += " (" + strings.Join(attrs, ", ") + ")"
	}
	_, err := fmt.Fprintln(w, line)
	return err
}
