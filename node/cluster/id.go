package cluster

import (
	"crypto/rand"
	"encoding/base32"
)

// idEncoding is Mattermost's id alphabet (model.NewId), as node/app uses
// it; the cluster needs ids for its discovery rows.
var idEncoding = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// newID returns a random 26-character id in Mattermost's format.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return idEncoding.EncodeToString(b[:])
}
