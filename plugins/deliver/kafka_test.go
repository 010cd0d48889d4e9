package deliver_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// No Kafka broker is packaged for this machine: the kafka kind is tested
// against franz-go's kfake, an in-process Kafka cluster that speaks the
// wire protocol, persisting to a folder (so it restarts with its data).

// startKafka starts a one-broker kfake cluster with the topic
// creator-events (3 partitions) on port (0: any), its data in dir.
func startKafka(t *testing.T, dir string, port int) *kfake.Cluster {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.DataDir(dir), kfake.SyncWrites(), kfake.SeedTopics(3, "creator-events")}
	if port != 0 {
		opts = append(opts, kfake.Ports(port))
	}
	var c *kfake.Cluster
	var err error
	for range 50 { // a port freed a moment ago may linger
		if c, err = kfake.NewCluster(opts...); err == nil {
			return c
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("kfake: %v", err)
	return nil
}

// kafkaRead reads every record of creator-events, by webhook-id.
func kafkaRead(t *testing.T, addr string, want int) (map[string]received, int) {
	t.Helper()
	c, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("creator-events"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := map[string]received{}
	records := 0
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		fs := c.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			records++
			h := map[string]string{}
			for _, rh := range r.Headers {
				h[rh.Key] = string(rh.Value)
			}
			got[h["webhook-id"]] = received{body: r.Value, headers: h, key: string(r.Key)}
		})
	}
	return got, records
}

// TestKafkaDelivers: records produced with acks=all are read back with
// their bodies, headers and keys.
func TestKafkaDelivers(t *testing.T) {
	c := startKafka(t, t.TempDir(), 0)
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
	c := startKafka(t, t.TempDir(), 0)
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
	c := startKafka(t, dir, 0)
	addr := c.ListenAddrs()[0]
	p, err := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
	if err != nil {
		t.Fatal(err)
	}
	d := build(t, "kafka", map[string]any{"brokers": []string{addr}, "topic": "creator-events"})
	const n = 300
	acked, failed := underOutage(t, d, n, c.Close, func() { c = startKafka(t, dir, p) })
	defer func() { c.Close() }()
	got, records := kafkaRead(t, addr, len(acked))
	checkReceived(t, got, acked)
	t.Logf("%d messages, %d failed attempts during the outage, %d records", len(acked), failed, records)
}
