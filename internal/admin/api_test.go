package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/testutil"
)

// listedIDs are the ids of a listing's deliveries, in order.
func listedIDs(l api.Deliveries) []string {
	var out []string
	for _, d := range l.Deliveries {
		out = append(out, d.ID)
	}
	return out
}

func TestDeliveriesFilters(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken})
	base := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	e1, d1 := f.seed(t, base, "order.created", "orders", "billing")
	o1, b1 := d1[0], d1[1]
	f.finish(t, o1, base.Add(time.Minute), 200, store.Delivered)
	f.finish(t, b1, base.Add(time.Minute), 410, store.Dead)
	_, d2 := f.seed(t, base.Add(time.Hour), "order.refunded", "billing")
	b2 := d2[0]
	_, d3 := f.seed(t, base.Add(2*time.Hour), "order.created", "orders")
	o3 := d3[0]
	f.finish(t, o3, base.Add(2*time.Hour+time.Minute), 500, store.Retrying)
	_ = e1

	tests := []struct {
		query string
		want  []string // newest first; nil for none
	}{
		{"", []string{o3, b2, b1, o1}},
		{"status=delivered", []string{o1}},
		{"status=dead", []string{b1}},
		{"status=retrying", []string{o3}},
		{"status=pending", []string{b2}},
		{"destination=billing", []string{b2, b1}},
		{"route=refunds", []string{o3, o1}},
		{"source=shop&destination=orders", []string{o3, o1}},
		{"source=elsewhere", nil},
		{"event_type=order.refunded", []string{b2}},
		{"since=" + url.QueryEscape(base.Add(30*time.Minute).Format(time.RFC3339)), []string{o3, b2}},
		{"until=" + url.QueryEscape(base.Add(30*time.Minute).Format(time.RFC3339)), []string{b1, o1}},
		{"since=90m", []string{o3}},
		{"status=dead&destination=orders", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var got api.Deliveries
			getJSON(t, f.url+"/api/deliveries?"+tt.query, &got)
			listed := listedIDs(got)
			// Deliveries of one event share a creation time; their order
			// among themselves is the ids'.
			if !sameSet(listed, tt.want) || !newestFirst(listed) {
				t.Errorf("got %v, want %v", listed, tt.want)
			}
			for _, d := range got.Deliveries {
				if d.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" {
					t.Errorf("%s: trace_id %q", d.ID, d.TraceID)
				}
			}
		})
	}
	for _, bad := range []string{"limit=0", "limit=1001", "limit=x", "status=lost", "since=yesterday", "until=-1h"} {
		t.Run("bad "+bad, func(t *testing.T) {
			code, raw := call(t, http.MethodGet, f.url+"/api/deliveries?"+bad, fxToken, "")
			if code != http.StatusBadRequest || !strings.Contains(string(raw), `"error"`) {
				t.Errorf("%d %s, want 400 with an error", code, raw)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// newestFirst: ids are ULIDs, so they sort by creation time.
func newestFirst(ids []string) bool {
	return slices.IsSortedFunc(ids, func(a, b string) int { return strings.Compare(b, a) })
}

// TestPaginationWhileWriting pages through the deliveries with a small
// limit while new ones are written: every delivery that existed before the
// first page is listed exactly once, newest first.
func TestPaginationWhileWriting(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken})
	start := time.Now().Add(-time.Hour)
	var before []string
	for i := range 30 {
		_, d := f.seed(t, start.Add(time.Duration(i)*time.Second), "order.created", "billing")
		before = append(before, d[0])
	}

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var written atomic.Int64
	wg.Go(func() {
		for ctx.Err() == nil {
			now := time.Now()
			ev := &store.Event{ID: ids.New(ids.Event, now), Source: "shop", ReceivedAt: now, Body: []byte(`{}`)}
			d := &store.Delivery{ID: ids.New(ids.Delivery, now), Route: "ledger", Destination: "billing", Body: []byte(`{}`)}
			if _, err := f.st.Accept(ctx, ev, []*store.Delivery{d}, nil); err != nil && ctx.Err() == nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	})

	seen := map[string]bool{}
	var order []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatal("more than 100 pages")
		}
		var got api.Deliveries
		getJSON(t, f.url+"/api/deliveries?limit=7&destination=billing&cursor="+url.QueryEscape(cursor), &got)
		for _, id := range listedIDs(got) {
			if seen[id] {
				t.Errorf("page %d lists %s again", page, id)
			}
			seen[id] = true
			order = append(order, id)
		}
		if got.NextCursor == "" {
			break
		}
		cursor = got.NextCursor
		// The writer gets in between pages: a delivery newer than the
		// cursor's.
		w := written.Load()
		testutil.Eventually(t, 0, "a delivery written between pages", testutil.Holds(func() bool { return written.Load() > w }))
	}
	stop()
	wg.Wait()
	for _, id := range before {
		if !seen[id] {
			t.Errorf("%s, stored before the first page, is missing", id)
		}
	}
	if !newestFirst(order) {
		t.Errorf("pages are not newest first: %v", order)
	}
	if written.Load() == 0 {
		t.Error("the writer wrote nothing while paging")
	}
	t.Logf("%d listed, %d written meanwhile", len(order), written.Load())
}

func TestEventShow(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken})
	at := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	ev, ds := f.seed(t, at, "order.created", "orders", "billing")
	f.finish(t, ds[1], at.Add(time.Second), 410, store.Dead)

	var got api.Event
	getJSON(t, f.url+"/api/events/"+ev, &got)
	if got.ID != ev || got.Source != "shop" || got.EventType != "order.created" || !got.ReceivedAt.Equal(at) {
		t.Errorf("event = %+v", got)
	}
	if got.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace_id = %q", got.TraceID)
	}
	if got.Headers["x-note"] == "" || !json.Valid(got.Body) || !strings.Contains(string(got.Body), `"type":"order.created"`) {
		t.Errorf("headers %v, body %s", got.Headers, got.Body)
	}
	if len(got.Deliveries) != 2 || got.Deliveries[0].ID != ds[0] || got.Deliveries[0].Status != "pending" ||
		got.Deliveries[1].Status != "dead" || got.Deliveries[1].Attempts != 1 || got.Deliveries[1].Destination != "billing" {
		t.Errorf("deliveries = %+v", got.Deliveries)
	}
	if code, _ := call(t, http.MethodGet, f.url+"/api/events/evt_nope", fxToken, ""); code != http.StatusNotFound {
		t.Errorf("unknown event: %d, want 404", code)
	}
}

func TestStatsWindows(t *testing.T) {
	base, now := newStatsServer(t)
	type win struct {
		Attempts    int     `json:"attempts"`
		Retries     int     `json:"retry_attempts"`
		SuccessRate float64 `json:"success_rate"`
		MeanMS      float64 `json:"mean_ms"`
		P99MS       float64 `json:"p99_ms"`
	}
	type answer struct {
		Since   time.Time `json:"since"`
		Windows struct {
			LastHour time.Time `json:"last_hour"`
			LastDay  time.Time `json:"last_24h"`
		} `json:"windows"`
		Destinations []struct {
			Destination string  `json:"destination"`
			Attempts    int     `json:"attempts"`
			MeanMS      float64 `json:"mean_ms"`
			LastHour    win     `json:"last_hour"`
			LastDay     win     `json:"last_24h"`
		} `json:"destinations"`
	}
	for _, since := range []string{"", "1h", "10m"} {
		t.Run("since="+since, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, base+"/api/stats?since="+since, nil)
			req.Header.Set("Authorization", "Bearer "+statsToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got answer
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
				t.Fatalf("%d %v", resp.StatusCode, err)
			}
			if !got.Windows.LastHour.Equal(now.Add(-time.Hour)) || !got.Windows.LastDay.Equal(now.Add(-24*time.Hour)) {
				t.Errorf("windows = %+v", got.Windows)
			}
			o := got.Destinations[2]
			// orders: a 500 of 40ms 2h ago, a 200 of 20ms 10m ago.
			if o.Destination != "orders" || o.LastHour != (win{1, 1, 1, 20, 20}) || o.LastDay != (win{2, 1, 0.5, 30, 40}) {
				t.Errorf("orders = %+v", o)
			}
			// The top-level figures follow ?since.
			wantTop := map[string]int{"": 2, "1h": 1, "10m": 1}[since]
			if o.Attempts != wantTop {
				t.Errorf("since %q: attempts %d, want %d", since, o.Attempts, wantTop)
			}
			if i := got.Destinations[1]; i.Destination != "idle" || i.LastDay != (win{}) || i.LastHour != (win{}) {
				t.Errorf("idle = %+v", i)
			}
		})
	}
}

func TestDestinationTest(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken, engine: true})
	post := func(t *testing.T, path, body string) (int, api.Delivery) {
		t.Helper()
		code, raw := call(t, http.MethodPost, f.url+path, fxToken, body)
		var a api.Delivery
		if code/100 == 2 {
			if err := json.Unmarshal(raw, &a); err != nil {
				t.Fatalf("%s: %v: %s", path, err, raw)
			}
		}
		return code, a
	}

	t.Run("sample from the schema", func(t *testing.T) {
		code, a := post(t, "/api/destinations/orders/test", "")
		if code != http.StatusOK || a.Status != "delivered" || a.Attempts != 1 || len(a.AttemptLog) != 1 ||
			a.AttemptLog[0].StatusCode != 200 || a.Route != "@test" || len(a.TraceID) != 32 {
			t.Fatalf("%d %+v", code, a)
		}
		hits := f.orders.got()
		if len(hits) != 1 {
			t.Fatalf("receiver got %d requests", len(hits))
		}
		h := hits[0]
		// The route's filter wants status == 'refunded' (the enum's second
		// value) and its transform reshapes the sample.
		want := `{"cents":150,"customer":"sample-id","order":"order.created","state":"refunded"}`
		if string(h.body) != want || string(a.Body) != want {
			t.Errorf("body sent %s, answered %s, want %s", h.body, a.Body, want)
		}
		verifyStandardWebhooks(t, h.header, h.body)
		if h.header.Get("X-Api-Key") != fxHeaderSecret || !strings.Contains(h.header.Get("Traceparent"), a.TraceID) {
			t.Errorf("headers %v", h.header)
		}

		var ev struct {
			Source    string            `json:"source"`
			EventType string            `json:"event_type"`
			Headers   map[string]string `json:"headers"`
			Body      map[string]any    `json:"body"`
		}
		getJSON(t, f.url+"/api/events/"+a.EventID, &ev)
		if ev.Source != "shop" || ev.EventType != "order.created" || ev.Headers["x-hookgate-test"] != "1" ||
			ev.Headers["x-hookgate-test-route"] != "refunds" {
			t.Errorf("event %+v", ev)
		}
		cust, _ := ev.Body["customer"].(map[string]any)
		items, _ := ev.Body["items"].([]any)
		if cust["vip"] != true || len(items) != 1 || ev.Body["amount"] != 1.5 {
			t.Errorf("sample %v", ev.Body)
		}
		if _, err := time.Parse(time.RFC3339, ev.Body["at"].(string)); err != nil {
			t.Errorf("timestamp field: %v", err)
		}
		var list api.Deliveries
		getJSON(t, f.url+"/api/deliveries?route=@test", &list)
		if len(list.Deliveries) != 1 || list.Deliveries[0].ID != a.ID {
			t.Errorf("route=@test lists %v", listedIDs(list))
		}
	})
	t.Run("given body", func(t *testing.T) {
		code, a := post(t, "/api/destinations/billing/test", `{"hello": "world"}`)
		if code != http.StatusOK || a.Status != "delivered" {
			t.Fatalf("%d %+v", code, a)
		}
		if hits := f.bill.got(); len(hits) != 1 || string(hits[0].body) != `{"hello": "world"}` {
			t.Errorf("receiver got %v", hits)
		}
	})
	t.Run("receiver fails", func(t *testing.T) {
		f.orders.status.Store(http.StatusInternalServerError)
		defer f.orders.status.Store(http.StatusOK)
		code, a := post(t, "/api/destinations/orders/test", "")
		if code != http.StatusOK || a.Status != "retrying" || len(a.AttemptLog) != 1 || a.AttemptLog[0].StatusCode != 500 ||
			a.AttemptLog[0].Response != "receiver answered 500" {
			t.Errorf("%d %+v", code, a)
		}
	})
	for _, tt := range []struct {
		name, path, body string
		want             int
	}{
		{"unknown destination", "/api/destinations/nope/test", "", http.StatusNotFound},
		{"body not JSON", "/api/destinations/orders/test", "{not json", http.StatusBadRequest},
		{"route not to it", "/api/destinations/orders/test?route=ledger", "", http.StatusBadRequest},
		{"GET", "/api/destinations/orders/test", "", http.StatusMethodNotAllowed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodPost
			if tt.name == "GET" {
				method = http.MethodGet
			}
			if code, raw := call(t, method, f.url+tt.path, fxToken, tt.body); code != tt.want {
				t.Errorf("%d %s, want %d", code, raw, tt.want)
			}
		})
	}
}

// TestDestinationTestWithoutEngine: with nothing to deliver it, the test
// delivery is stored and the answer is 202 with its id, at once.
func TestDestinationTestWithoutEngine(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken})
	code, raw := call(t, http.MethodPost, f.url+"/api/destinations/billing/test", fxToken, "")
	var a api.Delivery
	json.Unmarshal(raw, &a)
	if code != http.StatusAccepted || a.Status != "pending" || !strings.HasPrefix(a.ID, "dlv_") {
		t.Errorf("%d %s", code, raw)
	}
}

func TestAuthEveryEndpoint(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken})
	endpoints := []string{
		"GET /api/deliveries", "GET /api/deliveries/dlv_x", "POST /api/deliveries/dlv_x/retry",
		"GET /api/events/evt_x", "GET /api/events", "GET /api/events/export", "POST /api/dlq/replay", "GET /api/dlq/export", "GET /api/stats",
		"POST /api/reload", "POST /api/destinations/orders/test",
		"GET /api/destinations", "POST /api/destinations/orders/pause", "POST /api/destinations/orders/resume",
	}
	for _, ep := range endpoints {
		method, path, _ := strings.Cut(ep, " ")
		for _, tok := range []string{"", "wrong", fxToken + "x", strings.ToUpper(fxToken)} {
			code, raw := call(t, method, f.url+path, tok, "")
			if code != http.StatusUnauthorized || !strings.Contains(string(raw), `"error"`) {
				t.Errorf("%s with token %q: %d %s, want 401", ep, tok, code, raw)
			}
		}
	}
	if len(f.orders.got()) != 0 {
		t.Error("a refused test request reached the receiver")
	}
}

// TestNoTokenLoopbackHostOnly: without an admin token, a request whose Host
// is not loopback (DNS rebinding) is refused.
func TestNoTokenLoopbackHostOnly(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	for _, path := range []string{"/api/deliveries", "/", "/dlq"} {
		req, _ := http.NewRequest(http.MethodGet, f.url+path, nil)
		req.Host = "attacker.example:8081"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s with a foreign Host: %d, want 403", path, resp.StatusCode)
		}
		req.Host = "localhost"
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s with Host localhost: %d, want 200", path, resp.StatusCode)
		}
	}
}
