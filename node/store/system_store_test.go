package store

import (
	"errors"
	"strings"
	"testing"
)

// systemSuite is the Systems table's behaviour, run against every driver by
// TestStore. Each case gets a fresh database.
var systemSuite = []struct {
	name string
	run  func(t *testing.T, s *Store)
}{
	{"get of a missing name returns ErrNotFound", func(t *testing.T, s *Store) {
		_, err := s.System().Get(t.Context(), "nope")
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get: err = %v, want ErrNotFound", err)
		}
	}},
	{"saved value is read back", func(t *testing.T, s *Store) {
		sys := s.System()
		if err := sys.SaveOrUpdate(t.Context(), "AdvancedPermissionsMigrationComplete", "true"); err != nil {
			t.Fatal(err)
		}
		got, err := sys.Get(t.Context(), "AdvancedPermissionsMigrationComplete")
		if err != nil || got != "true" {
			t.Fatalf("Get = %q, %v; want \"true\"", got, err)
		}
	}},
	{"saving an existing name replaces its value", func(t *testing.T, s *Store) {
		sys := s.System()
		for _, v := range []string{"1", "2", "3"} {
			if err := sys.SaveOrUpdate(t.Context(), "counter", v); err != nil {
				t.Fatal(err)
			}
		}
		got, err := sys.Get(t.Context(), "counter")
		if err != nil || got != "3" {
			t.Fatalf("Get = %q, %v; want \"3\"", got, err)
		}
		if n := countRows(t, s, "Systems"); n != 1 {
			t.Errorf("Systems has %d rows, want 1", n)
		}
	}},
	{"empty, long and non-ASCII values round-trip", func(t *testing.T, s *Store) {
		sys := s.System()
		for name, value := range map[string]string{
			"empty":   "",
			"long":    strings.Repeat("x", 60000), // Mattermost's MySQL text column holds 64 KiB
			"unicode": "héllo 🌍 世界",
			"name-of-64-bytes-" + strings.Repeat("n", 47): "max name length",
		} {
			if err := sys.SaveOrUpdate(t.Context(), name, value); err != nil {
				t.Fatalf("SaveOrUpdate(%.20q): %v", name, err)
			}
			got, err := sys.Get(t.Context(), name)
			if err != nil || got != value {
				t.Errorf("Get(%.20q) = %.20q, %v; want %.20q", name, got, err, value)
			}
		}
	}},
	{"deleted name is gone and deleting it again succeeds", func(t *testing.T, s *Store) {
		sys := s.System()
		if err := sys.SaveOrUpdate(t.Context(), "health_check_x", "1700000000"); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := sys.PermanentDeleteByName(t.Context(), "health_check_x"); err != nil {
				t.Fatalf("PermanentDeleteByName: %v", err)
			}
		}
		if _, err := sys.Get(t.Context(), "health_check_x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get after delete: err = %v, want ErrNotFound", err)
		}
	}},
	{"operations on a closed store fail", func(t *testing.T, s *Store) {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.System().SaveOrUpdate(t.Context(), "a", "b"); err == nil {
			t.Error("SaveOrUpdate on a closed store succeeded")
		}
		if _, err := s.System().Get(t.Context(), "a"); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Get on a closed store: err = %v, want a non-NotFound error", err)
		}
		if err := s.System().PermanentDeleteByName(t.Context(), "a"); err == nil {
			t.Error("PermanentDeleteByName on a closed store succeeded")
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}},
}
