// Package cluster makes several app nodes behave as one server, as
// Mattermost's high-availability mode does: it owns the node's gossip
// member (hashicorp/memberlist, labelled with ClusterSettings.ClusterName,
// optionally encrypted with the ClusterEncryptionKey Systems row), the
// node's row in the ClusterDiscovery table (saved at start, refreshed every
// minute, removed at a clean stop) through which nodes find each other,
// the member metadata the front door reads (the gossip contract in
// docs/architecture.md), inter-node messages (Mattermost's ClusterMessage:
// reliable over memberlist's TCP path, or best effort over UDP), requests
// answered by every peer, the leader (the live app member with the lowest
// node id), the clocks' offsets measured over the gossip's pings, and the
// data of GET /api/v4/cluster/status.
//
// Entry type: [Cluster], built by [New] from a [Config] ([DefaultConfig]
// holds the timings of the gossip contract) and [Deps], then [Cluster.Start]ed
// and [Cluster.Stop]ped. It implements node/ws's Cluster seam
// ([Cluster.Forward], [Cluster.FetchQueue]); the app registers handlers of
// its own events ([Cluster.Handle]) and sends them ([Cluster.Send]), asks
// whether a user has sockets elsewhere ([Cluster.RemoteSocketCount]), and
// hears leader changes ([Cluster.OnLeaderChange]). [ConfigHash] is the
// config hash every node announces; [Host] chooses the address a node
// announces.
//
// Members whose metadata role is not "app" (the front door joins as
// "proxy") are ignored for everything: leader, messages, requests, status.
//
// memberlist's types stop at this package's edge (memberlist.go); cluster
// imports node/config, node/store (the ClusterDiscovery and Systems
// accessors, through the small interfaces of [Deps]) and node/ws (event and
// queue types), and must not import node/app or node/api: the app declares
// the slice of Cluster it uses, and node/server.go wires them.
package cluster
