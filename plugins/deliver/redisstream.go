package deliver

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/spec"
)

func init() {
	plugins.Register(plugins.Plugin{
		Kind: plugins.KindDestination,
		Name: "redis_stream",
		Doc: "Appends each delivery to a Redis stream (XADD, trimmed with MAXLEN ~). Delivered means Redis answered the XADD with the entry's id. " +
			"The entry's fields are the message headers (webhook-id, webhook-event-type, traceparent, the destination's headers, any signature) and body. " +
			"A retry after a lost answer appends the entry again: consumers deduplicate by webhook-id.",
		Attrs: []spec.Attr{
			{Name: "url", Kind: spec.Secret, Required: true, Example: `"redis://127.0.0.1:6379/0"`,
				Doc: "The Redis URL (redis:// or rediss://, with a password and a database number if needed). Never shown."},
			{Name: "stream", Kind: spec.String, Required: true, Example: `"hookgate:audit"`,
				Doc: "The stream's key."},
			{Name: "maxlen", Kind: spec.Int, Example: "1000000",
				Doc: "Trims the stream to about this many entries (MAXLEN ~) on each append. Absent or 0: never trimmed."},
		},
		New: func(v spec.Values) (any, error) { return newRedisStream(v) },
	})
}

// RedisStream is the destination kind "redis_stream": XADD with MAXLEN ~.
type RedisStream struct {
	opts   *redis.Options
	stream string
	maxlen int64
	target plugins.Target
	scrub  scrubber

	mu     sync.Mutex
	client *redis.Client
	closed bool
}

var (
	_ plugins.Destination = (*RedisStream)(nil)
	_ plugins.Targeter    = (*RedisStream)(nil)
)

func newRedisStream(v spec.Values) (*RedisStream, error) {
	raw := v.Secret("url").Reveal()
	if _, err := checkURL("url", raw, "redis", "rediss"); err != nil {
		return nil, err
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		// go-redis's message may quote the URL.
		return nil, spec.Errorf("url", "the value given is not a Redis URL")
	}
	stream := v.String("stream")
	if stream == "" {
		return nil, spec.Errorf("stream", "the stream's key must not be empty")
	}
	maxlen := int64(v.Int("maxlen"))
	if maxlen < 0 {
		return nil, spec.Errorf("maxlen", "maxlen must be 0 (no trimming) or more")
	}
	opts.ClientName = "hookgate"
	return &RedisStream{
		opts:   opts,
		stream: stream,
		maxlen: maxlen,
		target: urlTarget(plugins.Target{System: "redis", Name: stream}, raw, 6379),
		scrub:  newScrubber(raw),
	}, nil
}

// Target says where r appends.
func (r *RedisStream) Target() plugins.Target { return r.target }

// conn returns the client, made on first use. Its pool redials after a
// server restart.
func (r *RedisStream) conn() (*redis.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errClosed
	}
	if r.client == nil {
		r.client = redis.NewClient(r.opts)
	}
	return r.client, nil
}

// Deliver appends m to the stream.
func (r *RedisStream) Deliver(ctx context.Context, m *plugins.Outbound) plugins.Sent {
	c, err := r.conn()
	if err != nil {
		return r.scrub.failure(err)
	}
	h := m.Headers()
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	values := make([]any, 0, 2*len(h)+2)
	for _, k := range names {
		values = append(values, k, h[k])
	}
	values = append(values, "body", m.Body)
	args := &redis.XAddArgs{Stream: r.stream, Values: values}
	if r.maxlen > 0 {
		args.MaxLen, args.Approx = r.maxlen, true
	}
	id, err := c.XAdd(ctx, args).Result()
	if err != nil {
		return r.scrub.failure(err)
	}
	return plugins.Sent{Response: fmt.Sprintf("stream %s id %s", r.stream, id)}
}

// Close closes the client; later attempts fail.
func (r *RedisStream) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.client != nil {
		err := r.client.Close()
		r.client = nil
		return err
	}
	return nil
}
