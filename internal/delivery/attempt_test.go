package delivery

import (
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/store"
)

func TestDecide(t *testing.T) {
	end := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	start := end.Add(-250 * time.Millisecond)
	two := config.Retry{Schedule: []time.Duration{time.Minute, 5 * time.Minute}}
	none := config.Retry{}
	half := func() float64 { return 0.5 }
	cases := []struct {
		name     string
		policy   config.Retry
		attempts int // before this one
		r        result
		rnd      func() float64

		status store.Status
		next   time.Duration // after end, for Retrying
		reason string
	}{
		{name: "200 delivered", policy: two, r: result{Status: 200}, status: store.Delivered},
		{name: "204 on the last try", policy: two, attempts: 2, r: result{Status: 204}, status: store.Delivered},
		{name: "410 dead at once", policy: two, r: result{Status: 410, Err: "status 410 Gone"}, status: store.Dead, reason: "410 Gone"},
		{name: "500 first retry", policy: two, r: result{Status: 500, Err: "status 500 Internal Server Error"}, status: store.Retrying, next: time.Minute},
		{name: "500 second retry", policy: two, attempts: 1, r: result{Status: 500, Err: "x"}, status: store.Retrying, next: 5 * time.Minute},
		{name: "500 exhausted", policy: two, attempts: 2, r: result{Status: 500, Err: "status 500 Internal Server Error"},
			status: store.Dead, reason: "retries exhausted after 3 attempts: status 500 Internal Server Error"},
		{name: "empty schedule dead after one failure", policy: none, r: result{Err: "timeout after 5s"},
			status: store.Dead, reason: "retries exhausted after 1 attempt: timeout after 5s"},
		{name: "connection error retries", policy: two, r: result{Err: "connection refused"}, status: store.Retrying, next: time.Minute},
		{name: "3xx retries", policy: two, r: result{Status: 302, Err: "status 302 Found (redirects are not followed)"}, status: store.Retrying, next: time.Minute},
		{name: "400 retries", policy: two, r: result{Status: 400, Err: "status 400 Bad Request"}, status: store.Retrying, next: time.Minute},
		{name: "429 Retry-After longer than the schedule", policy: two, r: result{Status: 429, RetryAfter: 10 * time.Minute}, status: store.Retrying, next: 10 * time.Minute},
		{name: "503 Retry-After shorter than the schedule", policy: two, r: result{Status: 503, RetryAfter: 10 * time.Second}, status: store.Retrying, next: time.Minute},
		{name: "429 exhausted despite Retry-After", policy: two, attempts: 2, r: result{Status: 429, Err: "status 429 Too Many Requests", RetryAfter: time.Second},
			status: store.Dead, reason: "retries exhausted after 3 attempts: status 429 Too Many Requests"},
		{name: "jitter low", policy: config.Retry{Schedule: []time.Duration{time.Minute}, Jitter: 0.1}, rnd: func() float64 { return 0 },
			r: result{Status: 500}, status: store.Retrying, next: 54 * time.Second},
		{name: "jitter high", policy: config.Retry{Schedule: []time.Duration{time.Minute}, Jitter: 0.1}, rnd: func() float64 { return 0.75 },
			r: result{Status: 500}, status: store.Retrying, next: 63 * time.Second},
		// A delay the jitter would push past time.Duration's range must not
		// wrap around into an immediate retry; every delay is capped.
		{name: "huge delay with jitter", policy: config.Retry{Schedule: []time.Duration{2562047 * time.Hour}, Jitter: 0.1}, rnd: func() float64 { return 0.75 },
			r: result{Status: 500}, status: store.Retrying, next: config.MaxRetryDelay},
		{name: "huge delay at full jitter", policy: config.Retry{Schedule: []time.Duration{math.MaxInt64}, Jitter: 1}, rnd: func() float64 { return 0.999 },
			r: result{Status: 500}, status: store.Retrying, next: config.MaxRetryDelay},
		{name: "delay over the cap without jitter", policy: config.Retry{Schedule: []time.Duration{30 * 24 * time.Hour}},
			r: result{Status: 500}, status: store.Retrying, next: config.MaxRetryDelay},
		{name: "NaN jitter", policy: config.Retry{Schedule: []time.Duration{time.Minute}, Jitter: math.NaN()},
			r: result{Status: 500}, status: store.Retrying, next: time.Minute},
		{name: "huge Retry-After", policy: two, r: result{Status: 429, RetryAfter: math.MaxInt64}, status: store.Retrying, next: maxRetryAfter},
		{name: "negative Retry-After", policy: two, r: result{Status: 503, RetryAfter: math.MinInt64}, status: store.Retrying, next: time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.r.At, c.r.End, c.r.Latency, c.r.Response = start, end, 250*time.Millisecond, "body"
			rnd := c.rnd
			if rnd == nil {
				rnd = half
			}
			o := decide(c.policy, c.attempts, c.r, rnd)
			if o.Status != c.status {
				t.Fatalf("status %s, want %s", o.Status, c.status)
			}
			want := store.Attempt{N: c.attempts + 1, At: start, StatusCode: c.r.Status, Latency: 250 * time.Millisecond, Error: c.r.Err, Response: "body"}
			if o.Attempt != want {
				t.Errorf("attempt %+v, want %+v", o.Attempt, want)
			}
			if o.DeadReason != c.reason {
				t.Errorf("dead reason %q, want %q", o.DeadReason, c.reason)
			}
			var wantNext time.Time
			if c.status == store.Retrying {
				wantNext = end.Add(c.next)
			}
			if !o.NextAttemptAt.Equal(wantNext) {
				t.Errorf("next attempt at %s after the end, want %s", o.NextAttemptAt.Sub(end), c.next)
			}
		})
	}
}

func TestJitterBounds(t *testing.T) {
	for _, r := range []float64{0, 0.001, 0.25, 0.5, 0.999} {
		for _, j := range []float64{0, 0.1, 0.5, 1, 2, -1} {
			d := jitter(time.Minute, j, r)
			jj := min(max(j, 0), 1)
			lo := time.Duration(float64(time.Minute) * (1 - jj))
			hi := time.Duration(float64(time.Minute) * (1 + jj))
			if d < lo || d > hi {
				t.Errorf("jitter(1m, %v, %v) = %s, outside [%s, %s]", j, r, d, lo, hi)
			}
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{" 7 ", 7 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"1.5", 0},
		{"999999999999", maxRetryAfter},
		{"99999999999999", maxRetryAfter},
		{"9223372036854775807", maxRetryAfter},
		{"99999999999999999999", 0}, // not an int64, not a date
		{"Fri, 31 Dec 9999 23:59:59 GMT", maxRetryAfter},
		{"Mon, 01 Jan 0001 00:00:00 GMT", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), maxRetryAfter},
		{now.Add(time.Hour).Format(time.RFC850), time.Hour},
	}
	for _, c := range cases {
		t.Run(c.v, func(t *testing.T) {
			if got := retryAfter(c.v, now); got != c.want {
				t.Errorf("retryAfter(%q) = %s, want %s", c.v, got, c.want)
			}
		})
	}
}

// TestDescribeKeepsURLOut: the URL may carry a token; attempt errors must not.
func TestDescribeKeepsURLOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused

	url := "http://" + addr + "/hooks/tok_s3cr3t?key=k3y"
	c := newClient(&config.Destination{URL: url, AllowPrivate: true}, 2*time.Second, 1)
	_, err = c.Get(url)
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	got := describe(err, 2*time.Second)
	if strings.Contains(got, "tok_s3cr3t") || strings.Contains(got, "k3y") {
		t.Errorf("attempt error %q shows the URL", got)
	}
	if !strings.Contains(got, "refused") {
		t.Errorf("attempt error %q does not say the connection was refused", got)
	}
}

func TestPrefix(t *testing.T) {
	cases := []struct {
		in   string
		full bool
		want string
	}{
		{"hello", false, "hello"},
		{"hello", true, "hello"},
		{"caf\xc3", true, "caf"},      // é cut after its first byte
		{"x\xe2\x82", true, "x"},      // € cut after two of three bytes
		{"x\xe2\x82\xac", true, "x€"}, // complete
		{"caf\xc3", false, "caf\xc3"}, // not cut: kept as received
		{"\x00\xff\x00", false, "\x00\xff\x00"},
	}
	for _, c := range cases {
		if got := prefix([]byte(c.in), c.full); got != c.want {
			t.Errorf("prefix(%q, %v) = %q, want %q", c.in, c.full, got, c.want)
		}
	}
}
