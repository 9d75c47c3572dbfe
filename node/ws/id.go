package ws

import (
	"crypto/rand"
	"encoding/base32"
)

// idEncoding is Mattermost's id alphabet (model.NewId): lower-case base32
// in the z-base-32 order, without padding, so 16 bytes give 26 characters.
// It repeats node/app's, which ws must not import.
var idEncoding = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// idLength is the length of a [newID] id.
const idLength = 26

// newID returns a new random connection id in Mattermost's format.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return idEncoding.EncodeToString(b[:])
}

// isValidID reports whether id has the shape of a [newID] id, as
// Mattermost's model.IsValidId checks a connection_id.
func isValidID(id string) bool {
	if len(id) != idLength {
		return false
	}
	_, err := idEncoding.DecodeString(id)
	return err == nil
}
