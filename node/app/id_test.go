package app

import (
	"strings"
	"testing"

	"github.com/seed331fb32b/chorus/node/config"
)

func TestNewID(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		id := NewID()
		if len(id) != IDLength {
			t.Fatalf("NewID() = %q, length %d, want %d", id, len(id), IDLength)
		}
		if strings.Trim(id, "ybndrfg8ejkmcpqxot1uwisza345h769") != "" {
			t.Fatalf("NewID() = %q has characters outside Mattermost's alphabet", id)
		}
		if !IsValidID(id) {
			t.Fatalf("IsValidID(%q) = false", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestIsValidID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{"Mattermost id", "7p3y6o1fqtyx8ej4fghtk9o1ea", true},
		{"too short", "7p3y6o1fqtyx8ej4fghtk9o1e", false},
		{"upper case", "7P3Y6O1FQTYX8EJ4FGHTK9O1EA", false},
		{"outside the alphabet", "lp3y6o1fqtyx8ej4fghtk9o1ea", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsValidID(tt.id); got != tt.want {
				t.Errorf("IsValidID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestNodeIDIsFixedPerApp(t *testing.T) {
	a, b := newApp(&fakeSystem{}, config.ServiceSettings{}, nil), newApp(&fakeSystem{}, config.ServiceSettings{}, nil)
	first := a.NodeID()
	a.Healthy(t.Context(), true)
	if a.NodeID() != first || !IsValidID(first) {
		t.Errorf("NodeID() = %q then %q, want one fixed valid id", first, a.NodeID())
	}
	if a.NodeID() == b.NodeID() {
		t.Error("two apps share a node id")
	}
}
