package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookgate/hookgate/gateway/config"
	"github.com/hookgate/hookgate/gateway/store"
)

// drainLimit is how much of a response body beyond the recorded prefix is
// read and discarded so the connection can be reused; a larger body closes
// the connection instead of being read to its end.
const drainLimit = 64 << 10

// maxRetryAfter caps how far a receiver's Retry-After can push an attempt.
const maxRetryAfter = 24 * time.Hour

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
}

// send makes one attempt of d to dest with client: it builds the request
// (NewRequest, so the same webhook-id on every attempt), passes the event's
// traceparent through, and keeps a prefix of the answer.
func send(ctx context.Context, client *http.Client, dest *config.Destination, d *store.Delivery, now func() time.Time) result {
	r := result{At: now()}
	req, err := NewRequest(ctx, dest, d.ID, r.At, d.Body)
	if err != nil {
		// The config was validated, so this is unexpected; the message of
		// NewRequestWithContext may name the URL, so keep only its gist.
		r.Err = "cannot build the request: invalid destination url"
		r.End = now()
		return r
	}
	if d.TraceParent != "" {
		req.Header.Set("traceparent", d.TraceParent)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		r.Latency = time.Since(start)
		r.End = now()
		r.Err = describe(err, client.Timeout)
		return r
	}
	buf := make([]byte, store.ResponsePrefix)
	n, _ := io.ReadFull(resp.Body, buf)
	// A body that fails or times out after the status line does not change
	// the outcome: the receiver has answered.
	io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	resp.Body.Close()
	r.Latency = time.Since(start)
	r.End = now()
	r.Status = resp.StatusCode
	r.Response = prefix(buf[:n], n == len(buf))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		// Redirects are not followed (see newClient): following one would
		// re-send a signed body to a place the config does not name.
		r.Err = statusText(resp.StatusCode) + " (redirects are not followed)"
	default:
		r.Err = statusText(resp.StatusCode)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		r.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), r.End)
	}
	return r
}

// decide turns an attempt's result into the delivery's outcome (SPEC,
// Delivery): 2xx delivered; 410 dead at once; anything else retries at the
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
	case r.Status >= 200 && r.Status < 300:
		o.Status = store.Delivered
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
	if r.RetryAfter > delay {
		delay = r.RetryAfter
	}
	o.Status = store.Retrying
	o.NextAttemptAt = r.End.Add(delay)
	return o
}

// jitter spreads delay by up to ±j of itself: delay * (1 + j*(2r-1)).
func jitter(delay time.Duration, j, r float64) time.Duration {
	j = min(max(j, 0), 1)
	return time.Duration(float64(delay) * (1 + j*(2*r-1)))
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
