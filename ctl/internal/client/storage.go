package client

import "github.com/berth-project/berth/supervisor/api"

// Volumes is berthd's volume service on this connection.
func (c *Client) Volumes() api.TTRPCVolumesService { return api.NewTTRPCVolumesClient(c.c) }

// Networks is berthd's network service on this connection.
func (c *Client) Networks() api.TTRPCNetworksService { return api.NewTTRPCNetworksClient(c.c) }

// System is berthd's version and info service on this connection.
func (c *Client) System() api.TTRPCSystemClient { return api.NewTTRPCSystemClient(c.c) }
