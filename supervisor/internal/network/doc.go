// Package network is berthd's container networking: the default bridge
// network and user-defined bridges, IPAM kept in meta.db, a network
// namespace per container with a veth on each of its networks, NAT to
// the outside, published ports (-p), isolation between networks, a DNS
// responder per network that answers container names, and --network
// host and none.
//
// Kernel pieces: Linux bridges and veths through netlink
// (github.com/vishvananda/netlink); packet rules in one nftables table
// that berth owns and rewrites whole through `nft -f` when it changes (see
// firewall.go); namespaces bind-mounted on STATE/netns/ID.
//
// The containers service uses it like this:
//
//	ports, err := network.ParsePorts(runOpts.Publish)        // at create: validate early
//	att, err := nets.Attach(ctx, id, name, network.AttachRequest{
//		Networks: runOpts.Networks, Ports: ports, Hostname: h, Aliases: runOpts.Aliases,
//	})                                                        // before the task is created
//	if att.NetNSPath == "" { opts = append(opts, specs.WithHostNetwork()) } else {
//		opts = append(opts, specs.WithNamespacePath(rspec.NetworkNamespace, att.NetNSPath))
//	}
//	// write att.Hosts and att.ResolvConf to files, bind-mounted on /etc/hosts and /etc/resolv.conf
//	...
//	err = nets.Detach(ctx, id)                                 // after the task exited, and on rm
//
// and at berthd start, after it found its containers again:
//
//	err = nets.Restore(ctx, func(id string) bool { return running(id) })
//
// Restore re-creates the bridges, rules and DNS responders from meta.db,
// keeps the endpoints of the containers keep accepts and removes the
// others, plus any namespace file or bridge port nobody owns.
package network
