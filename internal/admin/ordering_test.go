package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// seedKeyed stores n events each with one delivery to billing, ordered by
// key with on_dead = "block", and returns the deliveries' ids in order.
func (f *fixture) seedKeyed(t *testing.T, at time.Time, key string, n int) []string {
	t.Helper()
	var out []string
	for i := range n {
		when := at.Add(time.Duration(i) * time.Millisecond)
		ev := &store.Event{ID: ids.New(ids.Event, when), Source: "shop", ReceivedAt: when, Body: []byte(`{"type":"order.created"}`)}
		d := &store.Delivery{ID: ids.New(ids.Delivery, when), Route: "ledger", Destination: "billing", Body: ev.Body,
			CreatedAt: when, Key: key, KeyBlocks: true}
		if _, err := f.st.Accept(context.Background(), ev, []*store.Delivery{d}, nil); err != nil {
			t.Fatal(err)
		}
		out = append(out, d.ID)
	}
	return out
}

// TestBlockedKeys: a blocked key through the API (its delivery's key, the
// blocked list, a discard that releases it, the refusals) and the
// dashboard's destination page and its Discard button.
func TestBlockedKeys(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken})
	at := time.Now().UTC().Add(-time.Minute)
	ids := f.seedKeyed(t, at, "creator-<7>", 3)
	if got, err := f.st.Claim(context.Background(), "billing", time.Now(), 10, time.Minute); err != nil || len(got) != 1 || got[0].ID != ids[0] {
		t.Fatalf("Claim = %v, %v; want only the head %s", got, err, ids[0])
	}
	f.finish(t, ids[0], at.Add(time.Second), 410, store.Dead)

	code, body := call(t, "GET", f.url+"/api/deliveries/"+ids[1], fxToken, "")
	var dv api.Delivery
	json.Unmarshal(body, &dv)
	if code != 200 || dv.Key != "creator-<7>" || dv.Status != "pending" {
		t.Errorf("waiting delivery: %d key %q status %q", code, dv.Key, dv.Status)
	}
	code, body = call(t, "GET", f.url+"/api/destinations/billing/blocked", fxToken, "")
	var bl api.Blocked
	json.Unmarshal(body, &bl)
	if code != 200 || bl.Destination != "billing" || len(bl.Blocked) != 1 || bl.Blocked[0].DeliveryID != ids[0] || bl.Blocked[0].Waiting != 2 {
		t.Fatalf("blocked: %d %s", code, body)
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/api/destinations/nope/blocked", 404},
		{"GET", "/api/destinations/billing/blocked?limit=0", 400},
		{"POST", "/api/deliveries/dlv_nope/discard", 404},
		{"GET", "/api/destinations/billing/blocked", 401}, // no token
	} {
		token := fxToken
		if c.want == 401 {
			token = ""
		}
		if code, body := call(t, c.method, f.url+c.path, token, ""); code != c.want {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, code, body, c.want)
		}
	}

	// The dashboard's destination page lists the key, escaped, with its
	// buttons; Discard releases it.
	b := newBrowser(t, f.url)
	csrf := login(t, b)
	code, _, page := b.do("GET", "/destinations/billing", nil)
	for _, want := range []string{"creator-&lt;7&gt;", ids[0], `class="discard"`, `class="retry"`} {
		if !strings.Contains(page, want) {
			t.Errorf("destination page (%d) misses %q", code, want)
		}
	}
	if code, _, _ := b.do("GET", "/destinations/nope", nil); code != http.StatusNotFound {
		t.Errorf("unknown destination page: %d, want 404", code)
	}
	code, loc, _ := b.do("POST", "/deliveries/"+ids[0]+"/discard", url.Values{"csrf": {csrf}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/destinations/billing") {
		t.Fatalf("discard: %d %q", code, loc)
	}
	_, _, page = b.do("GET", loc, nil)
	if strings.Contains(page, "creator-&lt;7&gt;") || !strings.Contains(page, "discarded") {
		t.Errorf("after discard the page shows:\n%s", page)
	}
	if got, _ := f.st.Claim(context.Background(), "billing", time.Now(), 10, time.Minute); len(got) != 1 || got[0].ID != ids[1] {
		t.Errorf("after discard Claim = %v, want the next of the key %s", got, ids[1])
	}
	// Leased: the API refuses with a reason.
	code, body = call(t, "POST", f.url+"/api/deliveries/"+ids[1]+"/discard", fxToken, "")
	if code != http.StatusConflict || !strings.Contains(string(body), "attempted") {
		t.Errorf("discard of a leased delivery: %d %s", code, body)
	}
}
