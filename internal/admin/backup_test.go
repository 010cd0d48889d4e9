package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"
)

// getBackup calls GET /api/backup with token (none when "") and extra
// request headers in pairs, and reads the whole answer through read.
func getBackup(t *testing.T, base, token string, read func(io.Reader) ([]byte, error), hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/backup", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := read(resp.Body)
	if err != nil {
		t.Fatalf("reading the backup after %d bytes: %v", len(raw), err)
	}
	return resp, raw
}

// restore writes a backup to a file, verifies it and opens it as a store.
func restore(t *testing.T, raw []byte) *embedded.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "restored.db")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := embedded.Verify(path); err != nil {
		t.Fatalf("the backup does not verify: %v", err)
	}
	st, err := embedded.Open(path, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestBackup: GET /api/backup needs the token like every /api/ route and
// answers the store's file, whole, with its length and a file name; the
// copy opens as a store holding what was stored.
func TestBackup(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken})
	now := time.Now()
	evID, dls := f.seed(t, now, "order.created", "billing", "orders")
	f.finish(t, dls[0], now, http.StatusGone, store.Dead)

	for _, tok := range []string{"", "wrong"} {
		resp, raw := getBackup(t, f.url, tok, io.ReadAll)
		if resp.StatusCode != http.StatusUnauthorized || !json.Valid(raw) {
			t.Errorf("GET /api/backup with token %q: %d %.200q, want 401 with a JSON error", tok, resp.StatusCode, raw)
		}
	}

	resp, raw := getBackup(t, f.url, fxToken, io.ReadAll)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/backup: %d %.300s", resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !regexp.MustCompile(`^attachment; filename="hookgate-\d{8}T\d{6}Z\.db"$`).MatchString(cd) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(raw)) || len(raw) == 0 {
		t.Errorf("Content-Length %q for %d bytes", cl, len(raw))
	}
	head, err := http.NewRequest(http.MethodHead, f.url+"/api/backup", nil)
	if err != nil {
		t.Fatal(err)
	}
	head.Header.Set("Authorization", "Bearer "+fxToken)
	if hr, err := http.DefaultClient.Do(head); err != nil || hr.StatusCode != http.StatusOK || hr.ContentLength != int64(len(raw)) {
		t.Errorf("HEAD /api/backup: %v, %v; want 200 with the length of the file", hr, err)
	} else {
		hr.Body.Close()
	}
	c := restore(t, raw)
	ev, err := c.Event(t.Context(), evID)
	if err != nil || len(ev.DeliveryIDs) != 2 {
		t.Fatalf("the event in the backup: %+v, %v", ev, err)
	}
	d, attempts, err := c.Delivery(t.Context(), dls[0])
	if err != nil || d.Status != store.Dead || len(attempts) != 1 {
		t.Errorf("the dead delivery in the backup: %+v %v, %v", d, attempts, err)
	}
	if d, _, err := c.Delivery(t.Context(), dls[1]); err != nil || d.Status != store.Pending {
		t.Errorf("the pending delivery in the backup: %+v, %v", d, err)
	}
}

// TestBackupCrossOrigin: the backup is a read, and a cross-site GET is
// served as every GET of the API is (a browser cannot read the answer
// without CORS; the token guards it); no other method is routed.
func TestBackupCrossOrigin(t *testing.T) {
	for _, token := range []string{"", fxToken} {
		t.Run(fmt.Sprintf("token %t", token != ""), func(t *testing.T) {
			f := newFixture(t, fixtureOpts{token: token})
			for _, hdr := range [][]string{
				{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"},
				{"Origin", "https://evil.example"},
				nil,
			} {
				resp, raw := getBackup(t, f.url, token, io.ReadAll, hdr...)
				if resp.StatusCode != http.StatusOK || len(raw) == 0 {
					t.Errorf("GET /api/backup with %q: %d, %d bytes; want 200 as GET /api/stats", hdr, resp.StatusCode, len(raw))
				}
			}
			for _, method := range []string{http.MethodPost, http.MethodDelete} {
				code, raw := callWith(t, method, f.url+"/api/backup", token, "", "Origin", "http://"+strings.TrimPrefix(f.url, "http://"))
				if code != http.StatusMethodNotAllowed {
					t.Errorf("%s /api/backup: %d %s, want 405", method, code, raw)
				}
			}
		})
	}
	// Without a token, only loopback.
	f := newFixture(t, fixtureOpts{})
	rec := f.serve(httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8081/api/backup", nil), "203.0.113.7:50000")
	if rec.Code != http.StatusForbidden {
		t.Errorf("GET /api/backup from another machine without a token: %d, want 403", rec.Code)
	}
}

// noBackup is a store without the ability to back itself up, as the Redis
// store is: embedding the interface hides the embedded store's Backup.
type noBackup struct{ admin.Store }

// TestBackupNotImplemented: a store that cannot copy itself (Redis) is
// answered 501 with where its backups come from.
func TestBackupNotImplemented(t *testing.T) {
	src := fmt.Sprintf(`
gateway {
  listen       = "127.0.0.1:0"
  admin_listen = "127.0.0.1:0"
  admin_token  = %q
}
storage "redis" { url = "redis://127.0.0.1:1/0" }
`, fxToken)
	cfg, diags := (&config.Loader{LookupEnv: func(string) (string, bool) { return "", false }}).LoadBytes([]byte(src), filepath.Join(t.TempDir(), "config.hcl"))
	if cfg == nil || diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	t.Cleanup(func() { cfg.Close() })
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewServer((&admin.Server{Current: func() *config.Config { return cfg }, Store: noBackup{st}}).Handler())
	t.Cleanup(srv.Close)

	if resp, _ := getBackup(t, srv.URL, "", io.ReadAll); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the token: %d, want 401 before anything else", resp.StatusCode)
	}
	resp, raw := getBackup(t, srv.URL, fxToken, io.ReadAll)
	var e struct{ Error string }
	if resp.StatusCode != http.StatusNotImplemented || json.Unmarshal(raw, &e) != nil {
		t.Fatalf("GET /api/backup on Redis: %d %s, want 501 with a JSON error", resp.StatusCode, raw)
	}
	for _, want := range []string{`storage "redis"`, "BGSAVE", "AOF"} {
		if !strings.Contains(e.Error, want) {
			t.Errorf("the 501's message %q does not say %q", e.Error, want)
		}
	}
}

// TestBackupOutlivesWriteTimeout: a backup that a slow client takes longer
// than the server's WriteTimeout to read arrives whole: each write moves
// the deadline on.
func TestBackupOutlivesWriteTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a few seconds: skipped with -short")
	}
	f := newFixture(t, fixtureOpts{token: fxToken, writeTimeout: time.Second})
	// About 12 MB of file (each body is stored twice), more than
	// loopback's socket buffers hold.
	body := []byte(`{"pad":"` + strings.Repeat("x", 64<<10) + `"}`)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 12 {
				now := time.Now()
				ev := &store.Event{ID: ids.New(ids.Event, now), Source: "shop", ReceivedAt: now, Body: body}
				d := &store.Delivery{ID: ids.New(ids.Delivery, now), Route: "ledger", Destination: "billing",
					Body: fmt.Appendf(nil, `{"g":%d,"i":%d,"pad":%q}`, g, i, body)}
				if _, err := f.st.Accept(context.Background(), ev, []*store.Delivery{d}, nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	start := time.Now()
	// A client that reads 256 kB every 50 ms: 2 seconds or more for the
	// file, with some writes blocked for a few hundred ms.
	slow := func(r io.Reader) ([]byte, error) {
		var out bytes.Buffer
		for {
			n, err := io.CopyN(&out, r, 256<<10)
			if err == io.EOF || (err == nil && n < 256<<10) {
				return out.Bytes(), nil
			}
			if err != nil {
				return out.Bytes(), err
			}
			time.Sleep(50 * time.Millisecond) // a slow reader, not synchronisation
		}
	}
	resp, raw := getBackup(t, f.url, fxToken, slow)
	if resp.StatusCode != http.StatusOK || strconv.Itoa(len(raw)) != resp.Header.Get("Content-Length") {
		t.Fatalf("slow backup: %d, %d bytes of %s", resp.StatusCode, len(raw), resp.Header.Get("Content-Length"))
	}
	t.Logf("%d bytes in %s against a 1s WriteTimeout", len(raw), time.Since(start).Round(time.Millisecond))
	c := restore(t, raw)
	if st, err := c.Stats(t.Context(), time.Time{}); err != nil || len(st) != 1 || st[0].Pending != 8*12 {
		t.Errorf("the backup's stats: %+v, %v; want %d pending", st, err, 8*12)
	}
}
