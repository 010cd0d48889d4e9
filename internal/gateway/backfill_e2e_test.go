package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	adminapi "github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/store/redis/redistest"
	"github.com/hookgate/hookgate/internal/testutil"
)

// backfillConfig is the config of TestBackfill: route big sends orders over
// a threshold to crm (the misconfiguration is the threshold), route all
// sends every order to archive.
func backfillConfig(ingest, admin, storage, recv string, threshold, version int) string {
	return fmt.Sprintf(`
gateway {
  listen       = %q
  admin_listen = %q
  admin_token  = %q
}
%s
source "shop" {
  path = "/in/shop"
  verify "hmac" { secret = "e2e-secret" }
}
destination "crm" {
  url           = "%s/crm"
  allow_private = true
  rate_limit    = "20/s"
}
destination "archive" {
  url           = "%s/archive"
  allow_private = true
}
route "big" {
  source       = "shop"
  filter       = "total > %d"
  transform    = "{order: id, total: total, v: %d}"
  destinations = ["crm"]
}
route "all" {
  source       = "shop"
  destinations = ["archive"]
}
`, ingest, admin, adminToken, storage, recv, recv, threshold, version)
}

// TestBackfill: on both stores, events routed under a wrong filter are
// found with a search and replayed through the fixed config with the built
// `hookgate events replay`: the dry run counts without storing; the replay's
// deliveries arrive with the new bodies, each naming what it replays; the
// originals (events and deliveries) are left as they were, and the search
// does not list the copies.
func TestBackfill(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	for _, kind := range []string{"embedded", "redis"} {
		t.Run(kind, func(t *testing.T) {
			storage := `storage "embedded" { path = "data/h.db" }`
			if kind == "redis" {
				storage = fmt.Sprintf(`storage "redis" { url = %q }`, redistest.Start(t).URL())
			}
			testBackfill(t, storage)
		})
	}
}

type got struct {
	path, id string
	body     map[string]any
}

func testBackfill(t *testing.T, storage string) {
	var mu sync.Mutex
	var received []got
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var b map[string]any
		json.Unmarshal(raw, &b)
		mu.Lock()
		received = append(received, got{r.URL.Path, r.Header.Get("Webhook-Id"), b})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	count := func(path string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, g := range received {
			if g.path == path {
				n++
			}
		}
		return n
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		testutil.Eventually(t, 0, what, testutil.Holds(ok))
	}

	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	path := filepath.Join(dir, "config.hcl")
	os.WriteFile(path, []byte(backfillConfig(ingest, admin, storage, recv.URL, 100, 1)), 0o644)
	proc := start(t, path, ingest, admin)
	defer func() {
		proc.cmd.Process.Signal(syscall.SIGTERM)
		proc.cmd.Wait()
	}()
	base := "http://" + admin

	for i, total := range []int{50, 150, 300} {
		body := fmt.Appendf(nil, `{"id":"ord_%d","total":%d}`, i, total)
		req, _ := http.NewRequest("POST", "http://"+ingest+"/in/shop", bytes.NewReader(body))
		req.Header.Set("X-Signature", sign(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 202 {
			t.Fatalf("ingest: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	waitFor("the original deliveries", func() bool { return count("/crm") == 2 && count("/archive") == 3 })

	var before adminapi.Deliveries
	api(t, "GET", base+"/api/deliveries?limit=100", adminToken, &before)
	if len(before.Deliveries) != 5 {
		t.Fatalf("%d deliveries before, want 5", len(before.Deliveries))
	}
	var evsBefore adminapi.Events
	api(t, "GET", base+"/api/events", adminToken, &evsBefore)
	if len(evsBefore.Events) != 3 {
		t.Fatalf("search lists %d events, want 3", len(evsBefore.Events))
	}

	// The fix: a lower threshold and a new body. Reloaded, then the
	// orders routed wrongly are replayed through it.
	os.WriteFile(path, []byte(backfillConfig(ingest, admin, storage, recv.URL, 10, 2)), 0o644)
	var rl adminapi.Reload
	if code := api(t, "POST", base+"/api/reload", adminToken, &rl); code != 200 || !rl.Reloaded {
		t.Fatalf("reload: %d %+v", code, rl)
	}
	hookgate := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, append(args, "-admin", base)...)
		cmd.Env = append(os.Environ(), "HOOKGATE_ADMIN_TOKEN="+adminToken)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("hookgate %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	dry := hookgate("events", "replay", "-since", "1h", "-filter", "total > 10 && $source == 'shop'", "-route", "big", "-dry-run")
	if !strings.HasPrefix(dry, "dry run: would replay 3 of 3 matching events as 3 deliveries (0 skipped)\n  crm  3\n") ||
		!strings.Contains(dry, `"v":2`) {
		t.Errorf("dry run:\n%s", dry)
	}
	var afterDry adminapi.Deliveries
	api(t, "GET", base+"/api/deliveries?limit=100", adminToken, &afterDry)
	if len(afterDry.Deliveries) != 5 {
		t.Errorf("the dry run stored deliveries: %d, want 5", len(afterDry.Deliveries))
	}

	out := hookgate("events", "replay", "-since", "1h", "-filter", "total > 10", "-route", "big")
	if !strings.HasPrefix(out, "replayed 3 of 3 matching events as 3 deliveries (0 skipped)\n  crm  3\n") {
		t.Errorf("replay:\n%s", out)
	}
	waitFor("the replayed deliveries", func() bool { return count("/crm") == 5 })

	mu.Lock()
	var totals []float64
	for _, g := range received[len(received)-5:] {
		if g.path == "/crm" && g.body["v"] == 2.0 {
			totals = append(totals, g.body["total"].(float64))
		}
	}
	mu.Unlock()
	slices.Sort(totals)
	if !slices.Equal(totals, []float64{50, 150, 300}) {
		t.Errorf("replayed crm bodies carry totals %v, want 50, 150, 300 with v 2", totals)
	}
	if n := count("/archive"); n != 3 {
		t.Errorf("archive got %d deliveries, want its 3 (the replay was of route big only)", n)
	}

	// The new deliveries name what they replay; the originals are as
	// they were.
	var after adminapi.Deliveries
	api(t, "GET", base+"/api/deliveries?limit=100", adminToken, &after)
	if len(after.Deliveries) != 8 {
		t.Fatalf("%d deliveries after, want 8", len(after.Deliveries))
	}
	orig := map[string]bool{}
	origEvents := map[string]bool{}
	for _, d := range before.Deliveries {
		orig[d.ID] = true
		origEvents[d.EventID] = true
	}
	replays := 0
	for _, d := range after.Deliveries {
		if orig[d.ID] {
			if d.ReplayOf != "" || d.Attempts != 1 || d.Status != "delivered" {
				t.Errorf("original %s changed: %+v", d.ID, d)
			}
			continue
		}
		replays++
		if d.Route != "big" || origEvents[d.EventID] || (!orig[d.ReplayOf] && !origEvents[d.ReplayOf]) {
			t.Errorf("replay %s: %+v", d.ID, d)
		}
	}
	if replays != 3 {
		t.Errorf("%d replay deliveries, want 3", replays)
	}
	var evsAfter adminapi.Events
	api(t, "GET", base+"/api/events", adminToken, &evsAfter)
	if len(evsAfter.Events) != 3 {
		t.Errorf("search lists %d events after the replay, want the 3 received", len(evsAfter.Events))
	}
	for i, ev := range evsAfter.Events {
		b := evsBefore.Events[i]
		if ev.ID != b.ID || !bytes.Equal(ev.Body, b.Body) || !slices.Equal(ev.Deliveries, b.Deliveries) {
			t.Errorf("event %s changed: %+v, was %+v", b.ID, ev, b)
		}
	}
	var all adminapi.Events
	api(t, "GET", base+"/api/events?include=all", adminToken, &all)
	if len(all.Events) != 6 {
		t.Errorf("include=all lists %d events, want 3 and their 3 copies", len(all.Events))
	}
}
