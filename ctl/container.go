package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/internal/format"
	"github.com/berth-project/berth/supervisor/api"
)

// containerCommands are the top-level container verbs.
func containerCommands() []*cobra.Command {
	return []*cobra.Command{
		newRunCommand(), newCreateCommand(), newStartCommand(), newStopCommand(), newRestartCommand(),
		newKillCommand(), newRmCommand(), newPauseCommand(), newUnpauseCommand(), newWaitCommand(),
		newRenameCommand(), newPsCommand(), newLogsCommand(), newExecCommand(), newAttachCommand(),
		newTopCommand(), newStatsCommand(), newCpCommand(), newDiffCommand(), newCommitCommand(),
		newExportCommand(), newPortCommand(), newUpdateCommand(),
	}
}

// newContainerCommand is `berth container ...`, Docker's management
// command: every container verb, plus ls, inspect and prune.
func newContainerCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "container", Short: "Manage containers"}
	for _, c := range containerCommands() {
		if c.Name() == "ps" {
			c.Use, c.Aliases = "ls [OPTIONS]", []string{"ps", "list"}
		}
		cmd.AddCommand(c)
	}
	cmd.AddCommand(newContainerInspectCommand(), newContainerPruneCommand())
	return cmd
}

func newContainerPruneCommand() *cobra.Command {
	var force bool
	var filters []string
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all stopped containers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runContainerPrune(cmd.Context(), force, filters)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not prompt for confirmation")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "provide filter values (e.g. 'label=<key>=<value>')")
	return cmd
}

func runContainerPrune(ctx context.Context, force bool, filters []string) error {
	if !force {
		if !confirm("This will remove all stopped containers.") {
			return nil
		}
	}
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Containers.Prune(ctx, &api.PruneContainersRequest{Filters: filters})
	if err != nil {
		return client.Wrap(err)
	}
	printDeleted(os.Stdout, "Containers", resp.Deleted)
	fmt.Printf("Total reclaimed space: %s\n", format.Size(resp.SpaceReclaimed))
	return nil
}
