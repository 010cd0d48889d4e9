package brokertest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Message is a message as a consumer read it back: its headers (names as
// the broker keeps them) and body.
type Message struct {
	Headers map[string]string
	Body    []byte
	Key     string
}

// NATSStream creates the file-backed JetStream stream name capturing
// subject, with a ten-minute duplicate window.
func NATSStream(tb testing.TB, url, name, subject string) {
	tb.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: name, Subjects: []string{subject}, Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute,
	}); err != nil {
		tb.Fatal(err)
	}
}

// ReadNATS returns every message of the stream name, in order.
func ReadNATS(tb testing.TB, url, name string) []Message {
	tb.Helper()
	nc, err := nats.Connect(url, nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1))
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, name)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	var out []Message
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			tb.Fatalf("brokertest: get message %d: %v", seq, err)
		}
		h := map[string]string{}
		for k := range m.Header {
			h[k] = m.Header.Get(k)
		}
		out = append(out, Message{Headers: h, Body: m.Data})
	}
	return out
}

// ReadRedisStream returns every entry of the stream key: its fields but
// "body" as headers, "body" as the body.
func ReadRedisStream(tb testing.TB, url, key string) []Message {
	tb.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		tb.Fatal(err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	entries, err := c.XRange(ctx, key, "-", "+").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var out []Message
	for _, e := range entries {
		m := Message{Headers: map[string]string{}}
		for k, v := range e.Values {
			s, _ := v.(string)
			if k == "body" {
				m.Body = []byte(s)
				continue
			}
			m.Headers[k] = s
		}
		out = append(out, m)
	}
	return out
}

// StartKafka starts a one-broker kfake cluster (franz-go's in-process
// Kafka; no Kafka broker is packaged for this machine) with topic (3
// partitions), persisting to dir with every write synced, on port (0:
// any). Close it to stop it; starting one on the same dir and port is a
// restart.
func StartKafka(tb testing.TB, dir string, port int, topic string) *kfake.Cluster {
	tb.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.DataDir(dir), kfake.SyncWrites(), kfake.SeedTopics(3, topic)}
	if port != 0 {
		opts = append(opts, kfake.Ports(port))
	}
	var err error
	for range 50 { // a port freed a moment ago may linger
		var c *kfake.Cluster
		if c, err = kfake.NewCluster(opts...); err == nil {
			return c
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("brokertest: kfake: %v", err)
	return nil
}

// ReadKafka reads topic from its start until it has read want records or
// 60 s passed.
func ReadKafka(tb testing.TB, addr, topic string, want int) []Message {
	tb.Helper()
	c, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	var out []Message
	deadline := time.Now().Add(60 * time.Second)
	for len(out) < want && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		fs := c.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			m := Message{Headers: map[string]string{}, Body: r.Value, Key: string(r.Key)}
			for _, h := range r.Headers {
				m.Headers[h.Key] = string(h.Value)
			}
			out = append(out, m)
		})
	}
	return out
}

// RabbitQueue declares the durable direct exchange ex and the durable
// queue q bound to it with key.
func RabbitQueue(tb testing.TB, url, ex, q, key string) {
	tb.Helper()
	conn, err := dialRabbit(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		tb.Fatal(err)
	}
	if err := ch.ExchangeDeclare(ex, "direct", true, false, false, false, nil); err != nil {
		tb.Fatal(err)
	}
	if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
		tb.Fatal(err)
	}
	if err := ch.QueueBind(q, key, ex, false, nil); err != nil {
		tb.Fatal(err)
	}
}

// dialRabbit connects to a node, retrying for up to a minute while it
// boots (after a restart its port may accept a moment before the broker
// answers), and never to a socket connected to itself (see dialNotSelf).
func dialRabbit(url string) (*amqp.Connection, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		conn, err := amqp.DialConfig(url, amqp.Config{Dial: func(network, addr string) (net.Conn, error) {
			c, err := dialNotSelf(network, addr)
			if err == nil {
				// As amqp's own dialer: a deadline for the handshake,
				// which the client clears once connected.
				err = c.SetDeadline(time.Now().Add(30 * time.Second))
			}
			return c, err
		}})
		if err == nil || time.Now().After(deadline) {
			return conn, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ReadRabbit takes every message waiting in queue q (acknowledging it).
// The AMQP properties are headers too: message-id, type, delivery-mode.
func ReadRabbit(tb testing.TB, url, q string) []Message {
	tb.Helper()
	var conn *amqp.Connection
	var err error
	deadline := time.Now().Add(60 * time.Second)
	for conn, err = dialRabbit(url); err != nil && time.Now().Before(deadline); conn, err = dialRabbit(url) {
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		tb.Fatal(err)
	}
	var out []Message
	for {
		d, ok, err := ch.Get(q, true)
		if err != nil {
			tb.Fatal(err)
		}
		if !ok {
			return out
		}
		m := Message{Headers: map[string]string{}, Body: d.Body}
		for k, v := range d.Headers {
			s, _ := v.(string)
			m.Headers[k] = s
		}
		m.Headers["message-id"] = d.MessageId
		m.Headers["type"] = d.Type
		if d.DeliveryMode == amqp.Persistent {
			m.Headers["delivery-mode"] = "persistent"
		}
		out = append(out, m)
	}
}
