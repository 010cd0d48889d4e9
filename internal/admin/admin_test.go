package admin_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"

	// The hmac verifier the config names.
	_ "github.com/hookgate/hookgate/plugins/standard"
)

const statsToken = "stats-admin-s3cret"

// newStatsServer serves the admin API over a real embedded store holding:
// to "orders", one delivery that failed 2h ago (500, 40ms) and succeeded
// 10m ago (200, 20ms); to "billing", one dead-lettered 5m ago (410, 10ms);
// nothing to "idle".
func newStatsServer(t *testing.T) (srvURL string, now time.Time) {
	t.Helper()
	src := `
gateway {
  listen       = "127.0.0.1:0"
  admin_listen = "127.0.0.1:0"
  admin_token  = "` + statsToken + `"
}
storage "embedded" { path = "data/h.db" }
source "partner" {
  path = "/in/partner"
  verify "hmac" { secret = "partner-secret" }
}
destination "orders" {
  url           = "http://127.0.0.1:1/orders"
  allow_private = true
}
destination "billing" {
  url           = "http://127.0.0.1:1/billing"
  allow_private = true
}
destination "idle" {
  url           = "http://127.0.0.1:1/idle"
  allow_private = true
}
route "all" {
  source       = "partner"
  destinations = ["orders", "billing", "idle"]
}
`
	l := &config.Loader{LookupEnv: func(string) (string, bool) { return "", false }}
	cfg, diags := l.LoadBytes([]byte(src), filepath.Join(t.TempDir(), "config.hcl"))
	if cfg == nil {
		t.Fatalf("config: %v", diags)
	}
	t.Cleanup(func() { cfg.Close() })
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	ctx := context.Background()
	now = time.Now().UTC().Truncate(time.Second)
	created := now.Add(-3 * time.Hour)
	ev := &store.Event{ID: ids.New(ids.Event, created), Source: "partner", ReceivedAt: created, Body: []byte(`{}`)}
	orders := &store.Delivery{ID: ids.New(ids.Delivery, created), EventID: ev.ID, Route: "all", Destination: "orders",
		Body: []byte(`{}`), CreatedAt: created, UpdatedAt: created, NextAttemptAt: created}
	billing := &store.Delivery{ID: ids.New(ids.Delivery, created), EventID: ev.ID, Route: "all", Destination: "billing",
		Body: []byte(`{}`), CreatedAt: created, UpdatedAt: created, NextAttemptAt: created}
	ev.DeliveryIDs = []string{orders.ID, billing.ID}
	if _, err := st.Accept(ctx, ev, []*store.Delivery{orders, billing}, nil); err != nil {
		t.Fatal(err)
	}
	step := func(d *store.Delivery, at time.Time, o store.Outcome) {
		t.Helper()
		got, err := st.Claim(ctx, d.Destination, at, 10, time.Minute)
		if err != nil || len(got) != 1 || got[0].ID != d.ID {
			t.Fatalf("claim %s: %v %v", d.Destination, got, err)
		}
		o.Attempt.At = at
		if err := st.Complete(ctx, d.ID, o); err != nil {
			t.Fatal(err)
		}
	}
	step(orders, now.Add(-2*time.Hour), store.Outcome{
		Attempt: store.Attempt{StatusCode: 500, Latency: 40 * time.Millisecond, Error: "HTTP 500"},
		Status:  store.Retrying, NextAttemptAt: now.Add(-10 * time.Minute),
	})
	step(orders, now.Add(-10*time.Minute), store.Outcome{
		Attempt: store.Attempt{StatusCode: 200, Latency: 20 * time.Millisecond}, Status: store.Delivered,
	})
	step(billing, now.Add(-5*time.Minute), store.Outcome{
		Attempt: store.Attempt{StatusCode: 410, Latency: 10 * time.Millisecond, Error: "HTTP 410"},
		Status:  store.Dead, DeadReason: "HTTP 410 Gone",
	})

	srv := httptest.NewServer((&admin.Server{
		Current: func() *config.Config { return cfg }, Store: st, Now: func() time.Time { return now },
	}).Handler())
	t.Cleanup(srv.Close)
	return srv.URL, now
}

func getStats(t *testing.T, base, since, token string) (int, api.Stats) {
	t.Helper()
	u := base + "/api/stats"
	if since != "" {
		u += "?since=" + url.QueryEscape(since)
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out api.Stats
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("decode: %v", err)
		}
	}
	return resp.StatusCode, out
}

func TestStats(t *testing.T) {
	base, now := newStatsServer(t)
	approx := func(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

	if code, _ := getStats(t, base, "", ""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, _ := getStats(t, base, "", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", code)
	}
	if code, _ := getStats(t, base, "yesterday", statsToken); code != http.StatusBadRequest {
		t.Errorf("bad since: %d, want 400", code)
	}

	// Default window, 24h: every attempt.
	code, got := getStats(t, base, "", statsToken)
	if code != http.StatusOK {
		t.Fatalf("GET /api/stats: %d", code)
	}
	if !got.Since.Equal(now.Add(-24 * time.Hour)) {
		t.Errorf("since = %s, want 24h before %s", got.Since, now)
	}
	if len(got.ConfigHash) != 64 || time.Since(got.ConfigLoadedAt) > time.Minute || got.ConfigLoadedAt.After(time.Now()) {
		t.Errorf("config_hash %q, config_loaded_at %s: want the running config's hash and load time", got.ConfigHash, got.ConfigLoadedAt)
	}
	if len(got.Destinations) != 3 {
		t.Fatalf("destinations = %+v, want billing, idle, orders", got.Destinations)
	}
	b, i, o := got.Destinations[0], got.Destinations[1], got.Destinations[2]
	if b.Destination != "billing" || b.Dead != 1 || b.Attempts != 1 || b.Succeeded != 0 || b.SuccessRate != 0 ||
		!approx(b.MeanMS, 10) || !approx(b.P99MS, 10) {
		t.Errorf("billing = %+v", b)
	}
	if i.Destination != "idle" || i.Pending+i.Retrying+i.Delivered+i.Dead+i.Attempts != 0 || i.MeanMS != 0 {
		t.Errorf("idle = %+v, want zeros", i)
	}
	if o.Destination != "orders" || o.Delivered != 1 || o.Attempts != 2 || o.RetryAttempts != 1 || o.Succeeded != 1 ||
		!approx(o.SuccessRate, 0.5) || !approx(o.MeanMS, 30) || !approx(o.P99MS, 40) {
		t.Errorf("orders = %+v", o)
	}

	// 1h: the failed attempt 2h ago is outside.
	_, got = getStats(t, base, "1h", statsToken)
	o = got.Destinations[2]
	if !got.Since.Equal(now.Add(-time.Hour)) || o.Attempts != 1 || o.RetryAttempts != 1 || !approx(o.SuccessRate, 1) ||
		!approx(o.MeanMS, 20) || !approx(o.P99MS, 20) || o.Delivered != 1 {
		t.Errorf("since 1h: since %s, orders %+v", got.Since, o)
	}

	// RFC 3339, after every attempt: states still counted.
	since := now.Add(-time.Minute).Format(time.RFC3339)
	_, got = getStats(t, base, since, statsToken)
	if len(got.Destinations) != 3 || !got.Since.Equal(now.Add(-time.Minute)) {
		t.Fatalf("since %s: %+v", since, got)
	}
	for _, d := range got.Destinations {
		if d.Attempts != 0 || d.MeanMS != 0 || d.P99MS != 0 || d.SuccessRate != 0 {
			t.Errorf("since %s: %+v, want no attempts", since, d)
		}
	}
	if got.Destinations[0].Dead != 1 || got.Destinations[2].Delivered != 1 {
		t.Errorf("since %s: states not counted: %+v", since, got.Destinations)
	}
}
