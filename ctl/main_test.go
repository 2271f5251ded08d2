package main

import (
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestCommandWord(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"run", "--rm", "busybox"}, "run"},
		{[]string{"-H", "/s", "ps", "-a"}, "ps"},
		{[]string{"--address", "/s", "logs"}, "logs"},
		{[]string{"--address=/s", "stop", "x"}, "stop"},
		{[]string{"-H/s", "rm", "x"}, "rm"},
		{[]string{"--help"}, ""},
		{[]string{"-h", "run"}, ""},
		{[]string{"help", "run"}, "help"},
	} {
		if got := commandWord(tc.args); got != tc.want {
			t.Errorf("commandWord(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestQuickCommandsMatchTree: a command built alone is the same command as
// in the whole tree: name, aliases, usage and every flag.
func TestQuickCommandsMatchTree(t *testing.T) {
	full := map[string]*cobra.Command{}
	for _, c := range newRootCommand(nil).Commands() {
		full[c.Name()] = c
	}
	flags := func(c *cobra.Command) map[string]string {
		m := map[string]string{}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			m[f.Name] = f.Shorthand + "|" + f.DefValue + "|" + f.Usage + "|" + f.Value.Type()
		})
		return m
	}
	for name := range quick {
		root := newRootCommand([]string{name})
		var got *cobra.Command
		for _, c := range root.Commands() {
			if c.Name() == name {
				got = c
			}
		}
		want := full[name]
		if got == nil || want == nil {
			t.Errorf("%s: quick %v, in the tree %v", name, got != nil, want != nil)
			continue
		}
		if got.Use != want.Use || got.Short != want.Short || len(got.Aliases) != len(want.Aliases) {
			t.Errorf("%s: quick %q %q %v, tree %q %q %v", name, got.Use, got.Short, got.Aliases, want.Use, want.Short, want.Aliases)
		}
		gf, wf := flags(got), flags(want)
		if len(gf) != len(wf) {
			t.Errorf("%s: %d flags alone, %d in the tree", name, len(gf), len(wf))
		}
		for k, v := range wf {
			if gf[k] != v {
				t.Errorf("%s --%s: alone %q, in the tree %q", name, k, gf[k], v)
			}
		}
	}
}
