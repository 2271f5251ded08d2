package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// newVolumeCommand is `berth volume ...`; each verb is in volume_VERB.go.
func newVolumeCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "volume", Short: "Manage volumes"}
	cmd.AddCommand(newVolumeCreateCommand(), newVolumeLsCommand(), newVolumeInspectCommand(),
		newVolumeRmCommand(), newVolumePruneCommand())
	return cmd
}

// parseKeyValues turns --label and --opt values (KEY=VALUE, or KEY for
// an empty value) into a map.
func parseKeyValues(vals []string) map[string]string {
	if len(vals) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, v := range vals {
		k, val, _ := strings.Cut(v, "=")
		m[k] = val
	}
	return m
}

// confirm asks a yes/no question on the terminal, as Docker's prune
// commands do without --force.
func confirm(question string) bool {
	fmt.Printf("WARNING! %s\nAre you sure you want to continue? [y/N] ", question)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}
