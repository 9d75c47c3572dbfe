package store

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seed331fb32b/chorus/node/config"
)

// helperDBEnv tells a re-executed test binary to act as one node process of
// TestConcurrentOpenAcrossProcesses, opening the SQLite file it names.
const helperDBEnv = "CHORUS_STORE_HELPER_DB"

// TestConcurrentOpenAcrossProcesses starts five processes that open one new
// SQLite file at the same moment, as five nodes on one host would, and
// checks that they all succeed and migrate exactly once between them. SQLite
// locks between processes differently from connections in one process
// (POSIX advisory locks plus the WAL index in shared memory), so the
// in-process test alone would not cover it.
func TestConcurrentOpenAcrossProcesses(t *testing.T) {
	const nodes = 5
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot re-execute the test binary: %v", err)
	}
	path := filepath.Join(t.TempDir(), "shared", "chorus.db")

	type proc struct {
		cmd    *exec.Cmd
		stdin  io.WriteCloser
		stdout bytes.Buffer
		stderr bytes.Buffer
	}
	procs := make([]*proc, nodes)
	for i := range procs {
		p := &proc{cmd: exec.CommandContext(t.Context(), exe, "-test.run=^TestOpenHelperProcess$", "-test.count=1")}
		p.cmd.Env = append(os.Environ(), helperDBEnv+"="+path)
		p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
		if p.stdin, err = p.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[i] = p
	}
	// Release every process at once: each waits for its stdin to close.
	for _, p := range procs {
		p.stdin.Close()
	}

	applied := 0
	for i, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("process %d: %v\nstdout:\n%s\nstderr:\n%s", i, err, p.stdout.String(), p.stderr.String())
			continue
		}
		n, ok := helperApplied(p.stdout.String())
		if !ok {
			t.Errorf("process %d reported nothing:\n%s", i, p.stdout.String())
		}
		applied += n
	}
	migrations, err := loadMigrations(config.DriverSQLite)
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(migrations) {
		t.Errorf("processes applied %d migrations in total, want %d (each exactly once)", applied, len(migrations))
	}
}

// helperApplied finds the "applied=N" line a helper process prints.
func helperApplied(out string) (int, bool) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "applied="); ok {
			n, err := strconv.Atoi(v)
			return n, err == nil
		}
	}
	return 0, false
}

// TestOpenHelperProcess is one node process of
// TestConcurrentOpenAcrossProcesses; run directly, it skips.
func TestOpenHelperProcess(t *testing.T) {
	path := os.Getenv(helperDBEnv)
	if path == "" {
		t.Skip("helper process of TestConcurrentOpenAcrossProcesses")
	}
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
		t.Fatal(err)
	}
	settings := config.DefaultConfig().SqlSettings
	settings.DataSource = path
	s, err := Open(t.Context(), settings, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.System().SaveOrUpdate(t.Context(), "node_"+strconv.Itoa(os.Getpid()), "up"); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("applied=%d\n", s.migrated.applied)
}
