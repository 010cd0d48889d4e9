package gateway_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testutil"
)

// embeddedStorage is the storage block of the single-instance tests.
const embeddedStorage = `storage "embedded" { path = "data/hookgate.db" }`

// loadConfig is TestReloadUnderLoad's config: route "all" sends every
// event to a; with extra, route "extra" also sends it to b. Both
// destinations exist in both versions, so no reload removes one.
func loadConfig(storage, ingest, admin, aURL, bURL string, extra bool) string {
	route := ""
	if extra {
		route = `
route "extra" {
  source       = "partner"
  destinations = ["b"]
}
`
	}
	return fmt.Sprintf(`gateway {
  listen           = %q
  admin_listen     = %q
  admin_token      = %q
  workers          = 32
  shutdown_timeout = "5s"
}
%s
source "partner" {
  path = "/in/partner"
  verify "hmac" {
    header = "X-Signature"
    secret = "e2e-secret"
  }
}
destination "a" {
  url             = %q
  allow_private   = true
  timeout         = "2s"
  max_concurrency = 16
  retry {
    schedule = ["1s", "1s", "2s"]
  }
}
destination "b" {
  url             = %q
  allow_private   = true
  timeout         = "2s"
  max_concurrency = 16
  retry {
    schedule = ["1s", "1s", "2s"]
  }
}
route "all" {
  source       = "partner"
  destinations = ["a"]
}
%s`, ingest, admin, adminToken, storage, aURL, bURL, route)
}

// TestReloadUnderLoad: 2,000 events from 8 concurrent senders while 20
// reloads (half by SIGHUP, half by POST /api/reload) alternate a config
// with the route "extra" and one without. No request fails because of a
// reload, and every event answered 202 is delivered per the config it was
// accepted under: to a always, and to b exactly when its answer counted
// two deliveries.
func TestReloadUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	const (
		senders = 8
		events  = 2000
		reloads = 20
	)
	dir := t.TempDir()
	a, b := newSink(t), newSink(t)
	ingest, admin := freeAddr(t), freeAddr(t)
	path := filepath.Join(dir, "config.hcl")
	configs := [2]string{
		loadConfig(embeddedStorage, ingest, admin, a.srv.URL+"/hooks", b.srv.URL+"/hooks", false),
		loadConfig(embeddedStorage, ingest, admin, a.srv.URL+"/hooks", b.srv.URL+"/hooks", true),
	}
	if err := os.WriteFile(path, []byte(configs[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	proc := start(t, path, ingest, admin)
	t.Cleanup(func() {
		proc.cmd.Process.Kill()
		proc.cmd.Wait()
		if t.Failed() {
			t.Logf("gateway logs:\n%s", proc.logs)
		}
	})

	type answer struct {
		status     int
		deliveries int
		err        error
	}
	answers := make([]answer, events)
	var sent atomic.Int64
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	deadline := time.Now().Add(60 * time.Second)
	for w := range senders {
		wg.Go(func() {
			for i := w; i < events && time.Now().Before(deadline); i += senders {
				body := []byte(fmt.Sprintf(`{"identifier":"ev-%d"}`, i))
				req, _ := http.NewRequest("POST", "http://"+ingest+"/in/partner", bytes.NewReader(body))
				req.Header.Set("X-Signature", sign(body))
				resp, err := client.Do(req)
				if err != nil {
					answers[i] = answer{err: err}
					sent.Add(1)
					continue
				}
				var got struct{ Deliveries int }
				json.NewDecoder(resp.Body).Decode(&got)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				answers[i] = answer{status: resp.StatusCode, deliveries: got.Deliveries}
				sent.Add(1)
			}
		})
	}

	// The reloads, spread over the load: reload i once i*events/(reloads+1)
	// events were answered. Each is confirmed applied before the next.
	applied := 0
	for i := range reloads {
		for sent.Load() < int64((i+1)*events/(reloads+1)) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		src := configs[(i+1)%2]
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		want := hashOf(src)
		if i%2 == 0 {
			var res struct {
				Reloaded   bool   `json:"reloaded"`
				ConfigHash string `json:"config_hash"`
			}
			if code := api(t, "POST", "http://"+admin+"/api/reload", adminToken, &res); code != 200 || !res.Reloaded || res.ConfigHash != want {
				t.Fatalf("reload %d by the API: %d %+v, want 200, reloaded, %s", i+1, code, res, want)
			}
		} else {
			if err := proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			waitReady(t, admin, want)
		}
		applied++
	}
	wg.Wait()

	counts := map[int]int{}
	for i, ans := range answers {
		switch {
		case ans.err != nil:
			t.Errorf("event %d: %v", i, ans.err)
		case ans.status == 0:
			t.Errorf("event %d was not sent within the time bound", i)
		case ans.status != http.StatusAccepted:
			t.Errorf("event %d: status %d, want 202", i, ans.status)
		case ans.deliveries != 1 && ans.deliveries != 2:
			t.Errorf("event %d: %d deliveries, want 1 or 2", i, ans.deliveries)
		}
		counts[ans.deliveries]++
	}
	if t.Failed() {
		t.FailNow()
	}
	// Both configs must have taken events, or the test proved nothing.
	if counts[1] == 0 || counts[2] == 0 {
		t.Fatalf("events per delivery count: %v; want some under each config", counts)
	}
	checkDelivered(t, []string{admin}, answers, func(a answer) int { return a.deliveries }, a, b)
	t.Logf("%d events, %d reloads applied; %d accepted with the extra route, %d without",
		events, applied, counts[2], counts[1])
}

// destFigures are one destination's figures of GET /api/stats.
type destFigures struct {
	Destination   string `json:"destination"`
	Pending       int    `json:"pending"`
	Retrying      int    `json:"retrying"`
	Delivered     int    `json:"delivered"`
	Dead          int    `json:"dead"`
	Attempts      int    `json:"attempts"`
	RetryAttempts int    `json:"retry_attempts"`
}

// settled waits until the store behind the gateways at admins has no
// delivery pending or retrying (nothing more will be sent) and returns
// each destination's figures. Each gateway counts its own attempts in the
// figures when asked (a Redis store's instances flush them now and then),
// so every gateway is asked, in turn, and the last answer has them all.
func settled(t *testing.T, admins ...string) map[string]destFigures {
	t.Helper()
	var figs map[string]destFigures
	for _, admin := range admins {
		figs = settledAt(t, admin)
	}
	return figs
}

// settledAt is settled of the gateway at admin.
func settledAt(t *testing.T, admin string) map[string]destFigures {
	t.Helper()
	var figs map[string]destFigures
	testutil.Eventually(t, 0, "every delivery delivered or dead", func() error {
		var ans struct{ Destinations []destFigures }
		if code := api(t, "GET", "http://"+admin+"/api/stats", adminToken, &ans); code != 200 {
			return fmt.Errorf("GET /api/stats: %d", code)
		}
		figs = map[string]destFigures{}
		var open []string
		for _, f := range ans.Destinations {
			figs[f.Destination] = f
			if f.Pending+f.Retrying > 0 {
				open = append(open, fmt.Sprintf("%s: %d pending, %d retrying", f.Destination, f.Pending, f.Retrying))
			}
		}
		if len(open) > 0 {
			return fmt.Errorf("%s", strings.Join(open, "; "))
		}
		return nil
	})
	return figs
}

// checkDelivered checks the at-least-once contract of a run whose events
// "ev-<i>" were answered as answers (a 202 with deliveries(answer)
// deliveries: 1 to a, 2 to a and b), once the gateways at admins have nothing
// left to send: nothing is lost (every event reached a, and b exactly when
// its answer counted two), every delivery is delivered (none dead), and a
// receiver got an event more than once only as a recorded retry: its
// requests are at most the attempts the gateway reports, and its
// duplicates at most the retries. The duplicates are logged.
func checkDelivered[A any](t *testing.T, admins []string, answers []A, deliveries func(A) int, a, b *sink) {
	t.Helper()
	figs := settled(t, admins...)
	a.mu.Lock()
	b.mu.Lock()
	defer a.mu.Unlock()
	defer b.mu.Unlock()
	wantB := 0
	for i, ans := range answers {
		id := fmt.Sprintf("ev-%d", i)
		n := deliveries(ans)
		if a.seen[id] == 0 {
			t.Errorf("%s (202, %d deliveries) never reached a", id, n)
		}
		switch {
		case n == 2 && b.seen[id] == 0:
			t.Errorf("%s was accepted with the extra route but never reached b", id)
		case n == 1 && b.seen[id] > 0:
			t.Errorf("%s was accepted without the extra route but reached b", id)
		}
		if n == 2 {
			wantB++
		}
	}
	for _, c := range []struct {
		name string
		s    *sink
		want int
	}{{"a", a, len(answers)}, {"b", b, wantB}} {
		f := figs[c.name]
		got := int(c.s.n.Load())
		dups := got - len(c.s.seen)
		if f.Delivered != c.want || f.Dead != 0 {
			t.Errorf("%s: %d delivered, %d dead; want %d delivered, none dead", c.name, f.Delivered, f.Dead, c.want)
		}
		if got > f.Attempts || dups > f.RetryAttempts {
			t.Errorf("%s got %d requests (%d duplicates) but the gateway reports %d attempts (%d retries): a duplicate no attempt accounts for",
				c.name, got, dups, f.Attempts, f.RetryAttempts)
		}
		t.Logf("%s: %d requests for %d events, %d duplicates; the gateway reports %d attempts, %d retries",
			c.name, got, len(c.s.seen), dups, f.Attempts, f.RetryAttempts)
	}
}

// TestWatchAppliesNewSecret: with `run -watch`, an editor-style save of the
// config (write a temporary file, rename it over the old one) is reloaded,
// and a changed destination secret signs the next attempt: a delivery
// refused under the old secret is delivered under the new one.
func TestWatchAppliesNewSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	const oldSecret, newSecret = "old-secret", "new-secret"
	var mu sync.Mutex
	var sigs []bool // per attempt: did it verify with the new secret
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m := hmac.New(sha256.New, []byte(newSecret))
		m.Write(body)
		ok := hmac.Equal([]byte(r.Header.Get("X-Hookgate-Signature")), []byte(hex.EncodeToString(m.Sum(nil))))
		mu.Lock()
		sigs = append(sigs, ok)
		mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(recv.Close)
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	path := filepath.Join(dir, "config.hcl")
	cfg := func(secret string) string {
		return fmt.Sprintf(`gateway {
  listen           = %q
  admin_listen     = %q
  admin_token      = %q
  shutdown_timeout = "5s"
}
storage "embedded" { path = "data/hookgate.db" }
source "partner" {
  path = "/in/partner"
  verify "hmac" {
    header = "X-Signature"
    secret = "e2e-secret"
  }
}
destination "d" {
  url           = %q
  allow_private = true
  timeout       = "2s"
  sign "hmac" { secret = %q }
  retry {
    schedule = ["1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s"]
  }
}
route "all" {
  source       = "partner"
  destinations = ["d"]
}
`, ingest, admin, adminToken, recv.URL, secret)
	}
	if err := os.WriteFile(path, []byte(cfg(oldSecret)), 0o644); err != nil {
		t.Fatal(err)
	}
	proc := start(t, path, ingest, admin, "-watch")
	t.Cleanup(func() {
		proc.cmd.Process.Kill()
		proc.cmd.Wait()
		if t.Failed() {
			t.Logf("gateway logs:\n%s", proc.logs)
		}
	})

	body := []byte(`{"identifier":"watched"}`)
	req, _ := http.NewRequest("POST", "http://"+ingest+"/in/partner", bytes.NewReader(body))
	req.Header.Set("X-Signature", sign(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var accepted struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&accepted)
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("send: status %d", resp.StatusCode)
	}
	waitUntil(t, 10*time.Second, "a first attempt, refused", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(sigs) >= 1
	})

	// Save as an editor does: a new file renamed over the old one.
	src := cfg(newSecret)
	tmp := filepath.Join(dir, ".config.hcl.swp")
	if err := os.WriteFile(tmp, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitReady(t, admin, hashOf(src))

	waitUntil(t, 15*time.Second, "an attempt signed with the new secret", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(sigs) > 0 && sigs[len(sigs)-1]
	})
	mu.Lock()
	if sigs[0] {
		t.Errorf("the first attempt verified with the new secret before the change")
	}
	mu.Unlock()
	var d struct {
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	}
	waitUntil(t, 10*time.Second, "the delivery recorded as delivered", func() bool {
		var list struct {
			Deliveries []struct {
				ID string `json:"id"`
			} `json:"deliveries"`
		}
		if api(t, "GET", "http://"+admin+"/api/deliveries?destination=d", adminToken, &list) != 200 || len(list.Deliveries) != 1 {
			return false
		}
		api(t, "GET", "http://"+admin+"/api/deliveries/"+list.Deliveries[0].ID, adminToken, &d)
		return d.Status == "delivered"
	})
	if d.Attempts < 2 {
		t.Errorf("delivered after %d attempts, want at least 2 (one refused under the old secret)", d.Attempts)
	}
	if !strings.Contains(proc.logs.String(), "config file changed") {
		t.Errorf("the logs do not say the file change was seen")
	}
}

// hashOf is the config hash /readyz reports for src.
func hashOf(src string) string {
	sum := sha256.Sum256([]byte(src))
	return hex.EncodeToString(sum[:])
}

// waitReady waits until /readyz reports the config hash want.
func waitReady(t *testing.T, admin, want string) {
	t.Helper()
	waitUntil(t, 10*time.Second, "config "+want[:12]+" loaded", func() bool {
		var r struct {
			ConfigHash string `json:"config_hash"`
		}
		return api(t, "GET", "http://"+admin+"/readyz", "", &r) == 200 && r.ConfigHash == want
	})
}

// waitUntil waits up to d for cond to hold.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, d, what, testutil.Holds(cond))
}
