package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Bounds on every wait; a test that hits one fails with the state it saw.
const (
	waitTimeout  = 30 * time.Second      // a server start, stop, replay pause or catch-up
	toolTimeout  = 60 * time.Second      // one initdb or pg_basebackup run
	pollInterval = 20 * time.Millisecond // lower: earlier detection, more connection attempts
	logTailLines = 30                    // server log lines quoted in an error
	maxSocketLen = 107                   // sockaddr_un.sun_path on Linux, less the NUL
	waitDelay    = 5 * time.Second       // after a tool exits, how long its output pipes may stay open
	probeTimeout = 2 * time.Second       // one readiness or replication probe
)

// errPortTaken reports that a server exited because its port was taken
// between choosing it and binding it; Start retries with another port.
var errPortTaken = errors.New("pgcluster: port already in use")

// tools runs the PostgreSQL binaries as the account.
type tools struct {
	bin  string  // directory holding initdb, pg_basebackup and postgres
	acct account // who the processes run as
}

// command returns an unstarted command for the binary name, run in dir as
// the account; server marks the postmaster (see [account.sysProcAttr]).
func (tl tools) command(ctx context.Context, dir, name string, server bool, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(tl.bin, name), args...)
	// The test's working directory (the package source) need not be
	// reachable by the postgres user; initdb and postgres complain if not.
	cmd.Dir = dir
	cmd.Env = tl.acct.environ()
	cmd.SysProcAttr = tl.acct.sysProcAttr(server)
	cmd.WaitDelay = waitDelay
	return cmd
}

// run runs the binary name to completion, bounded by ctx and toolTimeout,
// and quotes the tail of its output in the error.
func (tl tools) run(ctx context.Context, dir, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	out, err := tl.command(ctx, dir, name, false, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("running %s %s as %s: %w\n%s", name, strings.Join(args, " "), tl.acct.name, err, lastLines(out, logTailLines))
	}
	return nil
}

// server is one PostgreSQL server: its directory, its port and, while it
// runs, its postmaster process. It is not safe for concurrent use.
type server struct {
	name  string // "primary" or "replica": the directory name and the word in messages
	dir   string // owned by the account; holds data/, server.log and the Unix socket
	port  int    // TCP port on 127.0.0.1; zero until first started, then kept across restarts
	tools tools

	proc *process // the running postmaster; nil while stopped
}

// process is a started postmaster.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and err is set
	err  error         // cmd.Wait's result; read only after done is closed
}

// exited reports whether the process has exited, without blocking.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (s *server) dataDir() string { return filepath.Join(s.dir, "data") }
func (s *server) logPath() string { return filepath.Join(s.dir, "server.log") }

// dsn is the URL to connect to s as the superuser over TCP.
func (s *server) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// startOnFreePort starts s, which has never run, on a free port, and tries
// another port when the chosen one was taken in the meantime.
func (s *server) startOnFreePort(ctx context.Context, standby bool) error {
	var err error
	for range 3 {
		if s.port, err = freePort(); err != nil {
			return err
		}
		if err = s.start(ctx, standby); !errors.Is(err, errPortTaken) {
			return err
		}
	}
	return err
}

// start launches the postmaster on s.port, appending its output to
// server.log, and waits until it accepts connections and its recovery state
// is standby, until ctx ends or at most waitTimeout. On failure the process
// is killed and the error quotes the log's tail.
func (s *server) start(ctx context.Context, standby bool) error {
	if s.proc != nil {
		return fmt.Errorf("starting %s: already running", s.name)
	}
	if sock := filepath.Join(s.dir, ".s.PGSQL."+strconv.Itoa(s.port)); len(sock) > maxSocketLen {
		return fmt.Errorf("starting %s: socket path %s is longer than %d bytes; set TMPDIR to a shorter directory", s.name, sock, maxSocketLen)
	}
	logf, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening %s log: %w", s.name, err)
	}
	fi, err := logf.Stat()
	if err == nil {
		err = s.tools.acct.own(s.logPath()) // so its user can read it too
	}
	if err != nil {
		logf.Close()
		return fmt.Errorf("opening %s log: %w", s.name, err)
	}
	logStart := fi.Size() // where this run's output begins

	// The settings that differ between the two servers are flags, so the
	// postgresql.conf that pg_basebackup copies from the primary fits both.
	// Lifetime is managed by stop, not by a context: exec.CommandContext
	// would SIGKILL the postmaster and leave its backends behind.
	cmd := s.tools.command(context.Background(), s.dir, "postgres", true,
		"-D", s.dataDir(),
		"-p", strconv.Itoa(s.port),
		"-k", s.dir,
		"-c", "listen_addresses=127.0.0.1")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", s.name, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	s.proc = p

	ctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	ctx, cancelExit := context.WithCancelCause(ctx)
	defer cancelExit(nil)
	go func() {
		select {
		case <-p.done:
			cancelExit(fmt.Errorf("postgres exited: %v", p.err))
		case <-ctx.Done():
		}
	}()
	err = poll(ctx, func(ctx context.Context) error { return s.probe(ctx, standby) })
	if err == nil {
		return nil
	}
	s.kill()
	if log, _ := os.ReadFile(s.logPath()); int64(len(log)) >= logStart && bytes.Contains(log[logStart:], []byte("Address already in use")) {
		err = fmt.Errorf("%w: %w", errPortTaken, err)
	}
	return fmt.Errorf("waiting for %s on port %d to accept connections: %w\n%s", s.name, s.port, err, s.logTail())
}

// probe returns nil once s accepts connections and pg_is_in_recovery() is
// standby, and otherwise why not.
func (s *server) probe(ctx context.Context, standby bool) error {
	var inRecovery bool
	if err := queryRow(ctx, s.dsn(), "SELECT pg_is_in_recovery()", nil, &inRecovery); err != nil {
		return err
	}
	if inRecovery != standby {
		return fmt.Errorf("pg_is_in_recovery() = %t, want %t", inRecovery, standby)
	}
	return nil
}

// stop shuts s down fast (SIGINT: open transactions are rolled back, the
// shutdown checkpoint is written) and waits until the postmaster has exited
// and the port refuses connections, until ctx ends. A postmaster still there
// then is killed. Stopping a stopped server does nothing. The error also
// reports a server that had exited on its own.
func (s *server) stop(ctx context.Context) error {
	p := s.proc
	if p == nil {
		return nil
	}
	if p.exited() {
		s.proc = nil
		return fmt.Errorf("%s had exited on its own: %v\n%s", s.name, p.err, s.logTail())
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.kill()
		return fmt.Errorf("signalling %s to shut down: %w", s.name, err)
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		s.kill()
		return fmt.Errorf("waiting for %s to shut down: %w\n%s", s.name, context.Cause(ctx), s.logTail())
	}
	s.proc = nil
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	err := poll(ctx, func(ctx context.Context) error {
		conn, err := (&net.Dialer{Timeout: probeTimeout}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil
		}
		conn.Close()
		return fmt.Errorf("%s still accepts connections", addr)
	})
	if err != nil {
		return fmt.Errorf("waiting for %s's port to close: %w", s.name, err)
	}
	return nil
}

// kill ends the postmaster at once and waits for it, at most waitTimeout.
// Its backends notice the postmaster's death and exit by themselves.
func (s *server) kill() {
	p := s.proc
	if p == nil {
		return
	}
	s.proc = nil
	_ = p.cmd.Process.Kill() // fails only if it has exited, which is the goal
	select {
	case <-p.done:
	case <-time.After(waitTimeout):
	}
}

// logTail returns the last lines of s's server log, or why it has none.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath())
	if err != nil {
		return fmt.Sprintf("(no %s log: %v)", s.name, err)
	}
	return fmt.Sprintf("--- last lines of %s ---\n%s", s.logPath(), lastLines(b, logTailLines))
}

// lastLines returns the last n lines of b, without a trailing newline.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// poll calls cond every pollInterval until it returns nil or ctx ends; then
// the error is ctx's cause with cond's last answer, the state it saw.
func poll(ctx context.Context, cond func(context.Context) error) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		probeCtx, cancel := context.WithTimeout(ctx, probeTimeout)
		last := cond(probeCtx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %w)", context.Cause(ctx), last)
		case <-t.C:
		}
	}
}
