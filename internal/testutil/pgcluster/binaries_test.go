package pgcluster

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFindBinDir(t *testing.T) {
	all := []string{"initdb", "pg_basebackup", "postgres"}
	tests := []struct {
		name     string
		tree     map[string][]string // directory under the root -> executables in it
		override string              // directory under the root, or ""
		path     string              // directory under the root found through $PATH, or ""
		want     string              // directory under the root, or "" for an error
		wantErr  error               // with want == "": nil means "some error, not errNoBinaries"
	}{
		{
			name: "newest complete version wins, numerically",
			tree: map[string][]string{"lib/9.6/bin": all, "lib/15/bin": all, "lib/16/bin": all},
			want: "lib/16/bin",
		},
		{
			name: "incomplete newer version is passed over",
			tree: map[string][]string{"lib/15/bin": all, "lib/16/bin": {"postgres"}},
			want: "lib/15/bin",
		},
		{
			name:    "non-version entries are ignored",
			tree:    map[string][]string{"lib/common/bin": all},
			wantErr: errNoBinaries,
		},
		{
			name: "PATH is the last resort",
			tree: map[string][]string{"usr/bin": all},
			path: "usr/bin",
			want: "usr/bin",
		},
		{
			name:     "override wins over installed versions",
			tree:     map[string][]string{"lib/16/bin": all, "custom": all},
			override: "custom",
			want:     "custom",
		},
		{
			name:     "override without the binaries fails instead of skipping",
			tree:     map[string][]string{"lib/16/bin": all, "custom": {"initdb"}},
			override: "custom",
		},
		{
			name:    "nothing installed is errNoBinaries",
			wantErr: errNoBinaries,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for dir, names := range tt.tree {
				for _, name := range names {
					writeExecutable(t, filepath.Join(root, dir, name))
				}
			}
			// A non-executable file does not count.
			writeFile(t, filepath.Join(root, "lib/17/bin/initdb"), 0o644)
			override := ""
			if tt.override != "" {
				override = filepath.Join(root, tt.override)
			}
			lookPath := func(name string) (string, error) {
				if tt.path == "" {
					return "", errors.New("not found")
				}
				return filepath.Join(root, tt.path, name), nil
			}

			got, err := findBinDir(override, filepath.Join(root, "lib"), lookPath)
			switch {
			case tt.want != "":
				if err != nil || got != filepath.Join(root, tt.want) {
					t.Fatalf("findBinDir = %q, %v; want %q", got, err, filepath.Join(root, tt.want))
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("findBinDir = %q, %v; want %v", got, err, tt.wantErr)
				}
			default:
				if err == nil || errors.Is(err, errNoBinaries) {
					t.Fatalf("findBinDir = %q, %v; want an error other than errNoBinaries", got, err)
				}
			}
		})
	}
}

func writeExecutable(t *testing.T, path string) { t.Helper(); writeFile(t, path, 0o755) }

func writeFile(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
		t.Fatal(err)
	}
}
