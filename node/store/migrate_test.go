package store

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestEveryDialectHasTheSameMigrations checks that the dialects number
// their migrations alike and put each in the same schema version.
func TestEveryDialectHasTheSameMigrations(t *testing.T) {
	versions := func(driver string) []string {
		ms, err := loadMigrations(driver)
		if err != nil {
			t.Fatalf("%s: %v", driver, err)
		}
		var out []string
		for _, m := range ms {
			if len(m.statements) == 0 {
				t.Errorf("%s/%s has no statements", driver, m.name)
			}
			out = append(out, fmt.Sprintf("%d@%s", m.version, m.schema))
		}
		return out
	}
	want := versions(allDrivers[0])
	if len(want) == 0 {
		t.Fatalf("%s has no migrations", allDrivers[0])
	}
	for _, d := range allDrivers[1:] {
		if got := versions(d); !slices.Equal(got, want) {
			t.Errorf("%s migrations %v, %s has %v", allDrivers[0], want, d, got)
		}
	}
}

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"one statement", "CREATE TABLE a (x int);\n", []string{"CREATE TABLE a (x int)"}},
		{"comments and blank lines dropped", "-- c\n\nCREATE TABLE a (x int);\n-- d\n", []string{"CREATE TABLE a (x int)"}},
		{"several statements, last without newline", "A;\nB (\n  y\n);  \nC;", []string{"A", "B (\n  y\n)", "C"}},
		{"semicolon inside a line does not split", "INSERT INTO t VALUES (';x');\n", []string{"INSERT INTO t VALUES (';x')"}},
		{"CRLF line ends", "A;\r\nB;\r\n", []string{"A", "B"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitStatements(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("splitStatements = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadMigrationsChecksHeaders(t *testing.T) {
	file := func(text string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(text)} }
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string // "" means no error
	}{
		{"headers in order", fstest.MapFS{
			"migrations/x/000001_a.sql": file("-- schema 1.0\nCREATE TABLE a (x int);\n"),
			"migrations/x/000002_b.sql": file("-- schema 1.0\r\nCREATE TABLE b (x int);\n"),
			"migrations/x/000003_c.sql": file("-- schema 1.3\n-- more words\nCREATE TABLE c (x int);\n"),
		}, ""},
		{"missing header", fstest.MapFS{
			"migrations/x/000001_a.sql": file("-- creates a\nCREATE TABLE a (x int);\n"),
		}, "first line must be"},
		{"header not on the first line", fstest.MapFS{
			"migrations/x/000001_a.sql": file("\n-- schema 1.0\nCREATE TABLE a (x int);\n"),
		}, "first line must be"},
		{"schema version going back", fstest.MapFS{
			"migrations/x/000001_a.sql": file("-- schema 1.2\nCREATE TABLE a (x int);\n"),
			"migrations/x/000002_b.sql": file("-- schema 1.1\nCREATE TABLE b (x int);\n"),
		}, "schema versions must not go back"},
		{"bad file name", fstest.MapFS{
			"migrations/x/first.sql": file("-- schema 1.0\nCREATE TABLE a (x int);\n"),
		}, "must start with a positive number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := readMigrations(tt.files, "x")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := latestSchema(ms); got != (SchemaVersion{1, 3}) {
					t.Errorf("latestSchema = %v, want 1.3", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("readMigrations error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
