package store

import (
	"slices"
	"testing"
)

func TestEveryDialectHasTheSameMigrations(t *testing.T) {
	versions := func(driver string) []int64 {
		ms, err := loadMigrations(driver)
		if err != nil {
			t.Fatalf("%s: %v", driver, err)
		}
		var out []int64
		for _, m := range ms {
			if len(m.statements) == 0 {
				t.Errorf("%s/%s has no statements", driver, m.name)
			}
			out = append(out, m.version)
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
