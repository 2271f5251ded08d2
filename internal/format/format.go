// Package format renders sizes, ages and IDs the way Docker prints them.
package format

import (
	"fmt"
	"strings"
	"time"
)

// Size renders bytes in decimal units with three significant digits
// (4.26MB, 523kB, 0B), as Docker's `images` and `history` do.
func Size(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.3g%s", f, units[i])
}

// Duration renders a duration as Docker's "About an hour", "2 weeks".
func Duration(d time.Duration) string {
	switch s := int(d.Seconds()); {
	case s < 1:
		return "Less than a second"
	case s == 1:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	}
	switch m := int(d.Minutes()); {
	case m == 1:
		return "About a minute"
	case m < 60:
		return fmt.Sprintf("%d minutes", m)
	}
	switch h := int(d.Round(time.Hour).Hours()); {
	case h == 1:
		return "About an hour"
	case h < 48:
		return fmt.Sprintf("%d hours", h)
	case h < 24*7*2:
		return fmt.Sprintf("%d days", h/24)
	case h < 24*30*2:
		return fmt.Sprintf("%d weeks", h/24/7)
	case h < 24*365*2:
		return fmt.Sprintf("%d months", h/24/30)
	default:
		return fmt.Sprintf("%d years", h/24/365)
	}
}

// Ago renders a Unix time as "2 weeks ago" ("N/A" for none).
func Ago(unix int64, now time.Time) string {
	if unix <= 0 {
		return "N/A"
	}
	return Duration(now.Sub(time.Unix(unix, 0))) + " ago"
}

// ShortID is the 12-hex-digit form of an ID or digest.
func ShortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Ellipsis truncates s to n runes, ending it with "…".
func Ellipsis(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
