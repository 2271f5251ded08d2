package client

import "github.com/berth-project/berth/supervisor/api"

// Build returns the Build service client on this connection.
func (c *Client) Build() api.TTRPCBuildClient { return api.NewTTRPCBuildClient(c.c) }
