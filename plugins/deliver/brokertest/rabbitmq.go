package brokertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// rabbitStartTimeout bounds how long a node may take to boot: an Erlang VM
// and RabbitMQ's boot steps take seconds, more on a busy machine.
const rabbitStartTimeout = 120 * time.Second

// RabbitMQ is one private rabbitmq-server node: its own Erlang port mapper
// (epmd) on a free loopback port, its own cookie and home, its database and
// logs in a temporary folder, AMQP on 127.0.0.1. A restart on the same
// folder keeps durable queues and their persistent, confirmed messages.
type RabbitMQ struct {
	// Addr is the AMQP listener, host:port on 127.0.0.1.
	Addr string
	// Dir holds the node's database, logs and home.
	Dir string

	path     string
	epmdPath string
	env      []string
	port     int
	epmd     *process
	p        *process
}

// StartRabbitMQ boots a private node. Boot takes seconds, so a package
// starts one (TestMain or a sync.Once) and calls Stop when done; tb is
// only used to fail when the broker is missing or does not boot.
func StartRabbitMQ(tb testing.TB, dir string) *RabbitMQ {
	tb.Helper()
	r := &RabbitMQ{
		Dir:      dir,
		path:     find(tb, "rabbitmq-server", "/usr/lib/rabbitmq/bin/rabbitmq-server", "rabbitmq-server"),
		epmdPath: find(tb, "rabbitmq-server", "epmd", "/usr/bin/epmd"),
	}
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		tb.Fatal(err)
	}
	// A cookie of its own, so no other Erlang node can talk to it.
	if err := os.WriteFile(filepath.Join(home, ".erlang.cookie"), []byte(fmt.Sprintf("HOOKGATETEST%d", time.Now().UnixNano())), 0o400); err != nil {
		tb.Fatal(err)
	}
	epmdPort := freePort(tb)
	ep, err := spawn(r.epmdPath, filepath.Join(dir, "epmd.log"), []string{"ERL_EPMD_ADDRESS=127.0.0.1"},
		"-port", strconv.Itoa(epmdPort), "-address", "127.0.0.1")
	if err != nil {
		tb.Fatalf("brokertest: start epmd: %v", err)
	}
	if err := waitTCP(ep, "127.0.0.1:"+strconv.Itoa(epmdPort), 30*time.Second); err != nil {
		ep.signal(syscall.SIGKILL)
		tb.Fatalf("brokertest: epmd: %v", err)
	}
	r.epmd = ep
	r.port = freePort(tb)
	dist := freePort(tb)
	plugins := filepath.Join(dir, "enabled_plugins")
	os.WriteFile(plugins, []byte("[].\n"), 0o600)
	r.env = []string{
		"HOME=" + home,
		"ERL_EPMD_PORT=" + strconv.Itoa(epmdPort),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		"RABBITMQ_NODENAME=hookgate" + strconv.Itoa(r.port) + "@localhost",
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT=" + strconv.Itoa(r.port),
		"RABBITMQ_DIST_PORT=" + strconv.Itoa(dist),
		"RABBITMQ_MNESIA_BASE=" + filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE=" + filepath.Join(dir, "log"),
		"RABBITMQ_ENABLED_PLUGINS_FILE=" + plugins,
		"RABBITMQ_PLUGINS_EXPAND_DIR=" + filepath.Join(dir, "plugins-expand"),
		"RABBITMQ_PID_FILE=" + filepath.Join(dir, "rabbit.pid"),
		"RABBITMQ_CONFIG_FILE=" + filepath.Join(dir, "rabbitmq"),
		"RABBITMQ_ADVANCED_CONFIG_FILE=" + filepath.Join(dir, "advanced.config"),
		"RABBITMQ_CONF_ENV_FILE=" + filepath.Join(dir, "rabbitmq-env.conf"),
		"RABBITMQ_LOGS=" + filepath.Join(dir, "log", "rabbit.log"),
	}
	r.Addr = "127.0.0.1:" + strconv.Itoa(r.port)
	if err := r.start(); err != nil {
		r.Stop()
		tb.Fatalf("brokertest: start rabbitmq-server: %v", err)
	}
	return r
}

// URL is the node's amqp:// URL as the default guest user (allowed from
// loopback only).
func (r *RabbitMQ) URL() string { return "amqp://guest:guest@" + r.Addr + "/" }

func (r *RabbitMQ) start() error {
	p, err := spawn(r.path, filepath.Join(r.Dir, "rabbitmq-server.log"), r.env)
	if err != nil {
		return err
	}
	if err := waitTCP(p, r.Addr, rabbitStartTimeout); err != nil {
		p.signal(syscall.SIGKILL)
		return fmt.Errorf("rabbitmq-server on %s: %w", r.Addr, err)
	}
	r.p = p
	return nil
}

// Kill kills the node (SIGKILL to its process group) and waits for it to
// exit; safe when it is not running.
func (r *RabbitMQ) Kill() { r.p.signal(syscall.SIGKILL); r.p = nil }

// Restart boots the node again on the same port and database after Kill.
func (r *RabbitMQ) Restart(tb testing.TB) {
	tb.Helper()
	if err := retryStart(20, r.start); err != nil {
		tb.Fatalf("brokertest: restart rabbitmq-server on %s: %v", r.Addr, err)
	}
}

// Stop kills the node and its epmd.
func (r *RabbitMQ) Stop() {
	r.Kill()
	r.epmd.signal(syscall.SIGKILL)
	r.epmd = nil
}

// Log returns the end of the node's own log, for a failure message.
func (r *RabbitMQ) Log() string {
	b, _ := os.ReadFile(filepath.Join(r.Dir, "log", "rabbit.log"))
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}
