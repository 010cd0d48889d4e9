package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	adminapi "github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"
	"github.com/hookgate/hookgate/internal/store/redis/redistest"
)

// backupConfig is the e2e config with an admin token, its store at
// storePath, and its one destination at receiverURL.
func backupConfig(t *testing.T, dir, ingest, admin, receiverURL, storePath string) string {
	t.Helper()
	cfg := fmt.Sprintf(`
gateway {
  listen           = %q
  admin_listen     = %q
  admin_token      = %q
  workers          = 16
  shutdown_timeout = "5s"
}
storage "embedded" { path = %q }
source "partner" {
  path = "/in/partner"
  verify "hmac" {
    header = "X-Signature"
    secret = "e2e-secret"
  }
}
destination "sink" {
  url           = %q
  allow_private = true
  timeout       = "2s"
  retry {
    schedule = ["1s", "1s", "2s", "5s"]
  }
}
route "all" {
  source       = "partner"
  destinations = ["sink"]
}
`, ingest, admin, adminToken, storePath, receiverURL)
	path := filepath.Join(dir, "config.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// idReceiver records the Webhook-Id of every request and answers 503 to
// those whose identifier refuse picks, 200 to the others.
type idReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	seen   map[string]int // webhook-id → requests
	refuse func(identifier string) bool
}

func newIDReceiver(t *testing.T, refuse func(string) bool) *idReceiver {
	rc := &idReceiver{seen: map[string]int{}, refuse: refuse}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Identifier string }
		raw, _ := io.ReadAll(r.Body)
		json.Unmarshal(raw, &body)
		rc.mu.Lock()
		rc.seen[r.Header.Get("Webhook-Id")]++
		rc.mu.Unlock()
		if rc.refuse != nil && rc.refuse(body.Identifier) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// missing returns the ids of want the receiver has not seen.
func (rc *idReceiver) missing(want []string) []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, id := range want {
		if rc.seen[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// TestBackupUnderLoadRestores: `hookgate backup` taken midway through a
// load of signed events, while the gateway delivers them (a quarter to a
// receiver that refuses them, so they are retrying), is a store another
// gateway starts on: every event accepted before the backup began is
// readable through its admin API, and every delivery the backup holds
// unfinished (pending, retrying, or in flight then: leases are not in
// the file) is delivered by it.
func TestBackupUnderLoadRestores(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	deadline := time.Now().Add(90 * time.Second)
	dir1, dir2 := t.TempDir(), t.TempDir()
	first := newIDReceiver(t, func(id string) bool { return strings.HasSuffix(id, "0") || strings.HasSuffix(id, "5") })
	ingest1, admin1 := freeAddr(t), freeAddr(t)
	proc1 := start(t, backupConfig(t, dir1, ingest1, admin1, first.srv.URL+"/hooks", filepath.Join(dir1, "data", "hookgate.db")), ingest1, admin1)
	defer proc1.stop(t)

	// Senders: a bounded number of events, each sent until answered 202.
	const total, senders = 600, 8
	var next, acceptedN atomic.Int64
	var mu sync.Mutex
	var accepted []string // event ids, in the order their 202 came
	client := &http.Client{Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				body := fmt.Appendf(nil, `{"type":"creator_insights","identifier":"b-%04d","connector":"tiktok"}`, i)
				for time.Now().Before(deadline) {
					req, _ := http.NewRequest("POST", "http://"+ingest1+"/in/partner", bytes.NewReader(body))
					req.Header.Set("X-Signature", sign(body))
					resp, err := client.Do(req)
					if err != nil {
						time.Sleep(20 * time.Millisecond) // a sender's pause before it tries again
						continue
					}
					var ans struct{ ID string }
					json.NewDecoder(resp.Body).Decode(&ans)
					resp.Body.Close()
					if resp.StatusCode == http.StatusAccepted {
						mu.Lock()
						accepted = append(accepted, ans.ID)
						mu.Unlock()
						acceptedN.Add(1)
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	defer wg.Wait()

	// Midway, the backup.
	waitUntil(t, 60*time.Second, "half the events accepted", func() bool { return acceptedN.Load() >= total/2 })
	mu.Lock()
	before := append([]string(nil), accepted...)
	mu.Unlock()
	restored := filepath.Join(dir2, "data", "hookgate.db")
	if err := os.MkdirAll(filepath.Dir(restored), 0o750); err != nil {
		t.Fatal(err)
	}
	code, out := hookgateCLI(t, admin1, "backup", "-o", restored)
	if code != 0 || !strings.Contains(out, "bytes) to "+restored) {
		t.Fatalf("hookgate backup: exit %d:\n%s\nlogs:\n%s", code, out, proc1.logs)
	}
	sentDuring := acceptedN.Load() - int64(len(before))
	wg.Wait()
	if n := acceptedN.Load(); n != total {
		t.Fatalf("only %d of %d events were accepted", n, total)
	}
	t.Logf("%s; %d events accepted before the backup began, %d more by the time it returned", strings.TrimSpace(out), len(before), sentDuring)

	// What the backup holds unfinished, read from a copy of it (Open
	// writes to the file it opens).
	peek := filepath.Join(t.TempDir(), "peek.db")
	raw, err := os.ReadFile(restored)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(peek, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(peek, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var unfinished []string
	held := 0
	q := store.Query{Limit: store.MaxLimit}
	for {
		page, err := st.Deliveries(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Deliveries {
			held++
			if !d.Status.Finished() {
				unfinished = append(unfinished, d.ID)
			}
		}
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			break
		}
	}
	st.Close()
	t.Logf("the backup holds %d deliveries, %d of them unfinished", held, len(unfinished))
	if held < len(before) || len(unfinished) == 0 {
		t.Fatalf("the backup holds %d deliveries (%d unfinished) for %d events accepted before it", held, len(unfinished), len(before))
	}

	// A second gateway on the restored file, its destination a receiver
	// that takes everything.
	second := newIDReceiver(t, nil)
	ingest2, admin2 := freeAddr(t), freeAddr(t)
	proc2 := start(t, backupConfig(t, dir2, ingest2, admin2, second.srv.URL+"/hooks", restored), ingest2, admin2)
	defer proc2.stop(t)
	for _, id := range before {
		var ev adminapi.Event
		if code := api(t, "GET", "http://"+admin2+"/api/events/"+id, adminToken, &ev); code != http.StatusOK || ev.ID != id || len(ev.Deliveries) != 1 {
			t.Fatalf("GET /api/events/%s on the restored gateway: %d %+v", id, code, ev)
		}
	}
	var missing []string
	for {
		if missing = second.missing(unfinished); len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the %d unfinished deliveries of the backup were not delivered by the restored gateway, e.g. %v\nlogs:\n%s",
				len(missing), len(unfinished), missing[:min(5, len(missing))], proc2.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var stats adminapi.Stats
	waitUntil(t, 30*time.Second, "the restored gateway's queue to empty", func() bool {
		code := api(t, "GET", "http://"+admin2+"/api/stats", adminToken, &stats)
		return code == http.StatusOK && len(stats.Destinations) == 1 && stats.Destinations[0].Pending+stats.Destinations[0].Retrying == 0
	})
	t.Logf("the restored gateway delivered all %d unfinished deliveries; its stats: %+v", len(unfinished), stats.Destinations[0])
}

// TestBackupOnRedis: a gateway on Redis has no backup to give: `hookgate
// backup` fails with the API's 501, which names Redis's own persistence,
// and leaves no file.
func TestBackupOnRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	srv := redistest.Start(t)
	dir, out := t.TempDir(), t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	proc := start(t, writeRedisConfig(t, dir, ingest, admin, "http://127.0.0.1:1/hooks", srv.URL()), ingest, admin)
	defer proc.stop(t)
	code, text := hookgateCLI(t, admin, "backup", "-o", filepath.Join(out, "hookgate.db"))
	if code != 1 || !strings.Contains(text, "501") || !strings.Contains(text, "BGSAVE") {
		t.Errorf("hookgate backup on Redis: exit %d:\n%s", code, text)
	}
	if es, _ := os.ReadDir(out); len(es) != 0 {
		t.Errorf("a refused backup left %v", es)
	}
}
