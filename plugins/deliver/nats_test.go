package deliver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/plugins/deliver/brokertest"
)

// natsStream creates the stream EVENTS capturing creator.events on srv.
func natsStream(t *testing.T, srv *brokertest.NATS) {
	t.Helper()
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "EVENTS", Subjects: []string{"creator.events"}, Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute,
	}); err != nil {
		t.Fatal(err)
	}
}

// natsRead reads every message of the stream EVENTS, by Nats-Msg-Id.
func natsRead(t *testing.T, srv *brokertest.NATS) (map[string]received, uint64) {
	t.Helper()
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]received{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("get %d: %v", seq, err)
		}
		h := map[string]string{}
		for k := range m.Header {
			h[k] = m.Header.Get(k)
		}
		if h["Nats-Msg-Id"] != h["webhook-id"] {
			t.Errorf("seq %d: Nats-Msg-Id %q is not the delivery id %q", seq, h["Nats-Msg-Id"], h["webhook-id"])
		}
		got[h["webhook-id"]] = received{body: m.Data, headers: h}
	}
	return got, info.State.Msgs
}

// TestNATSDelivers: messages published to JetStream are read back with
// their bodies and headers; a retry of the same delivery is dropped by
// JetStream's duplicate window (Nats-Msg-Id is the delivery id).
func TestNATSDelivers(t *testing.T) {
	srv := brokertest.StartNATS(t)
	natsStream(t, srv)
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
	natsStream(t, srv)
	d := build(t, "nats", map[string]any{"url": srv.URL(), "subject": "creator.events"})
	const n = 300
	acked, failed := underOutage(t, d, n, srv.Kill, srv.Restart)
	got, _ := natsRead(t, srv)
	checkReceived(t, got, acked)
	t.Logf("%d messages, %d failed attempts during the outage, %d in the stream", len(acked), failed, len(got))
}
