// Package brokertest starts real message brokers for tests on 127.0.0.1:
// nats-server with JetStream and a private rabbitmq-server node, each with
// its data in a temporary folder, stopped at the test's end (or, for the
// RabbitMQ node shared by a package's tests, by its TestMain). Redis comes
// from internal/store/redis/redistest; Kafka from franz-go's kfake.
//
// It owns those processes and nothing else. A missing broker fails the
// test with how to install it; it never skips.
package brokertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// process is one broker process and its log.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// spawn starts name with args and env (added to the environment), its
// output appended to logPath.
func spawn(path, logPath string, env []string, args ...string) (*process, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	// Its own process group, so a kill reaches the children a start
	// script leaves (RabbitMQ's Erlang VM).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		cmd.Wait()
		log.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process group and waits (up to 30 s, then
// SIGKILL) for the process to exit.
func (p *process) signal(sig syscall.Signal) {
	if p == nil {
		return
	}
	syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// tail is the end of the process's log.
func (p *process) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// find returns the path of the first of paths that exists or is on PATH,
// or fails tb with how to install pkg.
func find(tb testing.TB, pkg string, paths ...string) string {
	tb.Helper()
	for _, p := range paths {
		if filepath.IsAbs(p) {
			if _, err := os.Stat(p); err == nil {
				return p
			}
			continue
		}
		if lp, err := exec.LookPath(p); err == nil {
			return lp
		}
	}
	tb.Fatalf("brokertest: %s is not installed; install it with `apt-get install %s` (scripts/test.sh does)", paths[0], pkg)
	return ""
}

// freePort returns a loopback port that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitTCP waits until addr accepts connections, p exits, or timeout.
func waitTCP(p *process, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("exited at start: %s", p.tail())
		}
		if c, err := dialNotSelf("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("did not listen on %s within %s: %s", addr, timeout, p.tail())
}

// dialNotSelf dials addr, refusing a connection to itself. The tests'
// brokers listen on ports from the ephemeral range, and while one is down
// (killed, or still booting) a dial to its port can be given that same
// port as its local one: TCP's simultaneous open then connects the socket
// to itself, so "something accepted" is not "the broker listens" (and an
// AMQP client reads its own protocol header back as a bad frame).
func dialNotSelf(network, addr string) (net.Conn, error) {
	c, err := net.DialTimeout(network, addr, time.Second)
	if err != nil {
		return nil, err
	}
	if c.LocalAddr().String() == c.RemoteAddr().String() {
		c.Close()
		return nil, fmt.Errorf("dial %s: connected to itself (nothing listens there)", addr)
	}
	return c, nil
}

// retryStart calls start until it succeeds (a port may linger a moment
// after a stop, or be taken between choosing and binding).
func retryStart(tries int, start func() error) error {
	var err error
	for range tries {
		if err = start(); err == nil {
			return nil
		}
		if !strings.Contains(err.Error(), "address") && !strings.Contains(err.Error(), "eaddrinuse") && !strings.Contains(err.Error(), "did not listen") {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}
