// Package progress renders pull and push progress events: one line per
// layer redrawn in place with a bar on a terminal (as Docker does), and
// plain lines, one per status change, otherwise.
package progress

import (
	"fmt"
	"io"
	"strings"

	"github.com/berth-project/berth/internal/format"
	"github.com/berth-project/berth/supervisor/api"
)

// Renderer prints events to w.
type Renderer struct {
	w     io.Writer
	tty   bool
	lines int            // lines printed so far (terminal mode)
	pos   map[string]int // line of each layer id
	last  map[string]string
}

// New returns a renderer; tty selects the redrawing terminal mode.
func New(w io.Writer, tty bool) *Renderer {
	return &Renderer{w: w, tty: tty, pos: map[string]int{}, last: map[string]string{}}
}

// Event renders one event.
func (r *Renderer) Event(p *api.Progress) {
	if p.Done {
		return
	}
	if p.Id == "" {
		fmt.Fprintln(r.w, p.Status)
		r.lines++
		return
	}
	if !r.tty {
		if r.last[p.Id] == p.Status {
			return
		}
		r.last[p.Id] = p.Status
		fmt.Fprintf(r.w, "%s: %s\n", p.Id, p.Status)
		return
	}
	text := fmt.Sprintf("%s: %s", p.Id, p.Status)
	if (p.Status == "Downloading" || p.Status == "Pushing" || p.Status == "Extracting") && p.Total > 0 {
		text += " " + bar(p.Current, p.Total)
	}
	line, ok := r.pos[p.Id]
	if !ok {
		r.pos[p.Id] = r.lines
		r.lines++
		fmt.Fprintf(r.w, "%s\n", text)
		return
	}
	up := r.lines - line
	fmt.Fprintf(r.w, "\x1b[%dA\r\x1b[2K%s\r\x1b[%dB", up, text, up)
}

func bar(cur, total int64) string {
	const width = 50
	if cur > total {
		cur = total
	}
	n := int(float64(width) * float64(cur) / float64(total))
	b := strings.Repeat("=", n)
	if n < width {
		b += ">" + strings.Repeat(" ", width-n-1)
	}
	return fmt.Sprintf("[%s] %8s/%s", b, format.Size(cur), format.Size(total))
}
