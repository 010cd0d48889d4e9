package deliver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/spec"
)

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindDestination,
		Name: "kafka",
		Doc: "Produces each delivery to a Kafka topic with an idempotent producer and acks=all. Delivered means every in-sync replica has the record. " +
			"The record's headers are the message headers (webhook-id, webhook-event-type, traceparent, the destination's headers, any signature). " +
			"The idempotent producer drops its own resends within one connection, but an attempt that timed out and is retried later is a new record: consumers see duplicates after a retry and deduplicate by webhook-id.",
		Attrs: []spec.Attr{
			{Name: "brokers", Kind: spec.StringList, Required: true, Example: `["127.0.0.1:9092"]`,
				Doc: "Seed brokers, host:port each."},
			{Name: "topic", Kind: spec.String, Required: true, Example: `"creator-events"`,
				Doc: "The topic records are produced to; it must exist (hookgate does not create topics)."},
			{Name: "key", Kind: spec.Expr, Example: `"identifier"`,
				Doc: "Expression over the delivered body whose string value is the record's key (its partition). Absent: no key (records spread over partitions)."},
		},
		New: func(v spec.Values) (any, error) { return newKafka(v) },
	})
}

// Kafka is the destination kind "kafka": an idempotent producer with
// acks=all; delivered means the record is committed to the in-sync
// replicas.
type Kafka struct {
	brokers []string
	topic   string
	target  plugins.Target

	mu     sync.Mutex
	client *kgo.Client
	closed bool
}

var (
	_ plugins.Destination = (*Kafka)(nil)
	_ plugins.Targeter    = (*Kafka)(nil)
)

func newKafka(v spec.Values) (*Kafka, error) {
	brokers := v.StringList("brokers")
	if len(brokers) == 0 {
		return nil, spec.Errorf("brokers", "name at least one broker, host:port")
	}
	for _, b := range brokers {
		if i := strings.LastIndexByte(b, ':'); i <= 0 || i == len(b)-1 || strings.Contains(b, "/") {
			return nil, spec.Errorf("brokers", "%q is not a broker address: write host:port, such as \"127.0.0.1:9092\"", b)
		}
	}
	topic := v.String("topic")
	if topic == "" || len(topic) > 249 || strings.ContainsAny(topic, " /\\\t\r\n:") {
		return nil, spec.Errorf("topic", "%q is not a Kafka topic name (letters, digits, '.', '_' and '-', at most 249)", topic)
	}
	return &Kafka{
		brokers: brokers,
		topic:   topic,
		target:  hostPortTarget(plugins.Target{System: "kafka", Name: topic}, brokers[0], 9092),
	}, nil
}

// Target says where k produces.
func (k *Kafka) Target() plugins.Target { return k.target }

// conn returns the producer, made on first use. It finds the brokers again
// after a restart by itself.
func (k *Kafka) conn() (*kgo.Client, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil, errClosed
	}
	if k.client != nil {
		return k.client, nil
	}
	c, err := kgo.NewClient(
		kgo.SeedBrokers(k.brokers...),
		kgo.ClientID("hookgate"),
		kgo.DefaultProduceTopic(k.topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), // the default with idempotence; said for the reader
		kgo.ProducerLinger(0),
		// A missing topic fails records (then the delivery retries by its
		// schedule) instead of holding them for ever.
		kgo.UnknownTopicRetries(2),
	)
	if err != nil {
		return nil, err
	}
	k.client = c
	return c, nil
}

// Deliver produces m and waits for its acknowledgement or ctx's end. A
// record still buffered when ctx ends may yet be written: the attempt
// counts as failed and is retried, so the topic may hold it twice.
func (k *Kafka) Deliver(ctx context.Context, m *plugins.Outbound) plugins.Sent {
	c, err := k.conn()
	if err != nil {
		return plugins.Sent{Err: err.Error(), ErrType: errType(err)}
	}
	rec := &kgo.Record{Value: m.Body}
	if m.Key != "" {
		rec.Key = []byte(m.Key)
	}
	for name, v := range m.Headers() {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: name, Value: []byte(v)})
	}
	done := make(chan error, 1)
	c.Produce(ctx, rec, func(_ *kgo.Record, err error) { done <- err })
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		s := plugins.Sent{Err: err.Error(), ErrType: errType(err)}
		var ke *kerr.Error
		if errors.As(err, &ke) {
			s.ErrType = strings.ToLower(ke.Message)
			s.Permanent = errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge)
		}
		return s
	}
	return plugins.Sent{Response: fmt.Sprintf("topic %s partition %d offset %d", rec.Topic, rec.Partition, rec.Offset)}
}

// Close flushes nothing and closes the producer; later attempts fail.
func (k *Kafka) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	if k.client != nil {
		k.client.Close()
		k.client = nil
	}
	return nil
}
