package deliver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/plugins/deliver/brokertest"
)

// rabbitRead takes every message of queue q, by webhook-id, and checks
// each is persistent with the delivery id as its message id and the event
// type as its type.
func rabbitRead(t *testing.T, url, q string) (map[string]received, int) {
	t.Helper()
	ms := brokertest.ReadRabbit(t, url, q)
	for _, m := range ms {
		h := m.Headers
		if h["message-id"] != h["webhook-id"] || h["delivery-mode"] != "persistent" || h["type"] != "creator_insights" {
			t.Errorf("message %q: properties %v", h["webhook-id"], h)
		}
	}
	return index(ms), len(ms)
}

// TestRabbitMQDelivers: confirmed messages are read back from the bound
// queue with their bodies and headers; a message no queue is bound for is
// returned and the attempt fails (to retry), never counted delivered.
func TestRabbitMQDelivers(t *testing.T) {
	r := sharedRabbit(t)
	brokertest.RabbitQueue(t, r.URL(), "creator", "crm", "events")
	d := build(t, "rabbitmq", map[string]any{"url": r.URL(), "exchange": "creator", "routing_key": "events"})
	deliverAll(t, d, 20)
	got, n := rabbitRead(t, r.URL(), "crm")
	if n != 20 {
		t.Errorf("the queue holds %d messages, want 20", n)
	}
	checkReceived(t, got, all(20))

	lost := build(t, "rabbitmq", map[string]any{"url": r.URL(), "exchange": "creator", "routing_key": "nobody"})
	for range 3 { // the channel is reused: each publish is told apart
		s := lost.Deliver(context.Background(), message(0))
		if s.Err == "" || s.Permanent || s.ErrType != "unroutable" || !strings.Contains(s.Err, "unroutable") {
			t.Fatalf("unroutable publish: %+v", s)
		}
	}
	deliverAll(t, d, 1)
	if _, n := rabbitRead(t, r.URL(), "crm"); n != 1 {
		t.Errorf("after the returns, a routable publish left %d messages, want 1", n)
	}
}

// TestRabbitMQMissingExchange: publishing to an exchange that does not
// exist fails retryably, and the next attempt (on a fresh channel) works
// once it exists.
func TestRabbitMQMissingExchange(t *testing.T) {
	r := sharedRabbit(t)
	d := build(t, "rabbitmq", map[string]any{"url": r.URL(), "exchange": "later", "routing_key": "k"})
	s := d.Deliver(context.Background(), message(0))
	if s.Err == "" || s.Permanent {
		t.Fatalf("publish to a missing exchange: %+v", s)
	}
	brokertest.RabbitQueue(t, r.URL(), "later", "later_q", "k")
	deliverAll(t, d, 1)
}

// TestRabbitMQPassword: a wrong password fails without showing it.
func TestRabbitMQPassword(t *testing.T) {
	r := sharedRabbit(t)
	d := build(t, "rabbitmq", map[string]any{"url": "amqp://guest:wrong-pw@" + r.Addr + "/", "exchange": "creator", "routing_key": "events"})
	s := d.Deliver(context.Background(), message(0))
	if s.Err == "" || strings.Contains(s.Err, "wrong-pw") {
		t.Fatalf("with a wrong password: %+v", s)
	}
}

// TestRabbitMQBrokerRestart: the node killed (SIGKILL) mid-load and booted
// again on its database: every confirmed message is in the durable queue,
// and the destination reconnected by itself.
func TestRabbitMQBrokerRestart(t *testing.T) {
	r := sharedRabbit(t)
	brokertest.RabbitQueue(t, r.URL(), "restart", "restart_q", "events")
	d := build(t, "rabbitmq", map[string]any{"url": r.URL(), "exchange": "restart", "routing_key": "events"})
	const n = 200
	// As a publisher's operator would after an unclean stop, the topology
	// is declared again once the node is back (idempotent): a node killed
	// moments after the declaration may come back without it.
	acked, failed := underOutage(t, d, n, r.Kill, func() {
		r.Restart(t)
		brokertest.RabbitQueue(t, r.URL(), "restart", "restart_q", "events")
	})
	got, msgs := rabbitRead(t, r.URL(), "restart_q")
	checkReceived(t, got, acked)
	t.Logf("%d messages, %d failed attempts during the outage, %d in the queue", len(acked), failed, msgs)
}
