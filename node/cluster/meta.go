package cluster

import "encoding/json"

// Member roles and states of the gossip contract (docs/architecture.md).
const (
	// RoleApp is an app node's role.
	RoleApp = "app"
	// RoleProxy is a front door's role; app nodes ignore such members.
	RoleProxy = "proxy"
	// StateServing is an app node taking traffic.
	StateServing = "serving"
	// StateDraining is an app node asking the front door for no new
	// traffic.
	StateDraining = "draining"
)

// Meta is a member's gossip metadata (memberlist's NodeMeta), compact
// JSON of at most [metaMaxSize] bytes. The first six keys are the gossip
// contract's; SchemaVersion and Hostname are Chorus additions for the
// cluster status, which other readers ignore.
type Meta struct {
	Role          string `json:"role"`
	ID            string `json:"id"`
	Version       string `json:"version,omitempty"`
	ConfigHash    string `json:"config_hash,omitempty"`
	API           string `json:"api,omitempty"`
	State         string `json:"state,omitempty"`
	SchemaVersion string `json:"schema_version,omitempty"`
	Hostname      string `json:"hostname,omitempty"`
}

// metaMaxSize is memberlist's MetaMaxSize.
const metaMaxSize = 512

// encode marshals m within limit bytes, leaving out the Chorus additions
// (Hostname, then SchemaVersion) when it must; nil if even that is too
// long.
func (m Meta) encode(limit int) []byte {
	limit = min(limit, metaMaxSize)
	for range 3 {
		b, err := json.Marshal(m)
		if err == nil && len(b) <= limit {
			return b
		}
		switch {
		case m.Hostname != "":
			m.Hostname = ""
		default:
			m.SchemaVersion = ""
		}
	}
	return nil
}

// decodeMeta parses a member's metadata; ok is false for anything that is
// not an app node's (a front door, another program, garbage).
func decodeMeta(raw []byte) (m Meta, ok bool) {
	if json.Unmarshal(raw, &m) != nil || m.Role != RoleApp || m.ID == "" {
		return Meta{}, false
	}
	return m, true
}
