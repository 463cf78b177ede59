// Package testredis starts a real Redis server (Debian's redis-server) for tests: on a free
// loopback port, in a temporary directory, with no persistence, stopped when the test ends.
// Tests use it instead of a fake so that what they show holds against the server pal meets.
package testredis

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running redis-server.
type Server struct {
	Addr     string // 127.0.0.1:port
	Password string // "" when started without one
	stop     func()
}

// Stop kills the server now (it is killed at the end of the test otherwise).
func (s *Server) Stop() { s.stop() }

// Options of Start.
type Options struct {
	// Password, when set, is required of clients (requirepass).
	Password string
}

// startupWait bounds how long Start waits for the server to answer.
const startupWait = 20 * time.Second

// Start starts redis-server and stops it when t ends. A machine without redis-server fails
// the test with what to install: `make test` installs it.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed: `apt-get install redis-server` (make test installs it when missing)")
	}
	var lastErr error
	for range 5 { // a port found free can be taken before the server binds it
		s, err := start(t, bin, opts)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("redis-server: %v", lastErr)
	return nil
}

func start(t testing.TB, bin string, opts Options) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	conf := []string{
		"bind 127.0.0.1", "port " + strconv.Itoa(port), "dir " + dir, `save ""`, "appendonly no",
		"daemonize no", "protected-mode yes", "loglevel warning", "logfile " + filepath.Join(dir, "redis.log"),
	}
	if opts.Password != "" {
		conf = append(conf, "requirepass "+opts.Password)
	}
	// The configuration goes in a file, so that the password is on no command line.
	confPath := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(confPath, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, confPath)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cmd.Process.Kill()
			<-done
		})
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Password: opts.Password, stop: stop}
	ctx, cancel := context.WithTimeout(context.Background(), startupWait)
	defer cancel()
	for {
		if err := s.ping(); err == nil {
			t.Cleanup(stop)
			return s, nil
		}
		select {
		case err := <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			return nil, fmt.Errorf("exited (%v): %s", err, log)
		case <-ctx.Done():
			stop()
			return nil, fmt.Errorf("did not answer on %s within %v", s.Addr, startupWait)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ping sends PING (after AUTH when there is a password) in the wire protocol and wants PONG.
func (s *Server) ping() error {
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	r := bufio.NewReader(c)
	if s.Password != "" {
		fmt.Fprintf(c, "*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n", len(s.Password), s.Password)
		if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
			return fmt.Errorf("AUTH: %q %v", line, err)
		}
	}
	fmt.Fprintf(c, "*1\r\n$4\r\nPING\r\n")
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING: %q", line)
	}
	return nil
}
