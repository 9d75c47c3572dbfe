package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// binDirEnv names the environment variable that, when set, is the only
// directory searched for the PostgreSQL server binaries.
const binDirEnv = "CHORUS_PG_BIN"

// debianRoot holds one <major version>/bin directory per installed PostgreSQL
// on Debian and Ubuntu (postgresql-common's layout).
const debianRoot = "/usr/lib/postgresql"

// errNoBinaries reports that no directory holds the server binaries; Start
// skips the test on it (or fails it under CI=true).
var errNoBinaries = errors.New("pgcluster: PostgreSQL server binaries not found")

// findBinDir returns the directory holding initdb, pg_basebackup and
// postgres. A non-empty override is the only candidate, and an override
// without the binaries is an error other than errNoBinaries, because someone
// asked for it on purpose. Otherwise the newest version under root wins, then
// the directory of initdb on lookPath.
func findBinDir(override, root string, lookPath func(string) (string, error)) (string, error) {
	if override != "" {
		if missing := missingTools(override); len(missing) > 0 {
			return "", fmt.Errorf("pgcluster: $%s=%s lacks %s", binDirEnv, override, strings.Join(missing, ", "))
		}
		return override, nil
	}
	for _, dir := range versionDirs(root) {
		if len(missingTools(dir)) == 0 {
			return dir, nil
		}
	}
	if initdb, err := lookPath("initdb"); err == nil {
		if dir := filepath.Dir(initdb); len(missingTools(dir)) == 0 {
			return dir, nil
		}
	}
	return "", fmt.Errorf("searched $%s, %s/<version>/bin and $PATH: %w", binDirEnv, root, errNoBinaries)
}

// versionDirs returns root/<version>/bin for every entry of root whose name is
// a version ("16", "9.6"), newest first. An unreadable root yields none.
func versionDirs(root string) []string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	type candidate struct {
		version []int
		dir     string
	}
	var found []candidate
	for _, e := range entries {
		if v, ok := parseVersion(e.Name()); ok {
			found = append(found, candidate{v, filepath.Join(root, e.Name(), "bin")})
		}
	}
	slices.SortFunc(found, func(a, b candidate) int { return slices.Compare(b.version, a.version) })
	dirs := make([]string, len(found))
	for i, c := range found {
		dirs[i] = c.dir
	}
	return dirs
}

// parseVersion splits a dotted version of non-negative integers; ok is false
// for anything else, so "16" sorts above "9.6" and "common" is ignored.
func parseVersion(name string) (v []int, ok bool) {
	for part := range strings.SplitSeq(name, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return nil, false
		}
		v = append(v, n)
	}
	return v, true
}

// missingTools returns the binaries Start needs that dir lacks as executable
// regular files. pg_ctl is not needed: the helper supervises postgres itself,
// so it knows the process's exit at once and can signal it.
func missingTools(dir string) []string {
	var missing []string
	for _, name := range []string{"initdb", "pg_basebackup", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			missing = append(missing, name)
		}
	}
	return missing
}

// defaultBinDir is findBinDir with this machine's environment.
func defaultBinDir() (string, error) {
	return findBinDir(os.Getenv(binDirEnv), debianRoot, exec.LookPath)
}
