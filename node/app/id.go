package app

import (
	"crypto/rand"
	"encoding/base32"
)

// idEncoding is Mattermost's id alphabet (model.NewId): lower-case base32
// in the z-base-32 order, without padding, so 16 bytes give 26 characters.
var idEncoding = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// IDLength is the length of a [NewID] id.
const IDLength = 26

// NewID returns a new random 26-character id in Mattermost's format, used
// for node ids and request ids. It draws 128 bits from crypto/rand.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return idEncoding.EncodeToString(b[:])
}

// IsValidID reports whether id has the shape of a [NewID] id.
func IsValidID(id string) bool {
	if len(id) != IDLength {
		return false
	}
	_, err := idEncoding.DecodeString(id)
	return err == nil
}
