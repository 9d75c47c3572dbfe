package storetest

import (
	"crypto/rand"
	"encoding/base32"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
	"github.com/seed331fb32b/chorus/node/store/internal/testdb"
)

// Case is one function of the suite. Run may use the store as it likes,
// closing it included: every Case gets a fresh database.
type Case struct {
	Name string
	Run  func(t *testing.T, s *store.Store)
}

// All returns every function of the suite.
func All() []Case {
	return []Case{
		{"System", System},
		{"Users", Users},
		{"Sessions", Sessions},
		{"Teams", Teams},
		{"Channels", Channels},
		{"Posts", Posts},
		{"Statuses", Statuses},
		{"ClusterDiscovery", ClusterDiscovery},
		{"Jobs", Jobs},
		{"ClosedStore", ClosedStore},
	}
}

// Drivers returns every driver the suite runs against.
func Drivers() []string { return append([]string(nil), testdb.Drivers...) }

// Settings returns the default SqlSettings pointed at a fresh, empty
// database of driver, dropped when t ends.
func Settings(t testing.TB, driver string) config.SqlSettings {
	t.Helper()
	return testdb.Settings(t, driver)
}

// Open opens a store, logging to t, on a fresh database of driver, closed
// when t ends.
func Open(t testing.TB, driver string) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), Settings(t, driver), zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// idEncoding is Mattermost's id alphabet, as node/app uses it.
var idEncoding = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// NewID returns a random 26-character id in Mattermost's format, for test
// rows.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])
}
