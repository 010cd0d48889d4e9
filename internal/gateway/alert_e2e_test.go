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
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// alertSink records the alerts delivered to it, with their signature
// header.
type alertSink struct {
	srv    *httptest.Server
	mu     sync.Mutex
	alerts []map[string]any
	signed bool
}

func newAlertSink(t *testing.T) *alertSink {
	s := &alertSink{signed: true}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var a map[string]any
		json.Unmarshal(raw, &a)
		s.mu.Lock()
		s.alerts = append(s.alerts, a)
		if r.Header.Get("Webhook-Signature") == "" {
			s.signed = false
		}
		s.mu.Unlock()
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *alertSink) got() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.alerts...)
}

// TestAlertsReachASink: a delivery dead-lettered raises a dead alert at the
// alert destination (signed, as any delivery) within 60 s; a second dead
// delivery within every raises none; a delivered one resolves it. Bad
// signatures above the threshold raise verify_failures.
func TestAlertsReachASink(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	var crmOK atomic.Bool
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !crmOK.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(crm.Close)
	oncall := newAlertSink(t)
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`
gateway {
  listen       = %q
  admin_listen = %q
}
%s
source "partner" {
  path = "/in/partner"
  verify "hmac" {
    header = "X-Signature"
    secret = "e2e-secret"
  }
}
destination "crm" {
  url           = %q
  allow_private = true
  retry { schedule = [] }
}
destination "oncall" {
  url           = %q
  allow_private = true
  sign "standard_webhooks" { secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }
}
route "all" {
  source       = "partner"
  destinations = ["crm"]
}
alert "pager" {
  on          = ["dead", "verify_failures"]
  destination = "oncall"
  every       = "1h"
  threshold   = 2
}
`, ingest, admin, embeddedStorage, crm.URL, oncall.srv.URL)
	path := filepath.Join(dir, "config.hcl")
	os.WriteFile(path, []byte(cfg), 0o644)
	p := start(t, path, ingest, admin)
	defer func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
	}()

	sentAt := time.Now()
	sendEvents(t, ingest, "dies", 1)
	waitUntil(t, 60*time.Second, "the dead alert", func() bool { return len(oncall.got()) >= 1 })
	if d := time.Since(sentAt); d > 60*time.Second {
		t.Errorf("the alert came %s after the dead delivery, want within 60s", d)
	}
	a := oncall.got()[0]
	if a["alert"] != "dead" || a["subject"] != "crm" || a["resolved"] != false || a["count"] != 1.0 ||
		a["first_at"] == nil || a["last_at"] == nil || a["last_error"] == nil {
		t.Fatalf("alert %v", a)
	}
	sendEvents(t, ingest, "dies-again", 1)
	// Wait until the second delivery is dead too, then for a few of the
	// alert manager's ticks (1s).
	waitUntil(t, 30*time.Second, "the second delivery dead", func() bool {
		var ans struct{ Deliveries []any }
		api(t, http.MethodGet, "http://"+admin+"/api/deliveries?status=dead&destination=crm", "", &ans)
		return len(ans.Deliveries) == 2
	})
	time.Sleep(2500 * time.Millisecond) // an observation window
	if n := len(oncall.got()); n != 1 {
		t.Fatalf("%d alerts after two dead deliveries within every, want 1: %v", n, oncall.got())
	}

	crmOK.Store(true)
	sendEvents(t, ingest, "delivered", 1)
	waitUntil(t, 60*time.Second, "the resolving alert", func() bool { return len(oncall.got()) >= 2 })
	if r := oncall.got()[1]; r["alert"] != "dead" || r["resolved"] != true || r["subject"] != "crm" {
		t.Fatalf("resolving alert %v", r)
	}

	for i := range 3 {
		body := []byte(fmt.Sprintf(`{"n":%d}`, i))
		req, _ := http.NewRequest(http.MethodPost, "http://"+ingest+"/in/partner", bytes.NewReader(body))
		req.Header.Set("X-Signature", "00")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a bad signature answered %d", resp.StatusCode)
		}
	}
	waitUntil(t, 60*time.Second, "the verify_failures alert", func() bool { return len(oncall.got()) >= 3 })
	if v := oncall.got()[2]; v["alert"] != "verify_failures" || v["subject"] != "partner" || v["count"] != 3.0 {
		t.Fatalf("verify_failures alert %v", v)
	}
	oncall.mu.Lock()
	signed := oncall.signed
	oncall.mu.Unlock()
	if !signed {
		t.Error("an alert was delivered without the destination's signature")
	}
}
