package cli

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/store/redis/redistest"
	"github.com/hookgate/hookgate/plugins/deliver/brokertest"
)

// stamped is a body as bench stamps it, for run and seq.
func stamped(run string, seq int) []byte {
	return fmt.Appendf(nil, `{"bench_run":%q,"bench_seq":%d,"bench_sent_ns":%d}`, run, seq, time.Now().UnixNano())
}

// waitDelivered polls the sink until it counted n deliveries (30 s at most).
func waitDelivered(t *testing.T, s *benchSink, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for s.delivered() < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	st := s.snapshot()
	if st.delivered != n || len(st.e2e) != n {
		t.Fatalf("the sink counted %d deliveries with %d end-to-end times, want %d", st.delivered, len(st.e2e), n)
	}
}

// TestBenchConsumeRedis: bench -consume reads a Redis stream's new entries
// as deliveries, timed end to end.
func TestBenchConsumeRedis(t *testing.T) {
	srv := redistest.Start(t)
	sink := newBenchSink("run1", 3, 1)
	stop, err := startConsumer(context.Background(), "redis://"+srv.Addr+"/0?stream=hookgate:bench", sink)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	opts, _ := redis.ParseURL(srv.URL())
	c := redis.NewClient(opts)
	defer c.Close()
	for i := range 3 {
		if err := c.XAdd(context.Background(), &redis.XAddArgs{Stream: "hookgate:bench", Values: []any{"webhook-id", "x", "body", stamped("run1", i)}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	waitDelivered(t, sink, 3)
}

// TestBenchConsumeNATS: bench -consume subscribes to a subject (creating
// the stream that captures it) and counts what is published.
func TestBenchConsumeNATS(t *testing.T) {
	srv := brokertest.StartNATS(t)
	sink := newBenchSink("run1", 3, 1)
	stop, err := startConsumer(context.Background(), srv.URL()+"?subject=creator.events&stream=EVENTS", sink)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for i := range 3 {
		nc.Publish("creator.events", stamped("run1", i))
	}
	nc.Flush()
	waitDelivered(t, sink, 3)
	if len(brokertest.ReadNATS(t, srv.URL(), "EVENTS")) != 3 {
		t.Error("the stream EVENTS does not hold the 3 messages")
	}
}

// TestBenchConsumeUnknown: a scheme bench cannot read is an error.
func TestBenchConsumeUnknown(t *testing.T) {
	if _, err := startConsumer(context.Background(), "mqtt://127.0.0.1:1883", newBenchSink("r", 1, 1)); err == nil {
		t.Fatal("mqtt accepted")
	}
}
