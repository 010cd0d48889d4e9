package deliver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/spec"
)

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindDestination,
		Name: "nats",
		Doc: "Publishes each delivery to a NATS JetStream subject. Delivered means the stream acknowledged the message (it is stored). " +
			"The message's Nats-Msg-Id is the delivery id, so a retry within the stream's duplicate window is dropped by JetStream itself. " +
			"A stream must capture the subject; hookgate does not create it.",
		Attrs: []spec.Attr{
			{Name: "url", Kind: spec.Secret, Required: true, Example: `"nats://127.0.0.1:4222"`,
				Doc: "The server's URL (nats:// or tls://); several, comma-separated, for a cluster. A user and password or a token in it are secrets: never shown."},
			{Name: "subject", Kind: spec.String, Required: true, Example: `"creator.events"`,
				Doc: "The subject published to; a JetStream stream must capture it."},
		},
		New: func(v spec.Values) (any, error) { return newNATS(v) },
	})
}

// NATS is the destination kind "nats": JetStream publish with the delivery
// id as Nats-Msg-Id; delivered means the stream's ack.
type NATS struct {
	url     string
	subject string
	target  plugins.Target
	scrub   scrubber

	mu     sync.Mutex
	nc     *nats.Conn
	js     jetstream.JetStream
	closed bool
}

var (
	_ plugins.Destination = (*NATS)(nil)
	_ plugins.Targeter    = (*NATS)(nil)
)

func newNATS(v spec.Values) (*NATS, error) {
	raw := v.Secret("url").Reveal()
	urls := strings.Split(raw, ",")
	var scrub scrubber
	for _, u := range urls {
		if _, err := checkURL("url", strings.TrimSpace(u), "nats", "tls"); err != nil {
			return nil, err
		}
		scrub = append(scrub, newScrubber(strings.TrimSpace(u))...)
	}
	first := strings.TrimSpace(urls[0])
	subject := v.String("subject")
	if subject == "" || strings.ContainsAny(subject, " \t\r\n*>") {
		return nil, spec.Errorf("subject", "%q is not a subject to publish to: no spaces and no wildcards (* or >)", subject)
	}
	return &NATS{
		url:     raw,
		subject: subject,
		target:  urlTarget(plugins.Target{System: "nats", Name: subject}, first, 4222),
		scrub:   scrub,
	}, nil
}

// Target says where n publishes.
func (n *NATS) Target() plugins.Target { return n.target }

// conn returns the JetStream context, connecting on first use. The
// connection reconnects by itself for ever after a server restart.
func (n *NATS) conn(ctx context.Context) (jetstream.JetStream, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, errClosed
	}
	if n.js != nil {
		return n.js, nil
	}
	timeout := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	nc, err := nats.Connect(n.url,
		nats.Name("hookgate"),
		nats.Timeout(timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		// Publishes made while reconnecting fail at once (and retry by
		// the destination's schedule) instead of waiting in a buffer.
		nats.ReconnectBufSize(-1),
	)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	n.nc, n.js = nc, js
	return js, nil
}

// Deliver publishes m and waits for the stream's ack.
func (n *NATS) Deliver(ctx context.Context, m *plugins.Outbound) plugins.Sent {
	js, err := n.conn(ctx)
	if err != nil {
		return n.scrub.failure(err)
	}
	msg := nats.NewMsg(n.subject)
	msg.Data = m.Body
	for k, v := range m.Headers() {
		msg.Header.Set(k, v)
	}
	ack, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(m.ID), jetstream.WithRetryAttempts(0))
	if err != nil {
		s := n.scrub.failure(err)
		switch {
		case errors.Is(err, nats.ErrMaxPayload):
			s.Permanent, s.ErrType = true, "message_too_large"
		case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders):
			s.Err, s.ErrType = fmt.Sprintf("no stream captures subject %q (or JetStream is not enabled)", n.subject), "no_stream"
		}
		return s
	}
	r := plugins.Sent{Response: fmt.Sprintf("stream %s seq %d", ack.Stream, ack.Sequence)}
	if ack.Duplicate {
		r.Response += " (duplicate: already stored)"
	}
	return r
}

// Close closes the connection; later attempts fail.
func (n *NATS) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	if n.nc != nil {
		n.nc.Close()
		n.nc, n.js = nil, nil
	}
	return nil
}
