package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startConsumer reads what the gateway delivers to a broker (bench
// -consume) and counts each message in sink like a delivery to bench's
// HTTP sink. raw names the broker and where to read:
//
//	nats://HOST:PORT?subject=S[&stream=NAME]   core subscription to S; creates
//	                                            the JetStream stream NAME on S
//	                                            when it is missing
//	redis://HOST:PORT/DB?stream=KEY            XREAD from the entries after now
//	kafka://HOST:PORT?topic=T                  from the topic's end
//	amqp://USER:PASS@HOST:PORT/?exchange=E&routing_key=K&queue=Q
//	                                            declares E (direct), Q, binds them
//
// It is subscribed when it returns; stop ends it.
func startConsumer(ctx context.Context, raw string, sink *benchSink) (stop func(), err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("-consume: not a URL")
	}
	q := u.Query()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stop = func() { cancel(); wg.Wait() }
	switch u.Scheme {
	case "nats":
		subject := q.Get("subject")
		nc, err := nats.Connect("nats://" + u.Host)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("-consume: %w", err)
		}
		if name := q.Get("stream"); name != "" {
			js, _ := jetstream.New(nc)
			if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subject}, Storage: jetstream.FileStorage}); err != nil {
				nc.Close()
				cancel()
				return nil, fmt.Errorf("-consume: create stream: %w", err)
			}
		}
		sub, err := nc.Subscribe(subject, func(m *nats.Msg) { sink.record(m.Data, time.Now()) })
		if err != nil {
			nc.Close()
			cancel()
			return nil, fmt.Errorf("-consume: %w", err)
		}
		nc.Flush()
		return func() { sub.Unsubscribe(); nc.Close(); cancel() }, nil
	case "redis":
		key := q.Get("stream")
		u.RawQuery = ""
		opts, err := redis.ParseURL(u.String())
		if err != nil {
			cancel()
			return nil, errors.New("-consume: not a Redis URL")
		}
		c := redis.NewClient(opts)
		// Read from the entry that is last now: "$" in a later XREAD
		// would miss what is added before it is sent.
		last := "0-0"
		tail, err := c.XRevRangeN(ctx, key, "+", "-", 1).Result()
		if err != nil {
			c.Close()
			cancel()
			return nil, fmt.Errorf("-consume: %w", err)
		}
		if len(tail) > 0 {
			last = tail[0].ID
		}
		wg.Go(func() {
			defer c.Close()
			for ctx.Err() == nil {
				res, err := c.XRead(ctx, &redis.XReadArgs{Streams: []string{key, last}, Count: 1000, Block: time.Second}).Result()
				now := time.Now()
				if err != nil {
					continue
				}
				for _, s := range res {
					for _, m := range s.Messages {
						if b, ok := m.Values["body"].(string); ok {
							sink.record([]byte(b), now)
						}
						last = m.ID
					}
				}
			}
		})
		return stop, nil
	case "kafka":
		c, err := kgo.NewClient(kgo.SeedBrokers(u.Host), kgo.ConsumeTopics(q.Get("topic")), kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
		if err != nil {
			cancel()
			return nil, fmt.Errorf("-consume: %w", err)
		}
		wg.Go(func() {
			defer c.Close()
			for ctx.Err() == nil {
				fs := c.PollFetches(ctx)
				now := time.Now()
				fs.EachRecord(func(r *kgo.Record) { sink.record(r.Value, now) })
			}
		})
		return stop, nil
	case "amqp":
		queue, ex, key := q.Get("queue"), q.Get("exchange"), q.Get("routing_key")
		u.RawQuery = ""
		conn, err := amqp.Dial(u.String())
		if err != nil {
			cancel()
			return nil, errors.New("-consume: cannot connect to the AMQP broker")
		}
		ch, err := conn.Channel()
		if err == nil && ex != "" {
			err = ch.ExchangeDeclare(ex, "direct", true, false, false, false, nil)
		}
		if err == nil {
			_, err = ch.QueueDeclare(queue, true, false, false, false, nil)
		}
		if err == nil && ex != "" {
			err = ch.QueueBind(queue, key, ex, false, nil)
		}
		var msgs <-chan amqp.Delivery
		if err == nil {
			msgs, err = ch.Consume(queue, "hookgate-bench", true, false, false, false, nil)
		}
		if err != nil {
			conn.Close()
			cancel()
			return nil, fmt.Errorf("-consume: %w", err)
		}
		wg.Go(func() {
			for m := range msgs {
				sink.record(m.Body, time.Now())
			}
		})
		return func() { conn.Close(); cancel(); wg.Wait() }, nil
	}
	cancel()
	return nil, fmt.Errorf("-consume: %q is not a broker this bench reads (nats, redis, kafka, amqp)", strings.TrimSuffix(u.Scheme, ":"))
}
