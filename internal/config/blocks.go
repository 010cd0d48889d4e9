package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/spec"
)

// The core blocks of config.hcl. These descriptions drive decoding, defaults
// and the generated reference (docs/config.md); plugin blocks (verify, sign)
// are described by each plugin.
var (
	gatewayBlock = &spec.Block{
		Type: "gateway",
		Doc:  "Where the gateway listens and how much it takes on. At most one.",
		Attrs: []spec.Attr{
			{Name: "listen", Kind: spec.String, Default: "127.0.0.1:8080", Example: `"0.0.0.0:8080"`,
				Doc: "Address of the ingest server that senders POST webhooks to."},
			{Name: "admin_listen", Kind: spec.String, Default: "127.0.0.1:8081", Example: `"127.0.0.1:8081"`,
				Doc: "Address of the admin server: the admin API, `/metrics`, `/healthz`, `/readyz`. A non-loopback address needs an `admin_token`."},
			{Name: "admin_token", Kind: spec.Secret, Example: `env("HOOKGATE_ADMIN_TOKEN", "")`,
				Doc: "Bearer token the admin API requires. Empty: the admin server may only listen on loopback."},
			{Name: "max_body", Kind: spec.Size, Default: "1MiB", Example: `"1MiB"`,
				Doc: "Largest webhook body accepted; a larger one is answered 413."},
			{Name: "workers", Kind: spec.Int, Default: "64", Example: "64",
				Doc: "Delivery attempts in flight at once, over all destinations."},
			{Name: "max_in_flight", Kind: spec.Int, Default: "1024", Example: "1024",
				Doc: "Ingest requests served at once (each may hold up to max_body before it is verified); beyond it a sender gets 503 with Retry-After. Restart to change."},
			{Name: "shutdown_timeout", Kind: spec.Duration, Default: "30s", Example: `"30s"`,
				Doc: "On SIGTERM, how long in-flight requests and delivery attempts may take to finish."},
		},
	}

	embeddedStorageBlock = &spec.Block{
		Type:   "storage",
		Labels: []string{"embedded"},
		Doc:    "The embedded store, the default when there is no storage block: one file on local disk.",
		Attrs: []spec.Attr{
			{Name: "path", Kind: spec.String, Default: "data/hookgate.db", Example: `"/var/lib/hookgate/hookgate.db"`,
				Doc: "The database file, relative to the config file's folder unless absolute."},
			{Name: "retention", Kind: spec.Duration, Default: "72h", Example: `"168h"`,
				Doc: "How long delivered and dead records are kept before background cleanup."},
		},
	}

	redisStorageBlock = &spec.Block{
		Type:   "storage",
		Labels: []string{"redis"},
		Doc:    "Redis storage, for several gateway instances sharing the work.",
		Attrs: []spec.Attr{
			{Name: "url", Kind: spec.Secret, Required: true, Example: `env("REDIS_URL", "redis://127.0.0.1:6379/0")`,
				Doc: "Redis URL (`redis://[user:password@]host:port/db`, or `rediss://` for TLS). Treated as a secret."},
			{Name: "prefix", Kind: spec.String, Default: "hookgate", Example: `"hookgate"`,
				Doc: "Prefix of every key hookgate writes."},
			{Name: "retention", Kind: spec.Duration, Default: "72h", Example: `"168h"`,
				Doc: "How long delivered and dead records are kept before background cleanup."},
		},
	}

	telemetryBlock = &spec.Block{
		Type: "telemetry",
		Doc:  "OpenTelemetry traces. At most one.",
		Attrs: []spec.Attr{
			{Name: "service_name", Kind: spec.String, Default: "hookgate", Example: `"hookgate"`,
				Doc: "The service.name resource attribute of every span."},
			{Name: "otlp_endpoint", Kind: spec.String, Example: `"127.0.0.1:4317"`,
				Doc: "Where spans go: `host:port` or `grpc://host:port` for OTLP over gRPC without TLS (Jaeger all-in-one takes it as is), `grpcs://host:port` with TLS, or an `http://` / `https://` URL for OTLP over HTTP (path `/v1/traces` by default). Empty: no export, near-zero overhead."},
			{Name: "sample_ratio", Kind: spec.Number, Default: "1", Example: "0.1",
				Doc: "Share of new traces sampled, from 0 to 1; a verified sender's sampled `traceparent` is followed (an unverified one cannot force a trace)."},
		},
	}

	fieldBlock = &spec.Block{
		Type:       "field",
		Labels:     []string{"name"},
		Repeatable: true,
		Doc:        "One field of an event. Fields of type object (or array of objects) may nest field blocks.",
		Attrs: []spec.Attr{
			{Name: "type", Kind: spec.String, Required: true, Example: `"string"`,
				Enum: []string{"string", "number", "integer", "boolean", "object", "array", "timestamp", "any"},
				Doc:  "The field's type: string, number, integer, boolean, object, array, timestamp (an RFC 3339 string) or any."},
			{Name: "optional", Kind: spec.Bool, Default: "false", Example: "true",
				Doc: "Whether the field may be absent (or null)."},
			{Name: "enum", Kind: spec.ValueList, Example: `["instagram", "youtube", "tiktok", "facebook"]`,
				Doc: "The allowed values. Filters comparing the field with any other literal are refused at load time."},
			{Name: "description", Kind: spec.String, Example: `"Platform the insights were fetched from"`,
				Doc: "What the field means, for people reading the config."},
		},
	}

	schemaBlock = &spec.Block{
		Type:       "schema",
		Labels:     []string{"name"},
		Repeatable: true,
		Doc:        "The fields and allowed values of one event type. Payloads are checked against it at ingest (422 on a violation) and filters and transforms are type-checked against it at load time. Fields not declared are allowed in payloads.",
		Attrs: []spec.Attr{
			{Name: "description", Kind: spec.String, Example: `"Ylytic creator insights"`, Doc: "What the event is."},
		},
		Blocks: []*spec.Block{fieldBlock},
	}

	challengeBlock = &spec.Block{
		Type: "challenge",
		Doc:  "A verification handshake, answered 200 after the signature check, before schemas and routes. Nothing is stored.",
		Attrs: []spec.Attr{
			{Name: "when", Kind: spec.Expr, Required: true, Example: `"$headers['x-influship-event'] == 'webhook.verify'"`,
				Doc: "Boolean expression that recognises a handshake request."},
			{Name: "respond", Kind: spec.Expr, Required: true, Example: `"{challenge: challenge}"`,
				Doc: "Expression whose value is the JSON answer."},
		},
	}

	dedupeBlock = &spec.Block{
		Type: "dedupe",
		Doc:  "Drops repeats of the same event: a second request with the same key within the window is answered 200 with the first event's id.",
		Attrs: []spec.Attr{
			{Name: "key", Kind: spec.Expr, Required: true, Example: `"$headers['webhook-id'] ?? $body.id"`,
				Doc: "Expression giving the event's idempotency key; an empty or null key is never a duplicate."},
			{Name: "window", Kind: spec.Duration, Default: "24h", Example: `"24h"`,
				Doc: "How long a key is remembered."},
		},
	}

	verifyBlock = &spec.Block{
		Type:   "verify",
		Labels: []string{"plugin"},
		Doc:    "How the source checks that a webhook comes from its sender: a verify plugin. Absent: unsigned webhooks are accepted, with a warning.",
	}

	sourceBlock = &spec.Block{
		Type:       "source",
		Labels:     []string{"name"},
		Repeatable: true,
		Doc:        "An inbound endpoint: where a platform POSTs its webhooks and how they are verified and typed.",
		Attrs: []spec.Attr{
			{Name: "path", Kind: spec.String, Required: true, Example: `"/in/ylytic"`,
				Doc: "URL path on the ingest server; unique among sources."},
			{Name: "event_type", Kind: spec.Expr, Example: `"type"`,
				Doc: "Expression over the payload that yields the event's type (`$event`). Needed when `schemas` is set."},
			{Name: "schemas", Kind: spec.StringMap, Example: `{ creator_insights = "creator_insights" }`,
				Doc: "Event type → schema name. Events of these types are validated against their schema."},
			{Name: "unknown_events", Kind: spec.String, Default: "reject", Enum: []string{"reject", "accept"}, Example: `"accept"`,
				Doc: "With `schemas`, what happens to an event whose type has no schema: reject (422) or accept unvalidated."},
			{Name: "content_types", Kind: spec.StringList, Example: `["application/json", "application/x-www-form-urlencoded"]`,
				Doc: "The request Content-Types accepted: `application/json` and `application/x-www-form-urlencoded` (a form's fields become the event, strings and, for a repeated name, a list of strings, delivered as JSON). " +
					"Another gets 415 with the list. Absent: any body that parses as JSON (and forms too with a verify plugin whose provider posts them, such as twilio); a request without Content-Type counts as JSON."},
			{Name: "description", Kind: spec.String, Example: `"Ylytic creator and campaign insights"`, Doc: "What the source is."},
		},
		Blocks: []*spec.Block{verifyBlock, challengeBlock, dedupeBlock, respondBlock},
	}

	respondBlock = &spec.Block{
		Type: "respond",
		Doc:  "The answer a sender gets once its event is stored, instead of 202 with the event's id as JSON (for senders that want, say, a plain 200 ok). Duplicates and errors are answered as usual.",
		Attrs: []spec.Attr{
			{Name: "status", Kind: spec.Int, Default: "200", Example: "200",
				Doc: "The HTTP status, from 200 to 299: the event is stored, and a sender must not be told otherwise."},
			{Name: "body", Kind: spec.String, Example: `"ok"`, Doc: "The answer's body, as is. Absent: empty."},
			{Name: "content_type", Kind: spec.String, Default: "text/plain; charset=utf-8", Example: `"text/plain; charset=utf-8"`,
				Doc: "The answer's Content-Type."},
		},
	}

	signBlock = &spec.Block{
		Type:   "sign",
		Labels: []string{"plugin"},
		Doc:    "How deliveries are signed for the receiver: a sign plugin. Absent: deliveries are not signed.",
	}

	retryBlock = &spec.Block{
		Type: "retry",
		Doc:  "When failed deliveries are tried again. Absent: the default schedule.",
		Attrs: []spec.Attr{
			{Name: "schedule", Kind: spec.DurationList, Example: `["1m", "5m", "15m", "1h", "4h"]`,
				Doc: "Delays before each attempt after the first, each at most 168h (7 days); after the last the delivery is dead-lettered. Default: [\"1m\", \"5m\", \"15m\", \"1h\", \"4h\"]. An empty list dead-letters after one failure."},
			{Name: "jitter", Kind: spec.Percent, Default: "10%", Example: `"10%"`,
				Doc: "Random spread added to or taken from each delay, so retries of many deliveries do not arrive together."},
		},
	}

	destinationBlock = &spec.Block{
		Type:       "destination",
		Labels:     []string{"name"},
		Repeatable: true,
		Doc:        "A receiver: where deliveries are POSTed (url) or published (a kind block: nats, kafka, rabbitmq, redis_stream), signed, and how they are retried and paced.",
		Attrs: []spec.Attr{
			{Name: "url", Kind: spec.String, Example: `"https://tiktok-team.example.com/hooks"`,
				Doc: "The receiver's http or https URL; a destination has either url or exactly one kind block (nats, kafka, rabbitmq, redis_stream: see Plugins, destination kinds). Query values are never shown (dashboard, traces); a URL given through `env()` or `file()` is treated as a secret, shown and traced as `scheme://host/[redacted]`, for receivers whose URL path is the credential (Slack, Discord)."},
			{Name: "timeout", Kind: spec.Duration, Default: "10s", Example: `"5s"`,
				Doc: "How long one attempt may take, from dial to the end of the response headers."},
			{Name: "headers", Kind: spec.StringMap, Example: `{ "X-Team" = "tiktok" }`,
				Doc: "Extra request headers sent with every delivery. Names are HTTP tokens; values cannot hold line breaks or other control characters."},
			{Name: "max_concurrency", Kind: spec.Int, Default: "16", Example: "4",
				Doc: "Attempts in flight at once to this destination."},
			{Name: "rate_limit", Kind: spec.Rate, Example: `"50/s"`,
				Doc: "Most attempts per second, minute or hour. Absent: no limit."},
			{Name: "allow_private", Kind: spec.Bool, Default: "false", Example: "true",
				Doc: "Allow delivery to loopback, private, link-local and cloud-metadata addresses. Checked on the address actually dialled."},
			{Name: "description", Kind: spec.String, Example: `"The TikTok team's creator service"`, Doc: "What the destination is."},
		},
		Blocks: []*spec.Block{signBlock, retryBlock},
	}

	routeBlock = &spec.Block{
		Type:       "route",
		Labels:     []string{"name"},
		Repeatable: true,
		Doc:        "Which events go where: events of some sources, an optional filter, an optional transform, and the destinations that receive them.",
		Attrs: []spec.Attr{
			{Name: "source", Kind: spec.String, Example: `"ylytic"`,
				Doc: "The source whose events the route takes. Exactly one of source and sources."},
			{Name: "sources", Kind: spec.StringList, Example: `["ylytic", "influship"]`,
				Doc: "Several sources whose events the route takes."},
			{Name: "events", Kind: spec.StringList, Example: `["creator_insights"]`,
				Doc: "Event types the route takes. Absent: all."},
			{Name: "filter", Kind: spec.Expr, Example: `"connector == 'tiktok' && status == 'success'"`,
				Doc: "Boolean expression over the payload. Absent: every event of the route's sources and types matches."},
			{Name: "transform", Kind: spec.Expr, Example: `"{creator: identifier, platform: connector, kind: type}"`,
				Doc: "Expression whose value, as JSON, is the delivered body. Absent: the body is sent as received."},
			{Name: "destinations", Kind: spec.StringList, Required: true, Example: `["tiktok_team"]`,
				Doc: "Destinations that receive each matched event; one delivery each."},
			{Name: "enabled", Kind: spec.Bool, Default: "true", Example: "false",
				Doc: "A disabled route is checked but matches nothing."},
			{Name: "description", Kind: spec.String, Example: `"TikTok creators for the TikTok team"`, Doc: "What the route is for."},
		},
	}

	// rootBlocks are the top-level blocks in the order the reference lists them.
	rootBlocks = []*spec.Block{gatewayBlock, embeddedStorageBlock, redisStorageBlock, telemetryBlock, schemaBlock, sourceBlock, destinationBlock, routeBlock}
)

// Blocks returns the descriptions of the core blocks, for generated docs.
func Blocks() []*spec.Block { return rootBlocks }

// DefaultRetrySchedule is the retry schedule when a destination sets none.
var DefaultRetrySchedule = []string{"1m", "5m", "15m", "1h", "4h"}

// MaxRetryDelay is the longest delay a retry schedule may hold. Delivery
// caps every delay it computes (jitter, Retry-After) at it too, so no
// arithmetic on a delay can overflow into an immediate retry.
const MaxRetryDelay = 7 * 24 * time.Hour

// MaxConfigSize is the largest config file the loader reads, in bytes. Real
// configs are a few kilobytes; the cap bounds the work of any load.
const MaxConfigSize = 1 << 20

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "gateway"},
		{Type: "storage", LabelNames: []string{"kind"}},
		{Type: "telemetry"},
		{Type: "schema", LabelNames: []string{"name"}},
		{Type: "source", LabelNames: []string{"name"}},
		{Type: "destination", LabelNames: []string{"name"}},
		{Type: "route", LabelNames: []string{"name"}},
	},
}
