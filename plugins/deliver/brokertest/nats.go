package brokertest

import (
	"fmt"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// natsStartTimeout bounds how long nats-server may take to listen.
const natsStartTimeout = 30 * time.Second

// NATS is one nats-server with JetStream, its store in a temporary folder,
// so a restart on the same folder keeps every acknowledged message.
type NATS struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// Dir holds JetStream's store.
	Dir string

	tb   testing.TB
	path string
	port int
	p    *process
}

// StartNATS starts nats-server -js on a free loopback port; it is killed at
// the test's end.
func StartNATS(tb testing.TB) *NATS {
	tb.Helper()
	n := &NATS{tb: tb, Dir: tb.TempDir(), path: find(tb, "nats-server", "nats-server", "/usr/sbin/nats-server")}
	err := retryStart(5, func() error {
		n.port = freePort(tb)
		return n.start()
	})
	if err != nil {
		tb.Fatalf("brokertest: start nats-server: %v", err)
	}
	tb.Cleanup(n.Kill)
	return n
}

// URL is the server's nats:// URL.
func (n *NATS) URL() string { return "nats://" + n.Addr }

func (n *NATS) start() error {
	n.Addr = "127.0.0.1:" + strconv.Itoa(n.port)
	p, err := spawn(n.path, filepath.Join(n.Dir, "nats.log"), nil,
		"-a", "127.0.0.1", "-p", strconv.Itoa(n.port), "-js", "-sd", filepath.Join(n.Dir, "js"),
		"-n", "hookgate-test")
	if err != nil {
		return err
	}
	if err := waitTCP(p, n.Addr, natsStartTimeout); err != nil {
		p.signal(syscall.SIGKILL)
		return fmt.Errorf("nats-server on %s: %w", n.Addr, err)
	}
	n.p = p
	return nil
}

// Kill kills the server (SIGKILL) and waits for it to exit; safe when it
// is not running.
func (n *NATS) Kill() { n.p.signal(syscall.SIGKILL); n.p = nil }

// Restart starts the server again on the same port and store after Kill.
func (n *NATS) Restart() {
	n.tb.Helper()
	if err := retryStart(50, n.start); err != nil {
		n.tb.Fatalf("brokertest: restart nats-server on %s: %v", n.Addr, err)
	}
}
