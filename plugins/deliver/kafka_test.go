package deliver_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins/deliver/brokertest"
)

// No Kafka broker is packaged for this machine: the kafka kind is tested
// against franz-go's kfake, an in-process Kafka cluster that speaks the
// wire protocol, persisting to a folder (so it restarts with its data).

// kafkaRead reads creator-events from its start until want records came
// (or 60 s passed), by webhook-id.
func kafkaRead(t *testing.T, addr string, want int) (map[string]received, int) {
	t.Helper()
	ms := brokertest.ReadKafka(t, addr, "creator-events", want)
	return index(ms), len(ms)
}

// TestKafkaDelivers: records produced with acks=all are read back with
// their bodies, headers and keys.
func TestKafkaDelivers(t *testing.T) {
	c := brokertest.StartKafka(t, t.TempDir(), 0, "creator-events")
	defer c.Close()
	addr := c.ListenAddrs()[0]
	d := build(t, "kafka", map[string]any{"brokers": []string{addr}, "topic": "creator-events"})
	deliverAll(t, d, 20)
	got, n := kafkaRead(t, addr, 20)
	if n != 20 {
		t.Errorf("the topic holds %d records, want 20", n)
	}
	checkReceived(t, got, all(20))
	for _, i := range all(20) {
		m := message(i)
		if got[m.ID].key != m.Key {
			t.Errorf("%s: key %q, want %q", m.ID, got[m.ID].key, m.Key)
		}
	}
}

// TestKafkaMissingTopic: producing to a topic that does not exist fails
// retryably, not for ever.
func TestKafkaMissingTopic(t *testing.T) {
	c := brokertest.StartKafka(t, t.TempDir(), 0, "creator-events")
	defer c.Close()
	d := build(t, "kafka", map[string]any{"brokers": []string{c.ListenAddrs()[0]}, "topic": "nobody-reads"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := d.Deliver(ctx, message(0))
	if s.Err == "" || s.Permanent {
		t.Fatalf("produce to a missing topic: %+v", s)
	}
	if !strings.Contains(strings.ToLower(s.Err), "unknown") {
		t.Logf("error: %s", s.Err)
	}
}

// TestKafkaBrokerRestart: the broker closed mid-load and started again on
// its data: every acknowledged record is there, and the producer found the
// broker again by itself.
func TestKafkaBrokerRestart(t *testing.T) {
	dir := t.TempDir()
	c := brokertest.StartKafka(t, dir, 0, "creator-events")
	addr := c.ListenAddrs()[0]
	p, err := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
	if err != nil {
		t.Fatal(err)
	}
	d := build(t, "kafka", map[string]any{"brokers": []string{addr}, "topic": "creator-events"})
	const n = 300
	acked, failed := underOutage(t, d, n, c.Close, func() { c = brokertest.StartKafka(t, dir, p, "creator-events") })
	defer func() { c.Close() }()
	got, records := kafkaRead(t, addr, len(acked))
	checkReceived(t, got, acked)
	t.Logf("%d messages, %d failed attempts during the outage, %d records", len(acked), failed, records)
}
