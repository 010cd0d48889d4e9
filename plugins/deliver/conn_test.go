package deliver

import (
	"errors"
	"strings"
	"testing"
)

// TestScrubber: a client library's error that repeats the broker URL, or
// its password (escaped or not), or a token given as the user, loses it.
func TestScrubber(t *testing.T) {
	cases := []struct{ url, err, secret string }{
		{"amqp://hook:p%40ss-w0rd@127.0.0.1:5672/", "dial amqp://hook:p%40ss-w0rd@127.0.0.1:5672/: refused", "p%40ss-w0rd"},
		{"amqp://hook:p%40ss-w0rd@127.0.0.1:5672/", "auth failed for password p@ss-w0rd", "p@ss-w0rd"},
		{"nats://s3cr3t-token@127.0.0.1:4222", "nats: authorization violation for s3cr3t-token", "s3cr3t-token"},
		{"redis://:pw-x@127.0.0.1:6379/0", "WRONGPASS pw-x", "pw-x"},
	}
	for _, c := range cases {
		got := newScrubber(c.url).text(errors.New(c.err))
		if strings.Contains(got, c.secret) || !strings.Contains(got, "[redacted]") {
			t.Errorf("%q scrubbed to %q", c.err, got)
		}
	}
	if got := newScrubber("nats://127.0.0.1:4222").text(errors.New("connection refused")); got != "connection refused" {
		t.Errorf("a URL without credentials changed an error: %q", got)
	}
}
