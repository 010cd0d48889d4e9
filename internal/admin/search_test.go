package admin_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// TestEventSearch: GET /api/events filters by the expression language
// ($event, $headers, payload fields), source and time, pages with a
// cursor, and answers a bad expression with 400 and its column.
func TestEventSearch(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken})
	base := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	e1, _ := f.seed(t, base, "order.created", "orders")
	e2, _ := f.seed(t, base.Add(time.Hour), "order.refunded")
	e3, _ := f.seed(t, base.Add(2*time.Hour), "order.created", "billing")

	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{e3, e2, e1}},
		{"filter=" + url.QueryEscape("$event == 'order.created'"), []string{e3, e1}},
		{"filter=" + url.QueryEscape("$headers['x-note'] contains 'script'"), []string{e3, e2, e1}},
		{"filter=" + url.QueryEscape("$body.type == 'order.created' && $source == 'shop' && note contains 'alert'"), []string{e3, e2, e1}},
		{"filter=" + url.QueryEscape("$event == 'order.refunded'") + "&source=shop", []string{e2}},
		{"filter=" + url.QueryEscape("missing.deep == 1"), nil}, // a run-time error matches nothing
		{"source=elsewhere", nil},
		{"since=150m", []string{e3, e2}},
		{"until=150m", []string{e1}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var got api.Events
			getJSON(t, f.url+"/api/events?"+tt.query, &got)
			var ids []string
			for _, ev := range got.Events {
				ids = append(ids, ev.ID)
				if len(ev.Body) == 0 || ev.Headers["content-type"] != "application/json" {
					t.Errorf("event %s without its body or headers: %+v", ev.ID, ev)
				}
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("got %v, want %v", ids, tt.want)
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		var ids []string
		cursor := ""
		for range 10 {
			var got api.Events
			getJSON(t, f.url+"/api/events?limit=1&filter="+url.QueryEscape("$event == 'order.created'")+"&cursor="+url.QueryEscape(cursor), &got)
			for _, ev := range got.Events {
				ids = append(ids, ev.ID)
			}
			if cursor = got.NextCursor; cursor == "" {
				break
			}
		}
		if !slices.Equal(ids, []string{e3, e1}) {
			t.Errorf("paged: %v", ids)
		}
	})

	t.Run("export", func(t *testing.T) {
		code, raw := call(t, http.MethodGet, f.url+"/api/events/export?filter="+url.QueryEscape("$event != 'order.refunded'"), fxToken, "")
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, raw)
		}
		var ids []string
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for sc.Scan() {
			var ev api.ReceivedEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			if ev.Source != "shop" || !json.Valid(ev.Body) {
				t.Errorf("exported %+v", ev)
			}
			ids = append(ids, ev.ID)
		}
		if !slices.Equal(ids, []string{e3, e1}) {
			t.Errorf("exported %v", ids)
		}
	})

	for _, bad := range []struct {
		query  string
		column int
	}{
		{"filter=" + url.QueryEscape("type == "), 8},
		{"filter=" + url.QueryEscape("note === 'x'"), 8},
		{"filter=" + url.QueryEscape("len(note"), 8},
		{"limit=0", 0},
		{"since=yesterday", 0},
		{"since=1h&until=2h", 0},
	} {
		t.Run("bad "+bad.query, func(t *testing.T) {
			for _, path := range []string{"/api/events?", "/api/events/export?"} {
				code, raw := call(t, http.MethodGet, f.url+path+bad.query, fxToken, "")
				var e api.FilterError
				if json.Unmarshal(raw, &e); code != http.StatusBadRequest || e.Error == "" || e.Column != bad.column {
					t.Errorf("%s: %d %s, want 400 with an error at column %d", path, code, raw, bad.column)
				}
			}
		})
	}
}

func TestEventFilterUnknownVariable(t *testing.T) {
	_, err := admin.CompileEventFilter("$event == 'x' && $stauts == 1")
	var fe *admin.FilterError
	if !errors.As(err, &fe) || fe.Line != 1 || fe.Column != 18 || !strings.Contains(fe.Msg, `"$stauts"`) {
		t.Errorf("got %v", err)
	}
	if _, err := admin.CompileEventFilter("$headers['x'] == 'y' && $body.a > 1 && $source != '' && $event != ''"); err != nil {
		t.Errorf("known variables: %v", err)
	}
}

// TestEventSearchLeavesOutTestSends: a test send (POST
// /api/destinations/{name}/test) is not listed, unless include=all; a
// sender's event carrying the test header is.
func TestEventSearchLeavesOutTestSends(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken})
	if code, raw := call(t, http.MethodPost, f.url+"/api/destinations/billing/test", fxToken, ""); code/100 != 2 {
		t.Fatalf("test send: %d %s", code, raw)
	}
	at := time.Now().UTC().Add(-time.Minute)
	ev := &store.Event{ID: ids.New(ids.Event, at), Source: "shop", EventType: "order.created", ReceivedAt: at,
		Headers: map[string]string{"x-hookgate-test": "1"}, Body: []byte(`{"type":"order.created"}`)}
	d := &store.Delivery{ID: ids.New(ids.Delivery, at), Route: "ledger", Destination: "billing", Body: ev.Body}
	if _, err := f.st.Accept(context.Background(), ev, []*store.Delivery{d}, nil); err != nil {
		t.Fatal(err)
	}
	forged := ev.ID
	var got api.Events
	getJSON(t, f.url+"/api/events", &got)
	var all api.Events
	getJSON(t, f.url+"/api/events?include=all", &all)
	if len(all.Events) != 2 {
		t.Fatalf("include=all lists %d events, want 2", len(all.Events))
	}
	if len(got.Events) != 1 || got.Events[0].ID != forged {
		t.Errorf("the search lists %+v, want only %s", got.Events, forged)
	}
}
