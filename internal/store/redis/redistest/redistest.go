// Package redistest starts real redis-server processes for tests: one
// server, or a three-master Redis Cluster, on free 127.0.0.1 ports with
// their data in a test's temporary folder, stopped at the test's end.
//
// It owns those processes and nothing else. A missing redis-server fails
// the test (with how to install it); it never skips.
package redistest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take to answer PING.
const startTimeout = 15 * time.Second

// Server is one redis-server process with append-only persistence
// (appendfsync always), so a restart on the same folder finds every
// acknowledged write.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// Dir holds the server's data (the AOF).
	Dir string

	tb    testing.TB
	extra []string
	cmd   *exec.Cmd
	done  chan struct{}
}

// Start starts a redis-server on a free loopback port and stops it at the
// test's end. extra are more redis-server arguments ("--maxmemory", "1mb").
func Start(tb testing.TB, extra ...string) *Server {
	tb.Helper()
	mustFind(tb, "redis-server")
	s := &Server{tb: tb, Dir: tb.TempDir(), extra: extra}
	var err error
	for try := 0; try < 3; try++ {
		s.Addr = freeAddr(tb)
		if err = s.start(); err == nil {
			tb.Cleanup(s.Kill)
			return s
		}
	}
	tb.Fatalf("redistest: start redis-server: %v", err)
	return nil
}

// URL is the server's redis:// URL (database 0).
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

func (s *Server) start() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	args := []string{
		"--bind", "127.0.0.1", "--port", port, "--dir", s.Dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always",
		"--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning",
	}
	args = append(args, s.extra...)
	cmd := exec.Command("redis-server", args...)
	log, err := os.OpenFile(filepath.Join(s.Dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return err
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		log.Close()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("redis-server on %s exited at start: %s", s.Addr, s.logTail())
		default:
		}
		// A server with requirepass answers NOAUTH: it is up too.
		if reply, err := Command(s.Addr, "PING"); err == nil && (reply == "+PONG" || strings.HasPrefix(reply, "-NOAUTH")) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Kill()
	return fmt.Errorf("redis-server on %s did not answer PING within %s: %s", s.Addr, startTimeout, s.logTail())
}

// Stop shuts the server down cleanly (SIGTERM) and waits for it to exit.
func (s *Server) Stop() { s.signal(syscall.SIGTERM) }

// Kill kills the server (SIGKILL) and waits for it to exit. Safe to call
// when it is not running.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

func (s *Server) signal(sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Restart starts the server again on the same port and folder (so it
// reloads its AOF) after Stop or Kill.
func (s *Server) Restart() {
	s.tb.Helper()
	var err error
	for try := 0; try < 50; try++ { // the port may linger for a moment
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.tb.Fatalf("redistest: restart redis-server on %s: %v", s.Addr, err)
}

// Log returns the end of the server's log.
func (s *Server) Log() string { return s.logTail() }

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// Cluster is a Redis Cluster of three masters without replicas.
type Cluster struct {
	// Servers are the masters.
	Servers []*Server
}

// StartCluster starts three cluster-enabled servers, joins them with
// redis-cli --cluster create and waits until every node reports the
// cluster ok. They stop at the test's end.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	mustFind(tb, "redis-cli")
	c := &Cluster{}
	var addrs []string
	for range 3 {
		s := Start(tb, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000", "--appendfsync", "everysec")
		c.Servers = append(c.Servers, s)
		addrs = append(addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command("redis-cli", args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(startTimeout)
	for _, s := range c.Servers {
		for {
			info, err := Command(s.Addr, "CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("redistest: cluster not ok on %s: %q, %v", s.Addr, info, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c
}

// URL is a redis:// URL that names every master, which the Redis store
// opens in cluster mode.
func (c *Cluster) URL() string {
	u := "redis://" + c.Servers[0].Addr + "?"
	for i, s := range c.Servers[1:] {
		if i > 0 {
			u += "&"
		}
		u += "addr=" + s.Addr
	}
	return u
}

// Command sends one command to addr and returns its reply's first line
// (for a bulk string, the whole string), without a client library.
func Command(addr string, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if strings.HasPrefix(line, "$") {
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return line, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return line, nil
}

// mustFind fails the test when name is not in PATH.
func mustFind(tb testing.TB, name string) {
	tb.Helper()
	if _, err := exec.LookPath(name); err != nil {
		tb.Fatalf("redistest: %s not found in PATH; the Redis store's tests need a real Redis: "+
			"apt-get install redis-server redis-tools (scripts/test.sh installs them)", name)
	}
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
