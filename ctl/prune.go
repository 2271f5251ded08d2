package main

import (
	"fmt"
	"io"
)

// printDeleted prints one "Deleted <what>:" section of a prune's report,
// as Docker does: the items, then a blank line; nothing when there are none.
func printDeleted(w io.Writer, what string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(w, "Deleted %s:\n", what)
	for _, it := range items {
		fmt.Fprintln(w, it)
	}
	fmt.Fprintln(w)
}
