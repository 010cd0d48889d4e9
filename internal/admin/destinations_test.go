package admin_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/testutil"
)

// find is the destination named name in a, or nil.
func find(a api.Destinations, name string) *api.Destination {
	for i := range a.Destinations {
		if a.Destinations[i].Name == name {
			return &a.Destinations[i]
		}
	}
	return nil
}

// TestPauseAndResumeAPI: GET /api/destinations lists every destination of
// the config with its state and concurrency (and no secret of its URL);
// POST …/pause makes it paused, in the store and in the engine at once;
// …/resume closes it; an unknown name is a 404.
func TestPauseAndResumeAPI(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken, engine: true})
	list := func() api.Destinations {
		t.Helper()
		code, raw := call(t, http.MethodGet, f.url+"/api/destinations", fxToken, "")
		noSecrets(t, "GET /api/destinations", raw)
		var a api.Destinations
		if code != http.StatusOK || json.Unmarshal(raw, &a) != nil {
			t.Fatalf("GET /api/destinations: %d %s", code, raw)
		}
		return a
	}
	a := list()
	if len(a.Destinations) != len(f.cfg.Destinations) {
		t.Fatalf("%d destinations listed, want the config's %d", len(a.Destinations), len(f.cfg.Destinations))
	}
	o := find(a, "orders")
	if o == nil || o.State != "closed" || o.Concurrency < 1 || o.Concurrency != o.MaxConcurrency || o.PausedAt != nil {
		t.Fatalf("orders: %+v, want closed at its max_concurrency", o)
	}

	code, raw := call(t, http.MethodPost, f.url+"/api/destinations/orders/pause", fxToken, "")
	var d api.Destination
	if code != http.StatusOK || json.Unmarshal(raw, &d) != nil || d.State != "paused" || d.PausedAt == nil {
		t.Fatalf("pause: %d %s", code, raw)
	}
	if o := find(list(), "orders"); o.State != "paused" {
		t.Fatalf("after pause: %+v", o)
	}
	if b := find(list(), "billing"); b == nil || b.State != "closed" {
		t.Fatalf("pausing orders changed billing: %+v", b)
	}
	// The engine applied it at once: nothing is attempted.
	_, ids := f.seed(t, time.Now(), "order.created", "orders")
	time.Sleep(300 * time.Millisecond) // several of the engine's 50ms polls
	if n := len(f.orders.got()); n != 0 {
		t.Fatalf("a paused destination was attempted %d times", n)
	}

	code, raw = call(t, http.MethodPost, f.url+"/api/destinations/orders/resume", fxToken, "")
	d = api.Destination{}
	if code != http.StatusOK || json.Unmarshal(raw, &d) != nil || d.State != "closed" || d.PausedAt != nil {
		t.Fatalf("resume: %d %s", code, raw)
	}
	testutil.Eventually(t, 0, "delivery "+ids[0]+" attempted after resume", testutil.Holds(func() bool { return len(f.orders.got()) > 0 }))

	for _, path := range []string{"/api/destinations/nope/pause", "/api/destinations/nope/resume"} {
		if code, raw := call(t, http.MethodPost, f.url+path, fxToken, ""); code != http.StatusNotFound {
			t.Errorf("POST %s: %d %s, want 404", path, code, raw)
		}
	}
}
