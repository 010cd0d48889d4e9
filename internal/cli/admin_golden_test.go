package cli

import (
	"context"
	"encoding/binary"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/store"
)

// goldenNow is the admin server's clock in the golden tests.
var goldenNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixedID is a stable id: a ULID of t whose entropy is n.
func fixedID(prefix string, t time.Time, n uint64) string {
	var e [10]byte
	binary.BigEndian.PutUint64(e[2:], n)
	return prefix + "_" + ulid.MustNew(ulid.Timestamp(t), strings.NewReader(string(e[:]))).String()
}

// goldenIDs are the fixture's records.
type goldenIDs struct {
	event, delivered, dead, pending string
}

// newGoldenAdmin serves the admin API over a real embedded store holding
// fixed records, with a fixed clock:
//
//	evt 1 (3h ago) → orders: 500 then 200, delivered
//	               → billing: 503, then 410: dead
//	evt 2 (20m ago) → orders: pending
func newGoldenAdmin(t *testing.T) (string, goldenIDs) {
	t.Helper()
	now := func() time.Time { return goldenNow }
	cfg, st := newAdminStore(t, now)

	ctx := context.Background()
	t1, t2 := goldenNow.Add(-3*time.Hour), goldenNow.Add(-20*time.Minute)
	ids := goldenIDs{
		event: fixedID("evt", t1, 1), delivered: fixedID("dlv", t1, 2), dead: fixedID("dlv", t1, 3), pending: fixedID("dlv", t2, 5),
	}
	ev1 := &store.Event{
		ID: ids.event, Source: "partner", EventType: "order.created", ReceivedAt: t1,
		Headers:     map[string]string{"content-type": "application/json", "user-agent": "partner/1.0", "webhook-id": "msg_1"},
		Body:        []byte(`{"id":"ord_1","total":42,"type":"order.created"}`),
		TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		ConfigHash:  "5e1f0c2a",
	}
	body := []byte(`{"id":"ord_1","total":42,"type":"order.created"}`)
	d1 := &store.Delivery{ID: ids.delivered, Route: "all", Destination: "orders", Body: body}
	d2 := &store.Delivery{ID: ids.dead, Route: "all", Destination: "billing", Body: body}
	if _, err := st.Accept(ctx, ev1, []*store.Delivery{d1, d2}, nil); err != nil {
		t.Fatal(err)
	}
	ev2 := &store.Event{ID: fixedID("evt", t2, 4), Source: "partner", EventType: "order.paid", ReceivedAt: t2,
		Body: []byte(`{"id":"ord_2","type":"order.paid"}`)}
	if _, err := st.Accept(ctx, ev2, []*store.Delivery{{ID: ids.pending, Route: "all", Destination: "orders", Body: ev2.Body}}, nil); err != nil {
		t.Fatal(err)
	}
	attempt := func(id string, at time.Time, code int, lat time.Duration, status store.Status, msg string) {
		t.Helper()
		o := store.Outcome{Attempt: store.Attempt{At: at, StatusCode: code, Latency: lat, Error: msg,
			Response: "receiver answered " + strconv.Itoa(code)}, Status: status}
		switch status {
		case store.Retrying:
			o.NextAttemptAt = at.Add(time.Minute)
		case store.Dead:
			o.DeadReason = "HTTP 410 Gone: the receiver asked to stop"
		}
		if err := st.Complete(ctx, id, o); err != nil {
			t.Fatal(err)
		}
	}
	attempt(ids.delivered, t1.Add(time.Minute), 500, 40*time.Millisecond, store.Retrying, "HTTP 500 Internal Server Error")
	attempt(ids.delivered, t1.Add(time.Hour), 200, 20*time.Millisecond, store.Delivered, "")
	attempt(ids.dead, t1.Add(time.Minute), 503, 10*time.Millisecond, store.Retrying, "HTTP 503 Service Unavailable")
	attempt(ids.dead, goldenNow.Add(-30*time.Minute), 410, 30*time.Millisecond, store.Dead, "HTTP 410 Gone")

	srv := httptest.NewServer((&admin.Server{Current: func() *config.Config { return cfg }, Store: st, Now: now}).Handler())
	t.Cleanup(srv.Close)
	return srv.URL, ids
}

// TestAdminGolden runs the admin commands against a real admin server
// and compares their output with testdata/admin/*.golden (-update rewrites
// them). Times are shown in $TZ, UTC here.
func TestAdminGolden(t *testing.T) {
	base, ids := newGoldenAdmin(t)
	if *update {
		if err := os.MkdirAll(filepath.Join("testdata", "admin"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	vars := map[string]string{"TZ": "UTC", "HOOKGATE_CONFIG": filepath.Join(t.TempDir(), "none.hcl")}
	auth := []string{"-admin", base, "-token", testAdminToken}
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"deliveries", []string{"deliveries"}, 0},
		{"deliveries_dead", []string{"deliveries", "-status", "dead"}, 0},
		{"deliveries_page", []string{"deliveries", "-destination", "orders", "-limit", "1"}, 0},
		{"deliveries_filters", []string{"deliveries", "-source", "partner", "-event-type", "order.created", "-since", "2026-03-01T08:00:00Z", "-until", "2026-03-01T10:00:00Z"}, 0},
		{"deliveries_bad_since", []string{"deliveries", "-since", "yesterday"}, 1},
		{"deliveries_show", []string{"deliveries", "show", ids.dead}, 0},
		{"events_show", []string{"events", "show", ids.event}, 0},
		{"events_show_json", []string{"events", "show", ids.event, "-json"}, 0},
		{"events_show_missing", []string{"events", "show", "evt_missing"}, 1},
		{"events_usage", []string{"events", "frob"}, 2},
		{"events_list", []string{"events"}, 0},
		{"events_filter", []string{"events", "-filter", "total > 40 && $event == 'order.created'"}, 0},
		{"events_filter_headers", []string{"events", "-filter", "$headers['user-agent'] == 'partner/1.0'", "-source", "partner"}, 0},
		{"events_filter_none", []string{"events", "-filter", "$source == 'other'"}, 0},
		{"events_bad_filter", []string{"events", "-filter", "total > "}, 2},
		{"events_page", []string{"events", "-limit", "1"}, 0},
		{"events_export", []string{"events", "export", "-source", "partner"}, 0},
		{"events_export_filter", []string{"events", "export", "-filter", "id == 'ord_2'"}, 0},
		{"dlq_list", []string{"dlq", "list"}, 0},
		{"stats", []string{"stats"}, 0},
		{"stats_since", []string{"stats", "-since", "1h"}, 0},
		{"dlq_replay_filter_none", []string{"dlq", "replay", "-filter", "$status == 500"}, 0},
		{"dlq_replay_bad_filter", []string{"dlq", "replay", "-filter", "$stauts == 410"}, 2},
		// Last: it changes the records.
		{"dlq_replay", []string{"dlq", "replay", "-destination", "billing"}, 0},
		{"dlq_list_after_replay", []string{"dlq", "list"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.name != "events_usage" {
				args = append(append([]string{}, args...), auth...)
			}
			code, out, errOut := runAdmin(t, vars, args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			got := out
			if errOut != "" {
				got += "--- stderr\n" + strings.ReplaceAll(errOut, base, "ADMIN_URL")
			}
			golden(t, filepath.Join("admin", tt.name), got)
		})
	}
}
