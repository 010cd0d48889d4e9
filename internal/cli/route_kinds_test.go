package cli

import (
	"strings"
	"testing"
)

// TestRouteKinds: the dry run of a route to destinations that are not HTTP
// prints each one's kind, broker (without its password), subject, topic,
// exchange or stream, the message key and the headers the broker gets
// (webhook-id, the event type, the signature), the body, and the route's
// ordering key beside the message key.
func TestRouteKinds(t *testing.T) {
	code, out, errOut := run(t, "", "route", "-config", "testdata/kinds.hcl", "-source", "ylytic",
		"-id", "msg_2ZbTKsyVxvQkyTm4bW8ihR5xpfR", "-timestamp", "1763900000",
		"../../examples/ylytic/events/creator_insights_tiktok.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "route_kinds", out)
	if n := strings.Count(out, `"ordering_key": "minimuffin8888"`); n != 4 {
		t.Errorf("the ordering key shows on %d of 4 destinations:\n%s", n, out)
	}
	for _, pw := range []string{"nats-pass", "amqp-pass", "redis-pass"} {
		if strings.Contains(out, pw) {
			t.Errorf("the dry run shows the password %q:\n%s", pw, out)
		}
	}
}
