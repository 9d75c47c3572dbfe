package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one child process of the harness, in its own process group.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // Wait's result, set before done is closed
}

// pid is the process's id, also the id of its process group.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// procs starts and stops the harness' children and keeps -pgid-file listing
// the live ones.
type procs struct {
	logDir   string
	pgidFile string
	mu       sync.Mutex // guards live
	live     map[*proc]bool
}

func newProcs(logDir, pgidFile string) *procs {
	return &procs{logDir: logDir, pgidFile: pgidFile, live: map[*proc]bool{}}
}

// start runs argv with extra environment variables env, its output
// appended to logDir/name.log. If firstLine is not nil, the first line of
// the child's standard output is sent to it (and the rest goes to the log).
func (s *procs) start(name string, env []string, firstLine chan<- string, argv ...string) (*proc, error) {
	log, err := os.OpenFile(fmt.Sprintf("%s/%s.log", s.logDir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s's log: %w", name, err)
	}
	fmt.Fprintf(log, "==== %s: %s\n", time.Now().Format(time.RFC3339), strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout io.ReadCloser
	if firstLine != nil {
		if stdout, err = cmd.StdoutPipe(); err != nil {
			_ = log.Close()
			return nil, err
		}
	} else {
		cmd.Stdout = log
	}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: log, done: make(chan struct{})}
	if stdout != nil {
		go func() {
			r := bufio.NewReader(stdout)
			line, _ := r.ReadString('\n')
			firstLine <- strings.TrimSpace(line)
			_, _ = io.Copy(log, r)
		}()
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.mu.Lock()
	s.live[p] = true
	s.mu.Unlock()
	s.writePgids()
	return p, nil
}

// stop ends p's process group: SIGTERM, then SIGKILL after 10 s.
func (s *procs) stop(p *proc) {
	if p == nil {
		return
	}
	if !p.exited() {
		_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
			<-p.done
		}
	}
	// NGINX's workers leave with their master; make sure of it.
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	_ = p.log.Close()
	s.mu.Lock()
	delete(s.live, p)
	s.mu.Unlock()
	s.writePgids()
}

// stopAll stops every live child.
func (s *procs) stopAll() {
	s.mu.Lock()
	var all []*proc
	for p := range s.live {
		all = append(all, p)
	}
	s.mu.Unlock()
	for _, p := range all {
		s.stop(p)
	}
}

// writePgids rewrites -pgid-file with "pgid name" per live child.
func (s *procs) writePgids() {
	if s.pgidFile == "" {
		return
	}
	s.mu.Lock()
	var b strings.Builder
	for p := range s.live {
		fmt.Fprintf(&b, "%d %s\n", p.pid(), p.name)
	}
	s.mu.Unlock()
	_ = os.WriteFile(s.pgidFile, []byte(b.String()), 0o644)
}

// logTail returns the last lines of name's log since its latest start,
// for error messages.
func (s *procs) logTail(name string, lines int) string {
	b, err := os.ReadFile(fmt.Sprintf("%s/%s.log", s.logDir, name))
	if err != nil {
		return ""
	}
	text := string(b)
	if i := strings.LastIndex(text, "==== "); i >= 0 {
		text = text[i:]
	}
	all := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// freePorts hands out loopback ports that were free when asked for, never
// the same one twice in a run.
type freePorts struct {
	mu   sync.Mutex // guards used
	used map[int]bool
}

// next returns a free TCP port on 127.0.0.1.
func (f *freePorts) next() (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.used == nil {
		f.used = map[int]bool{}
	}
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("finding a free port: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		if !f.used[port] {
			f.used[port] = true
			return port, nil
		}
	}
	return 0, errors.New("finding a free port: the kernel keeps returning used ones")
}

// waitReady polls url until it answers 200 three times in a row, p exits,
// or ctx ends or 30 s pass.
func waitReady(ctx context.Context, p *proc, url string) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(30 * time.Second)
	ok, last := 0, error(nil)
	for ok < 3 {
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited during start-up: %v", p.name, p.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after 30 s: %v", url, last)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %s", resp.Status)
			}
		}
		if err != nil {
			ok, last = 0, err
			time.Sleep(100 * time.Millisecond)
			continue
		}
		ok++
	}
	return nil
}
