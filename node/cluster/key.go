package cluster

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// KeyName is the Systems row holding the cluster's gossip key, as in
// Mattermost: base64 of 16, 24 or 32 bytes (AES-128, -192 or -256).
const KeyName = "ClusterEncryptionKey"

// keySize is the size of a key this node creates: AES-256, Mattermost's
// default.
const keySize = 32

// loadKey returns the cluster's gossip key, creating it when no node has:
// every node proposes a new random key and the first insert wins, so
// nodes starting together agree without a lock.
func loadKey(ctx context.Context, ks KeyStore) ([]byte, error) {
	if ks == nil {
		return nil, fmt.Errorf("cluster: ClusterSettings.EnableGossipEncryption needs the Systems table (Deps.System)")
	}
	proposal := make([]byte, keySize)
	_, _ = rand.Read(proposal) // crypto/rand.Read never fails (Go 1.24+)
	stored, err := ks.InsertIfAbsent(ctx, KeyName, base64.StdEncoding.EncodeToString(proposal))
	if err != nil {
		return nil, fmt.Errorf("cluster: reading the gossip key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(stored)
	if err != nil {
		return nil, fmt.Errorf("cluster: the Systems row %s is not base64: %w", KeyName, err)
	}
	switch len(key) {
	case 16, 24, 32:
		return key, nil
	}
	return nil, fmt.Errorf("cluster: the Systems row %s holds %d bytes; want 16, 24 or 32 (AES)", KeyName, len(key))
}
