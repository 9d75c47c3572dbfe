package store

import (
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestCheckSchema(t *testing.T) {
	node := SchemaVersion{1, 4}
	tests := []struct {
		db SchemaVersion
		ok bool
	}{
		{SchemaVersion{1, 0}, true}, // older: the node migrates it
		{SchemaVersion{1, 4}, true},
		{SchemaVersion{1, 5}, true}, // one minor ahead: additive, still compatible
		{SchemaVersion{1, 6}, false},
		{SchemaVersion{2, 0}, false},
		{SchemaVersion{0, 9}, false},
	}
	for _, tt := range tests {
		t.Run(tt.db.String(), func(t *testing.T) {
			err := checkSchema(tt.db, node)
			if (err == nil) != tt.ok {
				t.Errorf("checkSchema(%v, %v) = %v, want ok %v", tt.db, node, err, tt.ok)
			}
		})
	}
}

func TestParseSchemaVersion(t *testing.T) {
	for in, want := range map[string]SchemaVersion{"1.0": {1, 0}, "1.12": {1, 12}, "10.3": {10, 3}} {
		if got, err := parseSchemaVersion(in); err != nil || got != want {
			t.Errorf("parseSchemaVersion(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1", "1.", "v1.0", "1.0.0", "a.b", " 1.0"} {
		if _, err := parseSchemaVersion(in); err == nil {
			t.Errorf("parseSchemaVersion(%q) succeeded", in)
		}
	}
}

// TestOpenChecksSchemaVersion records schema versions in a migrated
// database, as newer nodes would, and opens it again.
func TestOpenChecksSchemaVersion(t *testing.T) {
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			migrations, err := loadMigrations(driver)
			if err != nil {
				t.Fatal(err)
			}
			node := latestSchema(migrations)
			settings := testSettings(t, driver)
			// record writes the Systems row directly, as a newer node would,
			// since Open refuses some of these versions.
			record := func(v string) {
				t.Helper()
				d, err := dialectFor(driver)
				if err != nil {
					t.Fatal(err)
				}
				dsn, err := d.dsn(settings.DataSource)
				if err != nil {
					t.Fatal(err)
				}
				db, err := sql.Open(d.driver(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if _, err := db.ExecContext(t.Context(), d.rebind("UPDATE Systems SET Value = ? WHERE Name = ?"), v, SchemaVersionKey); err != nil {
					t.Fatal(err)
				}
			}
			recorded := func() string {
				t.Helper()
				s := openWith(t, settings)
				v, err := s.System().Get(t.Context(), SchemaVersionKey)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}

			if got := recorded(); got != node.String() {
				t.Fatalf("a new database records schema %q, want %q", got, node)
			}

			oneAhead := SchemaVersion{node.Major, node.Minor + 1}
			record(oneAhead.String())
			if got := recorded(); got != oneAhead.String() {
				t.Errorf("after opening a schema one minor ahead, it records %q, want %q (never lowered)", got, oneAhead)
			}

			for _, tooNew := range []SchemaVersion{{node.Major, node.Minor + 2}, {node.Major + 1, 0}} {
				record(tooNew.String())
				// Five nodes starting together all refuse.
				var wg sync.WaitGroup
				errs := make([]error, 5)
				for i := range errs {
					wg.Go(func() {
						s, err := Open(t.Context(), settings, nil)
						if err == nil {
							s.Close()
						}
						errs[i] = err
					})
				}
				wg.Wait()
				t.Logf("refusal: %v", errs[0])
				for i, err := range errs {
					var verr *SchemaVersionError
					if !errors.As(err, &verr) {
						t.Fatalf("node %d: Open on schema %s: err = %v, want a *SchemaVersionError", i, tooNew, err)
					}
					if verr.Database != tooNew || verr.Node != node {
						t.Errorf("SchemaVersionError = %+v, want database %s, node %s", verr, tooNew, node)
					}
					for _, want := range []string{"database schema is version " + tooNew.String(), "this node", node.String()} {
						if !strings.Contains(err.Error(), want) {
							t.Errorf("error %q does not contain %q", err, want)
						}
					}
				}
			}
		})
	}
}
