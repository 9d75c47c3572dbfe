package ws

import (
	"errors"
	"fmt"
	"time"
)

// Config holds the WebSocket API's settings. The defaults ([DefaultConfig])
// are Mattermost's constants (server/channels/app/platform/web_conn.go and
// web_hub.go); tests shrink the durations.
type Config struct {
	// Version is the server version the ping action reports as "version",
	// Mattermost's model.CurrentVersion (e.g. "10.5.0"). Empty sends "".
	Version string

	// ServerVersion is the hello event's "server_version". Mattermost sends
	// "<version>.<build>.<client config hash>.<licensed>"; clients compare
	// it between hellos to notice an upgrade. Empty sends "".
	ServerVersion string

	// Hostname is the hello event's "server_hostname". Empty means
	// os.Hostname(); when that fails too the key is left out, as Mattermost
	// does.
	Hostname string

	// NodeID is the ping reply's "node_id": this node's id in the cluster.
	NodeID string

	// SendQueueSize is the number of events and replies that may wait for
	// one connection's socket, Mattermost's sendQueueSize. From half of it
	// on, typing, status_change and channel_viewed events are dropped for
	// that connection; when it is full, the connection is closed and
	// forgotten (its client reconnects and gets a new connection_id).
	// Higher: a slow client survives longer bursts, at up to one pointer per
	// slot per connection. Must be at least 2.
	SendQueueSize int

	// DeadQueueSize is the number of events already written that each
	// connection keeps for replay after a reconnect, Mattermost's
	// deadQueueSize. Higher: a client may lose more in flight and still
	// resume, at one pointer per slot per connection (events are shared
	// between connections). Must be at least 1.
	DeadQueueSize int

	// WriteWait bounds one write to a socket; a socket that takes longer is
	// closed. Mattermost's writeWaitTime.
	WriteWait time.Duration

	// PongWait is how long a socket may stay silent (no frame, no pong)
	// before it is closed. Mattermost's pongWaitTime. Must exceed
	// PingInterval.
	PongWait time.Duration

	// PingInterval is how often the server sends a WebSocket ping frame.
	// Lower: dead peers are found sooner, more idle traffic. Mattermost's
	// pingInterval.
	PingInterval time.Duration

	// AuthTimeout is how long a socket opened without a valid session may
	// wait for its authentication_challenge before it is closed.
	// Mattermost's authCheckInterval.
	AuthTimeout time.Duration

	// InactiveTimeout is how long a connection whose socket closed is kept
	// (its queue still filling) for its client to resume it. Expired
	// connections are removed every InactiveTimeout/4. Mattermost keeps
	// them 5 minutes (and reaps every 5 minutes, so up to 10).
	InactiveTimeout time.Duration

	// DrainTimeout bounds [Hub.Drain]: how long a stopping node keeps the
	// connections whose sockets it closed for other nodes to take, once
	// their clients reconnected there. Beyond Mattermost, which loses them.
	DrainTimeout time.Duration

	// ReadLimit is the largest client frame accepted, in bytes; a larger one
	// closes the socket with 1009. Mattermost's SocketMaxMessageSizeKb
	// (8 KiB, despite its name).
	ReadLimit int64
}

// DefaultConfig returns Mattermost's settings, with empty version and node
// fields for the node to fill.
func DefaultConfig() Config {
	return Config{
		Version:         "",                // set by the node, from its build
		ServerVersion:   "",                // set by the node, from its build and config
		Hostname:        "",                // os.Hostname(), as Mattermost
		NodeID:          "",                // set by the node, from its cluster id
		SendQueueSize:   256,               // Mattermost's sendQueueSize
		DeadQueueSize:   128,               // Mattermost's deadQueueSize
		WriteWait:       30 * time.Second,  // Mattermost's writeWaitTime
		PongWait:        100 * time.Second, // Mattermost's pongWaitTime
		PingInterval:    60 * time.Second,  // Mattermost's pingInterval
		AuthTimeout:     5 * time.Second,   // Mattermost's authCheckInterval
		InactiveTimeout: 5 * time.Minute,   // Mattermost's inactive connection reaper
		DrainTimeout:    10 * time.Second,  // Chorus: clients reconnect within seconds
		ReadLimit:       8 * 1024,          // Mattermost's SocketMaxMessageSizeKb
	}
}

// validate reports the first invalid field.
func (c Config) validate() error {
	switch {
	case c.SendQueueSize < 2:
		return fmt.Errorf("ws: SendQueueSize %d: must be at least 2", c.SendQueueSize)
	case c.DeadQueueSize < 1:
		return fmt.Errorf("ws: DeadQueueSize %d: must be at least 1", c.DeadQueueSize)
	case c.WriteWait <= 0:
		return errors.New("ws: WriteWait must be positive")
	case c.PingInterval <= 0:
		return errors.New("ws: PingInterval must be positive")
	case c.PongWait <= c.PingInterval:
		return fmt.Errorf("ws: PongWait %v must exceed PingInterval %v", c.PongWait, c.PingInterval)
	case c.AuthTimeout <= 0:
		return errors.New("ws: AuthTimeout must be positive")
	case c.InactiveTimeout <= 0:
		return errors.New("ws: InactiveTimeout must be positive")
	case c.DrainTimeout <= 0:
		return errors.New("ws: DrainTimeout must be positive")
	case c.ReadLimit <= 0:
		return errors.New("ws: ReadLimit must be positive")
	}
	return nil
}
