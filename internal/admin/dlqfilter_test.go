package admin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/store"
)

// TestDLQReplayFilter: POST /api/dlq/replay?filter= makes pending again
// exactly the dead deliveries the expression passes (status code, error,
// destination, payload fields), keeping their ids; a bad expression is a
// 400 with its column.
func TestDLQReplayFilter(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken})
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	_, a := f.seed(t, at, "order.created", "billing")
	_, b := f.seed(t, at.Add(time.Minute), "order.created", "billing")
	_, c := f.seed(t, at.Add(2*time.Minute), "order.created", "orders")
	f.finish(t, a[0], at.Add(time.Minute), 410, store.Dead)
	f.finish(t, b[0], at.Add(2*time.Minute), 500, store.Dead)
	f.finish(t, c[0], at.Add(3*time.Minute), 410, store.Dead)

	status := func(id string) string {
		var d api.Delivery
		getJSON(t, f.url+"/api/deliveries/"+id, &d)
		return d.Status
	}
	replay := func(query string) int {
		t.Helper()
		code, raw := call(t, http.MethodPost, f.url+"/api/dlq/replay?"+query, fxToken, "")
		var out api.Replayed
		if json.Unmarshal(raw, &out); code != http.StatusOK {
			t.Fatalf("%s: %d %s", query, code, raw)
		}
		return out.Replayed
	}
	if n := replay("filter=" + url.QueryEscape("$status == 404")); n != 0 {
		t.Errorf("no match replayed %d", n)
	}
	if n := replay("filter=" + url.QueryEscape("$status == 410 && $destination == 'billing' && $body.type == 'order.created' && note contains 'script' && $error contains '410'")); n != 1 {
		t.Errorf("replayed %d, want 1", n)
	}
	if status(a[0]) != "pending" || status(b[0]) != "dead" || status(c[0]) != "dead" {
		t.Errorf("after the first replay: %s %s %s", status(a[0]), status(b[0]), status(c[0]))
	}
	if n := replay("destination=orders&filter=" + url.QueryEscape("$attempts >= 1 && $route == 'refunds'")); n != 1 || status(c[0]) != "pending" || status(b[0]) != "dead" {
		t.Errorf("replayed %d; %s %s", n, status(c[0]), status(b[0]))
	}

	for _, bad := range []struct {
		expr   string
		column int
	}{
		{"$status ==", 10},
		{"$stauts == 500", 1},
		{"$status == 500 && $headers['x'] == 'y'", 19},
	} {
		code, raw := call(t, http.MethodPost, f.url+"/api/dlq/replay?filter="+url.QueryEscape(bad.expr), fxToken, "")
		var e api.FilterError
		if json.Unmarshal(raw, &e); code != http.StatusBadRequest || e.Column != bad.column {
			t.Errorf("%q: %d %s, want 400 at column %d", bad.expr, code, raw, bad.column)
		}
	}
	if status(b[0]) != "dead" {
		t.Error("a refused filter replayed something")
	}
}
