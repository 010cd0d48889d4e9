package delivery

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/telemetry"
	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/secret"
)

// drainLimit is how much of a response body beyond the recorded prefix is
// read and discarded so the connection can be reused; a larger body closes
// the connection instead of being read to its end.
const drainLimit = 64 << 10

// maxRetryAfter caps how far a receiver's Retry-After can push an attempt.
const maxRetryAfter = 24 * time.Hour

// prefixBufs recycles the buffers a response's prefix is read into.
var prefixBufs = sync.Pool{New: func() any { return new([store.ResponsePrefix]byte) }}

// result is what one attempt observed, before the outcome is decided.
type result struct {
	// At is when the attempt started; End when it ended.
	At, End time.Time
	Latency time.Duration
	// Status is the HTTP status, 0 when no response came.
	Status int
	// Err says why the attempt failed ("" for a 2xx). It never carries
	// request headers, signatures or the destination URL.
	Err string
	// Response is a prefix of the response body.
	Response string
	// RetryAfter is the receiver's Retry-After on a 429 or 503 (0: none).
	RetryAfter time.Duration
	// ErrType names the kind of transport error for the span's error.type
	// ("timeout", "connection_refused"…; "" when none or unknown).
	ErrType string
	// Delivered reports that the receiver took the message (a 2xx, a
	// broker's ack); Permanent that it refused it for good (dead at once).
	Delivered, Permanent bool
}

// sendTraced makes one attempt of d to dest with client: it builds the
// request (NewRequest, so the same webhook-id on every attempt), and keeps a
// prefix of the answer. The attempt is a client span of tracer whose parent
// is the event's ingest span as stored with d (so every attempt, whenever
// and wherever it is made, joins the event's trace); the request carries
// the attempt span's traceparent.
func sendTraced(ctx context.Context, tracer trace.Tracer, client *http.Client, dest *config.Destination, d *store.Delivery, now func() time.Time) result {
	ctx = telemetry.ContextWithTraceParent(ctx, d.TraceParent)
	ctx, span := tracer.Start(ctx, "deliver", trace.WithSpanKind(trace.SpanKindClient))
	defer span.End()
	if span.IsRecording() {
		span.SetName("deliver " + dest.Name)
		span.SetAttributes(attemptAttrs(dest, d)...)
	}
	r := sendRequest(ctx, client, dest, d, now)
	if span.IsRecording() {
		endAttempt(span, r)
	}
	return r
}

// sendRequest makes the attempt of sendTraced, within ctx's span: the HTTP
// kind (httpDestination) delivers the message attempt builds.
func sendRequest(ctx context.Context, client *http.Client, dest *config.Destination, d *store.Delivery, now func() time.Time) result {
	return attempt(ctx, &httpDestination{client: client, dest: dest, now: now}, dest, d, now, client.Timeout)
}

// httpDestination is the HTTP destination kind: a POST of the message to
// the destination's URL with the destination's client (SSRF guard, no
// redirects), keeping a prefix of the answer. Delivered means a 2xx.
type httpDestination struct {
	client *http.Client
	dest   *config.Destination
	now    func() time.Time
}

var _ plugins.Destination = (*httpDestination)(nil)

// Deliver POSTs m and reads the answer.
func (h *httpDestination) Deliver(ctx context.Context, m *plugins.Outbound) plugins.Sent {
	u, err := parseURL(h.dest.URL)
	if err != nil {
		// The config was validated, so this is unexpected; the message of
		// url.Parse may name the URL, so keep only its gist.
		return plugins.Sent{Err: "cannot build the request: invalid destination url", ErrType: "invalid_url"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "", bytes.NewReader(m.Body))
	if err != nil {
		return plugins.Sent{Err: "cannot build the request: invalid destination url", ErrType: "invalid_url"}
	}
	// The URL is parsed once per destination URL, not per attempt; the
	// request gets its own copy, as NewRequestWithContext would make.
	uc := *u
	req.URL, req.Host = &uc, u.Host
	req.Header = m.Header
	// The client's transport is called directly, with the client's
	// timeout as the request's deadline (attempt set it): Client.Do's
	// redirect handling, which copies every request's headers, is never
	// used (redirects are not followed).
	start := time.Now()
	rt := h.client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return plugins.Sent{Latency: time.Since(start), Err: describe(err, h.client.Timeout), ErrType: errorType(err)}
	}
	buf := prefixBufs.Get().(*[store.ResponsePrefix]byte)
	n, _ := io.ReadFull(resp.Body, buf[:])
	// A body that fails or times out after the status line does not change
	// the outcome: the receiver has answered.
	io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	resp.Body.Close()
	s := plugins.Sent{Latency: time.Since(start), Status: resp.StatusCode, Response: prefix(buf[:n], n == len(buf))}
	prefixBufs.Put(buf)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		// Redirects are not followed (see newClient): following one would
		// re-send a signed body to a place the config does not name.
		s.Err = statusText(resp.StatusCode) + " (redirects are not followed)"
	default:
		s.Err = statusText(resp.StatusCode)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		s.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), h.now())
	}
	return s
}

// Span attributes of hookgate's own on attempt spans (the HTTP ones are
// semconv's).
const (
	attrAttempt     = attribute.Key("hookgate.attempt")
	attrDestination = attribute.Key("hookgate.destination")
	attrRoute       = attribute.Key("hookgate.route")
	attrDeliveryID  = attribute.Key("hookgate.delivery_id")
	attrEventID     = attribute.Key("hookgate.event_id")
)

// attemptAttrs are the attributes an attempt span starts with. The URL is
// given without userinfo, query and fragment, where credentials live.
func attemptAttrs(dest *config.Destination, d *store.Delivery) []attribute.KeyValue {
	as := make([]attribute.KeyValue, 0, 9)
	as = append(as, urlAttrs(dest)...)
	return append(as,
		attrAttempt.Int(d.Attempts+1),
		attrDestination.String(dest.Name),
		attrRoute.String(d.Route),
		attrDeliveryID.String(d.ID),
		attrEventID.String(d.EventID),
	)
}

// urlAttrsCache holds the attributes of each destination URL (as shown):
// parsing and redacting it on every attempt was most of a span's cost.
var urlAttrsCache sync.Map // urlKey → []attribute.KeyValue

type urlKey struct {
	url    string
	secret bool
}

// urlAttrs are the method and URL attributes of an attempt to dest, built
// once per URL.
func urlAttrs(dest *config.Destination) []attribute.KeyValue {
	k := urlKey{dest.URL, dest.URLSecret}
	if v, ok := urlAttrsCache.Load(k); ok {
		return v.([]attribute.KeyValue)
	}
	as := []attribute.KeyValue{semconv.HTTPRequestMethodPost}
	if u, err := url.Parse(dest.URL); err == nil {
		u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
		if dest.URLSecret {
			secret.HidePath(u)
		}
		as = append(as, semconv.URLFull(u.String()), semconv.ServerAddress(u.Hostname()))
		port, err := strconv.Atoi(u.Port())
		switch {
		case err == nil:
		case u.Scheme == "https":
			port = 443
		default:
			port = 80
		}
		as = append(as, semconv.ServerPort(port))
	}
	urlAttrsCache.Store(k, as)
	return as
}

// endAttempt records r on its span: the response status and, for a failed
// attempt, error.type and status Error with the attempt's error text (which
// never carries the URL, headers or signatures).
func endAttempt(span trace.Span, r result) {
	if r.Status != 0 {
		span.SetAttributes(semconv.HTTPResponseStatusCode(r.Status))
	}
	if r.Err == "" {
		return
	}
	et := r.ErrType
	if r.Status != 0 {
		et = strconv.Itoa(r.Status)
	}
	if et == "" {
		et = semconv.ErrorTypeOther.Value.AsString()
	}
	span.SetAttributes(semconv.ErrorTypeKey.String(et))
	span.SetStatus(codes.Error, r.Err)
}

// errorType is the error.type of a transport error: a short, low-cardinality
// name.
func errorType(err error) string {
	var pe *PrivateAddressError
	var ne net.Error
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &pe):
		return "private_address"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &dnsErr):
		return "dns_error"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection_reset"
	}
	var tlsErr *tls.CertificateVerificationError
	if errors.As(err, &tlsErr) {
		return "tls_error"
	}
	return ""
}

// decide turns an attempt's result into the delivery's outcome (SPEC,
// Delivery): 2xx (or a broker's ack) delivered; 410 or a permanent
// refusal dead at once; anything else retries at the
// schedule's next delay with jitter (or the receiver's Retry-After on 429
// and 503, when longer) until the schedule is exhausted, then dead. attempts
// is how many attempts were made before this one; rnd returns [0, 1).
func decide(policy config.Retry, attempts int, r result, rnd func() float64) store.Outcome {
	o := store.Outcome{Attempt: store.Attempt{
		N:          attempts + 1,
		At:         r.At,
		StatusCode: r.Status,
		Latency:    r.Latency,
		Error:      r.Err,
		Response:   r.Response,
	}}
	switch {
	case r.Delivered || r.Status >= 200 && r.Status < 300:
		o.Status = store.Delivered
		return o
	case r.Permanent:
		o.Status = store.Dead
		o.DeadReason = r.Err
		return o
	case r.Status == http.StatusGone:
		o.Status = store.Dead
		o.DeadReason = "410 Gone"
		return o
	}
	n := o.Attempt.N
	if n-1 >= len(policy.Schedule) {
		o.Status = store.Dead
		unit := "attempts"
		if n == 1 {
			unit = "attempt"
		}
		o.DeadReason = fmt.Sprintf("retries exhausted after %d %s: %s", n, unit, r.Err)
		return o
	}
	delay := jitter(policy.Schedule[n-1], policy.Jitter, rnd())
	// The receiver's Retry-After pushes the attempt further, capped as
	// retryAfter caps it whatever built r.
	if ra := min(r.RetryAfter, maxRetryAfter); ra > delay {
		delay = ra
	}
	o.Status = store.Retrying
	o.NextAttemptAt = r.End.Add(delay)
	return o
}

// jitter spreads delay by up to ±j of itself: delay * (1 + j*(2r-1)),
// within [0, config.MaxRetryDelay]. The product is clamped as a float64:
// converting one beyond time.Duration's range wraps to a negative delay,
// an immediate retry (a schedule of ["2562047h"] with 10% jitter did).
func jitter(delay time.Duration, j, r float64) time.Duration {
	if math.IsNaN(j) {
		j = 0
	}
	j = min(max(j, 0), 1)
	f := float64(delay) * (1 + j*(2*r-1))
	switch {
	case math.IsNaN(f):
		f = float64(delay)
	case f <= 0:
		return 0
	}
	if f >= float64(config.MaxRetryDelay) {
		return config.MaxRetryDelay
	}
	return time.Duration(f)
}

// retryAfter parses a Retry-After value (delay seconds or an HTTP date)
// relative to now, capped at maxRetryAfter; 0 when absent, invalid or past.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// describe turns a transport error into an attempt's error text. It drops
// the *url.Error wrapping, whose message repeats the destination URL (which
// may carry a token in its path or query); requests' headers never appear in
// transport errors.
func describe(err error, timeout time.Duration) string {
	var pe *PrivateAddressError
	if errors.As(err, &pe) {
		return pe.Error()
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("timeout after %s", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// statusText is "status 500 Internal Server Error".
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("status %d %s", code, t)
	}
	return fmt.Sprintf("status %d", code)
}

// prefix returns b as a string; when b was cut short (full), an incomplete
// UTF-8 sequence at its end is dropped.
func prefix(b []byte, full bool) string {
	if full {
		for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
			r, size := utf8.DecodeLastRune(b)
			if r != utf8.RuneError || size != 1 {
				break
			}
			if utf8.RuneStart(b[len(b)-1]) {
				b = b[:len(b)-1]
				break
			}
			b = b[:len(b)-1]
		}
	}
	return string(b)
}
