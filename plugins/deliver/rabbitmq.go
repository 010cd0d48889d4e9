package deliver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/spec"
)

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindDestination,
		Name: "rabbitmq",
		Doc: "Publishes each delivery to a RabbitMQ exchange, persistent and mandatory, with publisher confirms. " +
			"Delivered means the broker confirmed the message and routed it to at least one queue; a message no queue is bound for is returned, and the attempt fails (it retries by the destination's schedule). " +
			"The message id is the delivery id, the type the event type, and the headers the message headers (webhook-id, webhook-event-type, traceparent, the destination's headers, any signature).",
		Attrs: []spec.Attr{
			{Name: "url", Kind: spec.Secret, Required: true, Example: `"amqp://guest:guest@127.0.0.1:5672/"`,
				Doc: "The broker's URL (amqp:// or amqps://, with user, password and vhost). Never shown."},
			{Name: "exchange", Kind: spec.String, Example: `"creator"`,
				Doc: "The exchange published to; empty for the default exchange, where the routing key names a queue."},
			{Name: "routing_key", Kind: spec.String, Required: true, Example: `"events"`,
				Doc: "The routing key of every message."},
		},
		New: func(v spec.Values) (any, error) { return newRabbitMQ(v) },
	})
}

// maxIdleChannels bounds the confirm-mode channels kept open between
// attempts.
const maxIdleChannels = 64

// RabbitMQ is the destination kind "rabbitmq": persistent, mandatory
// publishes with publisher confirms on one connection per destination,
// one channel per attempt in flight (so a return is told apart from
// another message's).
type RabbitMQ struct {
	url        string
	exchange   string
	routingKey string
	target     plugins.Target
	scrub      scrubber

	mu     sync.Mutex
	conn   *amqp.Connection
	idle   []*rabbitChannel
	closed bool
}

// rabbitChannel is one confirm-mode channel and its returns.
type rabbitChannel struct {
	conn    *amqp.Connection
	ch      *amqp.Channel
	returns chan amqp.Return
}

var (
	_ plugins.Destination = (*RabbitMQ)(nil)
	_ plugins.Targeter    = (*RabbitMQ)(nil)
)

func newRabbitMQ(v spec.Values) (*RabbitMQ, error) {
	raw := v.Secret("url").Reveal()
	if _, err := checkURL("url", raw, "amqp", "amqps"); err != nil {
		return nil, err
	}
	if _, err := amqp.ParseURI(raw); err != nil {
		return nil, spec.Errorf("url", "the value given is not an AMQP URL")
	}
	key := v.String("routing_key")
	if len(key) > 255 {
		return nil, spec.Errorf("routing_key", "a routing key is at most 255 bytes")
	}
	exchange := v.String("exchange")
	if exchange == "" && key == "" {
		return nil, spec.Errorf("routing_key", "with the default exchange the routing key names the queue: it must not be empty")
	}
	name := exchange
	if name == "" {
		name = "amq.default"
	}
	return &RabbitMQ{
		url:        raw,
		exchange:   exchange,
		routingKey: key,
		target:     urlTarget(plugins.Target{System: "rabbitmq", Name: name, RoutingKey: key}, raw, 5672),
		scrub:      newScrubber(raw),
	}, nil
}

// Target says where r publishes.
func (r *RabbitMQ) Target() plugins.Target { return r.target }

// channel returns an idle channel or opens one, dialling the broker when
// there is no open connection (the first attempt, or after a restart).
func (r *RabbitMQ) channel(ctx context.Context) (*rabbitChannel, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errClosed
	}
	for len(r.idle) > 0 {
		c := r.idle[len(r.idle)-1]
		r.idle = r.idle[:len(r.idle)-1]
		if !c.ch.IsClosed() && c.conn == r.conn {
			return c, nil
		}
	}
	if r.conn == nil || r.conn.IsClosed() {
		timeout := 10 * time.Second
		if dl, ok := ctx.Deadline(); ok {
			timeout = max(time.Until(dl), time.Millisecond)
		}
		conn, err := amqp.DialConfig(r.url, amqp.Config{
			Dial:       amqp.DefaultDial(timeout),
			Heartbeat:  10 * time.Second,
			Properties: amqp.Table{"connection_name": "hookgate"},
		})
		if err != nil {
			return nil, err
		}
		r.conn = conn
	}
	ch, err := r.conn.Channel()
	if err != nil {
		return nil, err
	}
	if err := ch.Confirm(false); err != nil {
		ch.Close()
		return nil, err
	}
	// One message is in flight per channel, and the broker sends its
	// return before its confirm: with room for one, the return is in the
	// channel before the confirm is seen.
	c := &rabbitChannel{conn: r.conn, ch: ch, returns: ch.NotifyReturn(make(chan amqp.Return, 1))}
	return c, nil
}

// release keeps c for the next attempt, or closes it when it is no longer
// usable or enough are kept.
func (r *RabbitMQ) release(c *rabbitChannel, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ok && !r.closed && c.conn == r.conn && !c.ch.IsClosed() && len(r.idle) < maxIdleChannels {
		r.idle = append(r.idle, c)
		return
	}
	c.ch.Close()
}

// Deliver publishes m and waits for the broker's confirm.
func (r *RabbitMQ) Deliver(ctx context.Context, m *plugins.Outbound) plugins.Sent {
	c, err := r.channel(ctx)
	if err != nil {
		return r.failure(err)
	}
	headers := amqp.Table{}
	for k, v := range m.Headers() {
		headers[k] = v
	}
	msg := amqp.Publishing{
		Headers:      headers,
		ContentType:  "application/json",
		DeliveryMode: amqp.Persistent,
		MessageId:    m.ID,
		Type:         m.EventType,
		Timestamp:    time.Now(),
		Body:         m.Body,
	}
	dc, err := c.ch.PublishWithDeferredConfirmWithContext(ctx, r.exchange, r.routingKey, true, false, msg)
	if err != nil {
		r.release(c, false)
		return r.failure(err)
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		// The confirm may still come: this channel is not reused.
		r.release(c, false)
		return r.failure(err)
	}
	var returned *amqp.Return
	select {
	case ret := <-c.returns:
		returned = &ret
	default:
	}
	r.release(c, true)
	switch {
	case returned != nil:
		return plugins.Sent{
			Err:     fmt.Sprintf("unroutable: exchange %q routes key %q to no queue (%d %s)", r.target.Name, r.routingKey, returned.ReplyCode, returned.ReplyText),
			ErrType: "unroutable",
		}
	case !acked:
		return plugins.Sent{Err: "the broker refused the message (basic.nack)", ErrType: "nack"}
	}
	return plugins.Sent{Response: fmt.Sprintf("confirmed by exchange %s", r.target.Name)}
}

// failure is a retryable Sent for err; an AMQP error's type is its reply
// code (never an HTTP-like status, which would read as one).
func (r *RabbitMQ) failure(err error) plugins.Sent {
	s := r.scrub.failure(err)
	var ae *amqp.Error
	if errors.As(err, &ae) {
		if s.ErrType == "" {
			s.ErrType = fmt.Sprintf("amqp_%d", ae.Code)
		}
	}
	return s
}

// Close closes the connection and its channels; later attempts fail.
func (r *RabbitMQ) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.idle = nil
	if r.conn != nil {
		err := r.conn.Close()
		r.conn = nil
		if errors.Is(err, amqp.ErrClosed) {
			err = nil
		}
		return err
	}
	return nil
}
