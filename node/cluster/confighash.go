package cluster

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/seed331fb32b/chorus/node/config"
)

// ConfigHash returns the hash a node announces of its configuration: 32
// hex digits (the first 128 bits of SHA-256) of cfg as canonical JSON
// (sections and fields sorted), without ClusterSettings, which differ
// between nodes by design (Mattermost's docs: "the cluster settings in the
// config are removed from the config file hash"), and without the settings
// taken from the environment ([config.Config.EnvOverrides]), which are
// per-node deployment details: the value an environment variable replaced
// is not kept by config.Load, so such a setting is left out whole. Two
// nodes with the same config.json files apart from ClusterSettings announce
// the same hash. A nil cfg hashes as an empty object.
func ConfigHash(cfg *config.Config) string {
	tree := map[string]any{}
	if cfg != nil {
		b, err := json.Marshal(cfg)
		if err == nil {
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber() // keeps integers exact
			_ = dec.Decode(&tree)
		}
		for _, path := range cfg.EnvOverrides() {
			section, field, _ := strings.Cut(path, ".")
			if m, ok := tree[section].(map[string]any); ok {
				delete(m, field)
			}
		}
	}
	delete(tree, "ClusterSettings")
	canonical, _ := json.Marshal(tree) // map keys marshal sorted
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:16])
}
