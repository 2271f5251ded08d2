package main

import "github.com/spf13/cobra"

// newNetworkCommand is `berth network ...`; each verb is in
// network_VERB.go.
func newNetworkCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "network", Short: "Manage networks"}
	cmd.AddCommand(newNetworkCreateCommand(), newNetworkLsCommand(), newNetworkInspectCommand(),
		newNetworkRmCommand(), newNetworkConnectCommand(), newNetworkDisconnectCommand(), newNetworkPruneCommand())
	return cmd
}
