package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/internal/format"
	"github.com/berth-project/berth/supervisor/api"
)

type psOptions struct {
	all, quiet, noTrunc, latest bool
	last                        int
	filters                     []string
	format                      string
}

func newPsCommand() *cobra.Command {
	var o psOptions
	cmd := &cobra.Command{
		Use:   "ps [OPTIONS]",
		Short: "List containers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPs(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	fs.BoolVarP(&o.all, "all", "a", false, "show all containers (default shows just running)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "only display container IDs")
	fs.BoolVar(&o.noTrunc, "no-trunc", false, "don't truncate output")
	fs.BoolVarP(&o.latest, "latest", "l", false, "show the latest created container (includes all states)")
	fs.IntVarP(&o.last, "last", "n", -1, "show n last created containers (includes all states)")
	fs.StringArrayVarP(&o.filters, "filter", "f", nil, "filter output based on conditions provided (name=, status=, ancestor=, id=, label=, exited=)")
	fs.StringVar(&o.format, "format", "", "format output using a Go template ('table ...' adds a header)")
	fs.BoolP("size", "s", false, "display total file sizes (not supported; ignored)")
	return cmd
}

// psRow is a container as `ps --format` templates see it: Docker's
// placeholders .ID, .Image, .Command, .CreatedAt, .RunningFor, .Ports,
// .State, .Status, .Size, .Names, .Labels, .Mounts, .Networks.
type psRow struct {
	c       *api.ContainerSummary
	noTrunc bool
	now     time.Time
}

func (r psRow) ID() string {
	if r.noTrunc {
		return r.c.Id
	}
	return format.ShortID(r.c.Id)
}
func (r psRow) Image() string { return r.c.Image }
func (r psRow) Command() string {
	if r.noTrunc {
		return strconv.Quote(r.c.Command)
	}
	return strconv.Quote(format.Ellipsis(r.c.Command, 20))
}
func (r psRow) CreatedAt() string {
	return time.Unix(r.c.Created, 0).Format("2006-01-02 15:04:05 -0700 MST")
}
func (r psRow) RunningFor() string { return format.Ago(r.c.Created, r.now) }
func (r psRow) Ports() string      { return strings.Join(r.c.Ports, ", ") }
func (r psRow) State() string      { return r.c.State }
func (r psRow) Status() string     { return r.c.Status }
func (r psRow) Size() string       { return "0B" }
func (r psRow) Names() string      { return r.c.Name }
func (r psRow) Mounts() string     { return strings.Join(r.c.Mounts, ",") }
func (r psRow) Networks() string   { return strings.Join(r.c.Networks, ",") }
func (r psRow) Labels() string {
	var l []string
	for k, v := range r.c.Labels {
		l = append(l, k+"="+v)
	}
	return strings.Join(l, ",")
}
func (r psRow) Label(name string) string { return r.c.Labels[name] }

// psHeaders name the columns of a `table` format, as Docker does.
var psHeaders = map[string]string{
	"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
	"RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS", "Size": "SIZE",
	"Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS",
}

const psDefaultFormat = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

func runPs(ctx context.Context, o psOptions) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	all := o.all || o.latest || o.last >= 0
	resp, err := c.Containers.List(ctx, &api.ListContainersRequest{All: all, Filters: o.filters})
	if err != nil {
		return client.Wrap(err)
	}
	list := resp.Containers
	if o.latest && len(list) > 1 {
		list = list[:1]
	}
	if o.last >= 0 && len(list) > o.last {
		list = list[:o.last]
	}
	now := time.Now()
	if o.quiet {
		for _, ct := range list {
			fmt.Println(psRow{c: ct, noTrunc: o.noTrunc}.ID())
		}
		return nil
	}
	fmtStr := o.format
	if fmtStr == "" || fmtStr == "table" {
		fmtStr = psDefaultFormat
	}
	table := strings.HasPrefix(fmtStr, "table")
	body := strings.TrimSpace(strings.TrimPrefix(fmtStr, "table"))
	if fmtStr == "json" || body == "json" {
		body = "{{json .}}"
	}
	tmpl, err := template.New("ps").Funcs(template.FuncMap{
		"json":  func(v any) string { return jsonString(v) },
		"upper": strings.ToUpper, "lower": strings.ToLower,
		"truncate": func(s string, n int) string { return format.Ellipsis(s, n) },
	}).Parse(body)
	if err != nil {
		return fmt.Errorf("template parsing error: %w", err)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 8, 3, ' ', 0)
	if table {
		hdr := body
		for k, v := range psHeaders {
			hdr = strings.ReplaceAll(hdr, "{{."+k+"}}", v)
		}
		fmt.Fprintln(tw, hdr)
	}
	for _, ct := range list {
		row := psRow{c: ct, noTrunc: o.noTrunc, now: now}
		var v any = row
		if body == "{{json .}}" {
			v = row.jsonMap()
		}
		if err := tmpl.Execute(tw, v); err != nil {
			return err
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func (r psRow) jsonMap() map[string]string {
	return map[string]string{
		"ID": r.ID(), "Image": r.Image(), "Command": r.Command(), "CreatedAt": r.CreatedAt(),
		"RunningFor": r.RunningFor(), "Ports": r.Ports(), "State": r.State(), "Status": r.Status(),
		"Size": r.Size(), "Names": r.Names(), "Labels": r.Labels(), "Mounts": r.Mounts(), "Networks": r.Networks(),
	}
}
