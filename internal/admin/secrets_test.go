package admin_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store"
)

// TestNoSecretInAnyAnswer asks every API route and every dashboard page for
// everything it shows, after a real test delivery that was signed with the
// destination's secret (and, rotating, its previous_secret) and sent with
// its secret header and URL; call and browser.do fail the test on any
// configured secret in an answer: the sources' too, a preset's secrets =
// [...], meta's verify_token, twilio's auth token and a redis_stream
// destination's broker password (its test attempt failing) among them. What the
// admin server and the delivery engine logged meanwhile is swept as well.
func TestNoSecretInAnyAnswer(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken, engine: true})
	at := time.Now().UTC().Add(-time.Minute)
	ev, ds := f.seed(t, at, "order.created", "billing")
	f.finish(t, ds[0], at, 410, store.Dead)
	code, raw := call(t, http.MethodPost, f.url+"/api/destinations/orders/test", fxToken, "")
	var test struct {
		ID      string `json:"id"`
		EventID string `json:"event_id"`
	}
	if json.Unmarshal(raw, &test); code != http.StatusOK || test.ID == "" {
		t.Fatalf("test delivery: %d %s", code, raw)
	}
	if len(f.orders.got()) != 1 {
		t.Fatal("the test delivery did not reach the receiver")
	}
	// A destination that is not HTTP, whose broker URL holds a password
	// and is down: the attempt's error, the API and the logs show none.
	code, raw = call(t, http.MethodPost, f.url+"/api/destinations/audit/test", fxToken, `{"type":"order.created"}`)
	var kindTest struct {
		ID       string `json:"id"`
		Attempts int    `json:"attempts"`
		Log      []struct {
			Error string `json:"error"`
		} `json:"attempt_log"`
	}
	if json.Unmarshal(raw, &kindTest); code != http.StatusOK || kindTest.Attempts != 1 || len(kindTest.Log) != 1 || kindTest.Log[0].Error == "" {
		t.Fatalf("test delivery to the redis_stream destination: %d %s", code, raw)
	}

	for _, path := range []string{
		"/healthz", "/readyz",
		"/api/deliveries", "/api/deliveries?status=dead", "/api/deliveries/" + ds[0], "/api/deliveries/" + test.ID, "/api/deliveries/" + kindTest.ID,
		"/api/events/" + ev, "/api/events/" + test.EventID, "/api/events", "/api/events/export", "/api/dlq/export", "/api/stats", "/api/stats?since=1h",
		"/api/destinations",
	} {
		if code, raw := call(t, http.MethodGet, f.url+path, fxToken, ""); code != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, code, raw)
		}
	}
	// Errors too.
	call(t, http.MethodGet, f.url+"/api/deliveries", "wrong", "")
	call(t, http.MethodPost, f.url+"/api/reload", fxToken, "")
	call(t, http.MethodPost, f.url+"/api/destinations/orders/pause", fxToken, "")
	call(t, http.MethodPost, f.url+"/api/destinations/orders/resume", fxToken, "")

	b := newBrowser(t, f.url)
	b.do("GET", "/login", nil)
	b.do("POST", "/login", map[string][]string{"token": {"wrong-" + fxToken[:4]}})
	login(t, b)
	for _, path := range []string{
		"/", "/deliveries", "/deliveries/" + ds[0], "/deliveries/" + test.ID, "/events/" + ev, "/events/" + test.EventID, "/events", "/events?include=all",
		"/dlq", "/dlq/export", "/config",
	} {
		if code, _, _ := b.do("GET", path, nil); code != http.StatusOK {
			t.Errorf("GET %s: %d", path, code)
		}
	}
	logs := f.logs.bytes()
	if len(logs) == 0 {
		t.Error("nothing was logged: the sweep of the logs would prove nothing")
	}
	noSecrets(t, "the logs", logs)
}
