package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newPortCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "port CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List port mappings or a specific mapping for the container",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			private := ""
			if len(args) == 2 {
				private = args[1]
				if !strings.Contains(private, "/") {
					private += "/tcp"
				}
				if n, err := strconv.Atoi(strings.Split(private, "/")[0]); err != nil || n < 1 || n > 65535 {
					return fmt.Errorf("invalid port %q: want PORT[/tcp|udp]", args[1])
				}
			}
			return runPort(cmd.Context(), args[0], private)
		},
	}
}

// runPort prints the published ports from the container's inspect
// NetworkSettings.Ports: every "CTR/PROTO -> IP:PORT", or for private
// only its "IP:PORT" lines.
func runPort(ctx context.Context, name, private string) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Containers.Inspect(ctx, &api.InspectContainersRequest{Names: []string{name}})
	if err != nil {
		return client.Wrap(err)
	}
	var ins struct {
		NetworkSettings struct {
			Ports map[string][]struct{ HostIp, HostPort string }
		}
	}
	if len(resp.Json) != 1 || json.Unmarshal(resp.Json[0], &ins) != nil {
		return fmt.Errorf("inspect %s: unexpected answer", name)
	}
	ports := ins.NetworkSettings.Ports
	if private != "" {
		if len(ports[private]) == 0 {
			return fmt.Errorf("No public port '%s' published for %s", private, name)
		}
		for _, b := range ports[private] {
			fmt.Printf("%s:%s\n", b.HostIp, b.HostPort)
		}
		return nil
	}
	keys := make([]string, 0, len(ports))
	for k := range ports {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		pi, _ := strconv.Atoi(strings.Split(keys[i], "/")[0])
		pj, _ := strconv.Atoi(strings.Split(keys[j], "/")[0])
		if pi != pj {
			return pi < pj
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		for _, b := range ports[k] {
			fmt.Printf("%s -> %s:%s\n", k, b.HostIp, b.HostPort)
		}
	}
	return nil
}
