package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/internal/format"
	"github.com/berth-project/berth/supervisor/api"
)

type imagesOptions struct {
	quiet, digests, noTrunc, all bool
	filters                      []string
}

func newImagesCommand() *cobra.Command {
	var o imagesOptions
	cmd := &cobra.Command{
		Use:     "images [OPTIONS] [REPOSITORY[:TAG]]",
		Aliases: []string{"ls", "list"},
		Short:   "List images",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			repo := ""
			if len(args) == 1 {
				repo = args[0]
			}
			return runImages(cmd.Context(), repo, o)
		},
	}
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "only show image IDs")
	cmd.Flags().BoolVar(&o.digests, "digests", false, "show digests")
	cmd.Flags().BoolVar(&o.noTrunc, "no-trunc", false, "don't truncate output")
	cmd.Flags().BoolVarP(&o.all, "all", "a", false, "show all images (default hides intermediate images)")
	cmd.Flags().StringArrayVarP(&o.filters, "filter", "f", nil, "filter output (dangling=true|false)")
	return cmd
}

type imageRow struct {
	repo, tag, digest string
	img               *api.ImageSummary
}

func splitRepoTag(s string) (repo, tag string) {
	if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, '/') {
		return s[:i], s[i+1:]
	}
	return s, "<none>"
}

// rows expands images into Docker's rows: one per tag; an untagged image
// shows its repository from a repo digest, else <none>.
func rows(imgs []*api.ImageSummary) []imageRow {
	var out []imageRow
	for _, img := range imgs {
		digests := map[string]string{}
		for _, rd := range img.RepoDigests {
			if r, d, ok := strings.Cut(rd, "@"); ok {
				digests[r] = d
			}
		}
		if len(img.RepoTags) == 0 {
			if len(digests) == 0 {
				out = append(out, imageRow{"<none>", "<none>", "<none>", img})
			}
			for r, d := range digests {
				out = append(out, imageRow{r, "<none>", d, img})
			}
			continue
		}
		for _, t := range img.RepoTags {
			r, tag := splitRepoTag(t)
			d := digests[r]
			if d == "" {
				d = "<none>"
			}
			out = append(out, imageRow{r, tag, d, img})
		}
	}
	return out
}

func runImages(ctx context.Context, repo string, o imagesOptions) error {
	req := &api.ListImagesRequest{All: o.all}
	for _, f := range o.filters {
		switch f {
		case "dangling=true", "dangling=1":
			req.Dangling = true
		case "dangling=false", "dangling=0":
		default:
			return fmt.Errorf("invalid filter %q (supported: dangling=true|false)", f)
		}
	}
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Images.List(ctx, req)
	if err != nil {
		return client.Wrap(err)
	}
	rs := rows(resp.Images)
	if repo != "" {
		wantRepo, wantTag := splitRepoTag(repo)
		var kept []imageRow
		for _, r := range rs {
			if r.repo == wantRepo && (wantTag == "<none>" || r.tag == wantTag) {
				kept = append(kept, r)
			}
		}
		rs = kept
	}
	if o.quiet {
		seen := map[string]bool{}
		for _, r := range rs {
			id := format.ShortID(r.img.Id)
			if o.noTrunc {
				id = r.img.Id
			}
			if !seen[id] {
				seen[id] = true
				fmt.Println(id)
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 8, 3, ' ', 0)
	if o.digests {
		fmt.Fprintln(tw, "REPOSITORY\tTAG\tDIGEST\tIMAGE ID\tCREATED\tSIZE")
	} else {
		fmt.Fprintln(tw, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
	}
	now := time.Now()
	for _, r := range rs {
		id := format.ShortID(r.img.Id)
		if o.noTrunc {
			id = r.img.Id
		}
		cols := []string{r.repo, r.tag}
		if o.digests {
			cols = append(cols, r.digest)
		}
		cols = append(cols, id, format.Ago(r.img.Created, now), format.Size(r.img.Size))
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	return tw.Flush()
}
