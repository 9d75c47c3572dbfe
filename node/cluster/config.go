package cluster

import (
	"errors"
	"fmt"
	"time"

	"github.com/seed331fb32b/chorus/node/config"
)

// Config is one node's cluster settings: the operator's ClusterSettings,
// who the node is, and timings. Start from [DefaultConfig]; [New] validates
// it and never modifies it.
type Config struct {
	// Settings are the node's ClusterSettings (Mattermost's names). Enable
	// must be true and ClusterName set. GossipPort 0 takes a free port
	// (tests); BindAddress "" binds every interface.
	Settings config.ClusterSettings

	// NodeID is this node's id (the app's 26-character node id): its
	// gossip member name, and what the leader election compares. Required.
	NodeID string
	// Version is the Chorus version the node announces (status page,
	// version mismatch).
	Version string
	// SchemaVersion is the database schema version the node runs on, as
	// the Systems row ChorusSchemaVersion records it ("1.1").
	SchemaVersion string
	// ConfigHash is the node's [ConfigHash], announced so mismatched
	// configs show. Change it later with [Cluster.SetConfigHash].
	ConfigHash string
	// APIAddress is the host:port where the node serves its HTTP API, what
	// the front door proxies to (gossip contract's "api").
	APIAddress string
	// Hostname is the node's host name in the cluster status. Empty means
	// os.Hostname().
	Hostname string

	// ProbeInterval, ProbeTimeout, SuspicionMult and GossipInterval are
	// memberlist's failure detector, shrunk from its LAN defaults as the
	// gossip contract says: a node stopped without leaving is suspected
	// after a failed probe and declared dead after the suspicion timeout
	// (SuspicionMult × ProbeInterval for clusters under 10 nodes), so
	// within about ProbeInterval + ProbeTimeout + SuspicionMult ×
	// ProbeInterval. Lower: faster detection, more probe traffic and more
	// false alarms on a loaded host. The front door uses the same values.
	ProbeInterval  time.Duration
	ProbeTimeout   time.Duration
	SuspicionMult  int
	GossipInterval time.Duration
	// TCPTimeout bounds one TCP exchange with a peer: a join, a push/pull,
	// a reliable message. Lower: a dead peer holds a sender or a join up
	// for less time; a slow network may fail exchanges.
	TCPTimeout time.Duration

	// PingInterval is how often the node refreshes LastPingAt of its
	// ClusterDiscovery row, Mattermost's DiscoveryServiceWritePing.
	PingInterval time.Duration
	// OfflineAfter is how old a ClusterDiscovery row's LastPingAt may be
	// before the row is ignored and cleaned, Mattermost's
	// CDSOfflineAfterMillis.
	OfflineAfter time.Duration
	// RejoinInterval is how often the node joins the live ClusterDiscovery
	// rows (pinged within 2 × PingInterval) it has no member for, so a
	// node cut off and restored, or two halves of a partition, merge again.
	// Lower: faster merge, more database reads.
	RejoinInterval time.Duration

	// RequestTimeout bounds a request to the other nodes when the caller's
	// context has no earlier deadline (a queue fetch, a socket count, the
	// status).
	RequestTimeout time.Duration
	// SendQueueSize is the number of messages that may wait for one peer;
	// beyond it new messages to that peer are dropped and counted. Higher:
	// a slow peer survives longer bursts, at more memory.
	SendQueueSize int
	// MaxBestEffortSize is the largest message sent best effort (one UDP
	// datagram), in bytes; a larger best-effort message goes the reliable
	// way instead, since a lost fragment loses the whole datagram.
	MaxBestEffortSize int
	// LeaveTimeout bounds the leave broadcast of [Cluster.Stop].
	LeaveTimeout time.Duration
	// MaxClockSkew is the clock offset to another node above which the
	// status flags a skew (posts are ordered by their nodes' clocks).
	MaxClockSkew time.Duration
}

// DefaultConfig returns the gossip contract's timings and Mattermost's
// discovery intervals, with the identity fields and Settings empty.
func DefaultConfig() Config {
	return Config{
		Settings:          config.DefaultConfig().ClusterSettings, // Mattermost's defaults; the node sets its own
		ProbeInterval:     300 * time.Millisecond,                 // a crashed node is dropped within about 1.5 s
		ProbeTimeout:      150 * time.Millisecond,                 // loopback and LAN answer in well under that
		SuspicionMult:     2,                                      // suspicion lasts 0.6 s: time for a busy node to refute
		GossipInterval:    100 * time.Millisecond,                 // joins and state changes spread in about this
		TCPTimeout:        2 * time.Second,                        // memberlist's 10 s is for WANs; a LAN peer answers at once
		PingInterval:      time.Minute,                            // Mattermost's DiscoveryServiceWritePing
		OfflineAfter:      30 * time.Minute,                       // Mattermost's CDSOfflineAfterMillis
		RejoinInterval:    5 * time.Second,                        // a restored node merges within seconds
		RequestTimeout:    2 * time.Second,                        // a live peer answers in milliseconds
		SendQueueSize:     4096,                                   // seconds of a busy node's events
		MaxBestEffortSize: 1200,                                   // one datagram under a 1280-byte IPv6 minimum MTU
		LeaveTimeout:      2 * time.Second,                        // the others hear of the leave at once
		MaxClockSkew:      time.Second,                            // posts a second out of order are visible to users
	}
}

// maxClusterName is the ClusterDiscovery.ClusterName column's width.
const maxClusterName = 64

// validate reports the first setting that cannot work, by name.
func (c Config) validate() error {
	s := c.Settings
	switch {
	case !s.Enable:
		return errors.New("cluster: ClusterSettings.Enable is false")
	case s.ClusterName == "":
		// An unnamed cluster lets HTTP work through the balancer while
		// events never reach the other nodes (mattermost/mattermost#17762).
		return errors.New("cluster: ClusterSettings.ClusterName is empty; it is required when ClusterSettings.Enable is true")
	case len(s.ClusterName) > maxClusterName:
		return fmt.Errorf("cluster: ClusterSettings.ClusterName is %d bytes, more than %d", len(s.ClusterName), maxClusterName)
	case s.GossipPort < 0 || s.GossipPort > 65535:
		return fmt.Errorf("cluster: ClusterSettings.GossipPort %d is out of range", s.GossipPort)
	case c.NodeID == "" || len(c.NodeID) > 64:
		return errors.New("cluster: NodeID must be 1 to 64 characters")
	case c.ProbeInterval <= 0 || c.ProbeTimeout <= 0 || c.GossipInterval <= 0 || c.TCPTimeout <= 0 || c.SuspicionMult < 1:
		return errors.New("cluster: ProbeInterval, ProbeTimeout, GossipInterval, TCPTimeout and SuspicionMult must be positive")
	case c.PingInterval <= 0 || c.OfflineAfter <= 0 || c.RejoinInterval <= 0:
		return errors.New("cluster: PingInterval, OfflineAfter and RejoinInterval must be positive")
	case c.RequestTimeout <= 0 || c.LeaveTimeout <= 0 || c.MaxClockSkew <= 0:
		return errors.New("cluster: RequestTimeout, LeaveTimeout and MaxClockSkew must be positive")
	case c.SendQueueSize < 1 || c.MaxBestEffortSize < 64:
		return errors.New("cluster: SendQueueSize must be positive and MaxBestEffortSize at least 64")
	}
	return nil
}
