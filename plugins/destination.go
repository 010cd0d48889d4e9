package plugins

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// KindDestination is the kind of the destination plugins: how a delivery
// reaches its receiver. A destination has either a url (the built-in HTTP
// kind) or exactly one kind block named after its plugin (`nats { ... }`,
// `kafka { ... }`); New returns a Destination.
const KindDestination Kind = "destination"

// Outbound is one message a Destination delivers: one attempt of one
// delivery.
type Outbound struct {
	// ID is the delivery's id, the same on every attempt (webhook-id):
	// consumers deduplicate by it, since delivery is at least once.
	ID string
	// EventType is the event's type ("" when the source has none).
	EventType string
	// Body is the exact bytes to send, after the route's transform.
	Body []byte
	// Header holds the message's headers: webhook-id, the event type,
	// traceparent, the destination's headers and, when the destination is
	// signed, the signature headers. A plugin sends them as its broker's
	// message headers (or fields).
	Header http.Header
	// Key is the partition or routing key computed for this message by the
	// destination's key expression ("" when it has none).
	Key string
}

// EventTypeHeader is the header that carries the event's type on the
// messages of every destination kind that is not HTTP.
const EventTypeHeader = "webhook-event-type"

// Headers are m's headers as a broker gets them: lower-case names (one
// value each) and the event type (EventTypeHeader).
func (m *Outbound) Headers() map[string]string {
	h := make(map[string]string, len(m.Header)+1)
	for k, v := range m.Header {
		if len(v) > 0 {
			h[strings.ToLower(k)] = v[0]
		}
	}
	if m.EventType != "" {
		h[EventTypeHeader] = m.EventType
	}
	return h
}

// Sent is what one attempt observed. The zero value means delivered: the
// broker acknowledged the message as its kind defines it.
type Sent struct {
	// Err says why the attempt failed ("" when delivered). It must never
	// carry credentials: no URL with a password, no header values.
	Err string
	// ErrType is a short, low-cardinality name of the failure for the
	// span's error.type ("timeout", "unroutable", ...); "" when unknown.
	ErrType string
	// Permanent marks a failure that no retry can fix (a message larger
	// than the broker takes): the delivery goes to the dead-letter set at
	// once instead of retrying.
	Permanent bool
	// Status is a protocol status where the kind has one (HTTP's status
	// code); 0 otherwise.
	Status int
	// Response is a short, human-readable note of the broker's answer
	// ("stream EVENTS seq 42"), shown with the attempt.
	Response string
	// RetryAfter is how long the receiver asked to wait before the next
	// attempt (0: no such request).
	RetryAfter time.Duration
	// Latency is how long the attempt took on the wire, when the plugin
	// measures it itself; 0 lets the caller measure the Deliver call.
	Latency time.Duration
}

// Destination delivers messages to one configured receiver. New (the
// plugin's constructor) has no side effects: it neither dials nor checks
// the broker, so `validate` and the dry run never touch the network. The
// first Deliver connects; the connection is long-lived, shared by every
// attempt to the destination (Deliver is called concurrently, up to the
// destination's max_concurrency) and re-established after the broker
// restarts. Close (io.Closer) releases it; attempts after Close fail.
type Destination interface {
	Deliver(ctx context.Context, m *Outbound) Sent
}

// Target describes where a destination's messages go, for attempt spans
// (OpenTelemetry's messaging conventions), the dry run and the dashboard.
// No field may carry a credential.
type Target struct {
	// System is the messaging system ("nats", "kafka", "rabbitmq",
	// "redis"), messaging.system.
	System string
	// Name is the subject, topic, exchange or stream messages are sent to,
	// messaging.destination.name.
	Name string
	// RoutingKey is RabbitMQ's routing key ("" for the others).
	RoutingKey string
	// Server is the broker's host and Port its port, the first one when
	// there are several (server.address, server.port).
	Server string
	Port   int
	// Shown is the broker address as a person may see it: without any
	// password or query.
	Shown string
}

// Targeter is the ability of a destination plugin to say where its
// messages go. Every non-HTTP destination plugin has it.
type Targeter interface {
	Target() Target
}
