package deliver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/plugins/deliver/brokertest"
)

// natsRead reads every message of the stream EVENTS, by webhook-id,
// checking each one's Nats-Msg-Id is its delivery id.
func natsRead(t *testing.T, srv *brokertest.NATS) (map[string]received, int) {
	t.Helper()
	ms := brokertest.ReadNATS(t, srv.URL(), "EVENTS")
	for _, m := range ms {
		if m.Headers["Nats-Msg-Id"] != m.Headers["webhook-id"] {
			t.Errorf("Nats-Msg-Id %q is not the delivery id %q", m.Headers["Nats-Msg-Id"], m.Headers["webhook-id"])
		}
	}
	return index(ms), len(ms)
}

// TestNATSDelivers: messages published to JetStream are read back with
// their bodies and headers; a retry of the same delivery is dropped by
// JetStream's duplicate window (Nats-Msg-Id is the delivery id).
func TestNATSDelivers(t *testing.T) {
	srv := brokertest.StartNATS(t)
	brokertest.NATSStream(t, srv.URL(), "EVENTS", "creator.events")
	d := build(t, "nats", map[string]any{"url": srv.URL(), "subject": "creator.events"})
	deliverAll(t, d, 20)
	s := d.Deliver(context.Background(), message(3))
	if s.Err != "" || !strings.Contains(s.Response, "duplicate") {
		t.Errorf("a retry of message 3: %+v, want delivered as a duplicate", s)
	}
	got, n := natsRead(t, srv)
	if n != 20 {
		t.Errorf("the stream holds %d messages, want 20 (the retry deduplicated)", n)
	}
	checkReceived(t, got, all(20))
}

// TestNATSNoStream: a subject no stream captures fails (retryably) and
// says so.
func TestNATSNoStream(t *testing.T) {
	srv := brokertest.StartNATS(t)
	d := build(t, "nats", map[string]any{"url": srv.URL(), "subject": "nobody.listens"})
	s := d.Deliver(context.Background(), message(0))
	if s.Err == "" || s.Permanent || !strings.Contains(s.Err, "no stream captures") {
		t.Fatalf("publish without a stream: %+v", s)
	}
}

// TestNATSServerRestart: nats-server killed (SIGKILL) mid-load and started
// again on its store: every message JetStream acknowledged is there, and
// the destination's connection came back by itself.
func TestNATSServerRestart(t *testing.T) {
	srv := brokertest.StartNATS(t)
	brokertest.NATSStream(t, srv.URL(), "EVENTS", "creator.events")
	d := build(t, "nats", map[string]any{"url": srv.URL(), "subject": "creator.events"})
	const n = 300
	acked, failed := underOutage(t, d, n, srv.Kill, srv.Restart)
	got, stored := natsRead(t, srv)
	checkReceived(t, got, acked)
	t.Logf("%d messages, %d failed attempts during the outage, %d in the stream", len(acked), failed, stored)
}
