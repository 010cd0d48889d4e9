package gateway_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	adminapi "github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/testutil"
)

const adminToken = "admin-s3cret-token"

// api calls the admin API with the token and decodes the JSON answer.
func api(t *testing.T, method, url, token string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(raw), "e2e-secret") || strings.Contains(string(raw), adminToken) {
		t.Fatalf("%s %s shows a secret: %s", method, url, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, raw)
		}
	}
	return resp.StatusCode
}

// TestDeadLetterThenReplay: a receiver that fails dead-letters the delivery
// after its schedule; the admin API shows every attempt; a replay after the
// receiver recovers delivers it with the same webhook-id.
func TestDeadLetterThenReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	var healthy atomic.Bool
	var mu sync.Mutex
	var ids []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids = append(ids, r.Header.Get("Webhook-Id"))
		mu.Unlock()
		if !healthy.Load() {
			http.Error(w, "receiver is down for maintenance", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()

	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`
gateway {
  listen       = %q
  admin_listen = %q
  admin_token  = %q
}
storage "embedded" { path = "data/h.db" }
source "partner" {
  path = "/in/partner"
  verify "hmac" { secret = "e2e-secret" }
}
destination "flaky" {
  url           = %q
  allow_private = true
  sign "standard_webhooks" { secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }
  retry {
    schedule = ["1s"]
    jitter   = "0%%"
  }
}
route "all" {
  source       = "partner"
  destinations = ["flaky"]
}
`, ingest, admin, adminToken, recv.URL+"/hook")
	path := filepath.Join(dir, "config.hcl")
	os.WriteFile(path, []byte(cfg), 0o644)
	proc := start(t, path, ingest, admin)
	defer func() {
		proc.cmd.Process.Signal(syscall.SIGTERM)
		proc.cmd.Wait()
	}()

	body := []byte(`{"identifier":"dlq-1"}`)
	req, _ := http.NewRequest("POST", "http://"+ingest+"/in/partner", bytes.NewReader(body))
	req.Header.Set("X-Signature", sign(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("ingest: %v %v", err, resp)
	}
	resp.Body.Close()

	base := "http://" + admin
	// Auth: refused without or with a wrong token.
	if code := api(t, "GET", base+"/api/deliveries", "", nil); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	if code := api(t, "GET", base+"/api/deliveries", "wrong", nil); code != 401 {
		t.Fatalf("wrong token: %d", code)
	}

	var list adminapi.Deliveries
	testutil.Eventually(t, 0, "one dead delivery to flaky", func() error {
		api(t, "GET", base+"/api/deliveries?status=dead&destination=flaky", adminToken, &list)
		if len(list.Deliveries) != 1 {
			return fmt.Errorf("%d dead deliveries; logs:\n%s", len(list.Deliveries), proc.logs)
		}
		return nil
	})
	var d adminapi.Delivery
	if code := api(t, "GET", base+"/api/deliveries/"+list.Deliveries[0].ID, adminToken, &d); code != 200 {
		t.Fatalf("get delivery: %d", code)
	}
	if d.Attempts != 2 || len(d.AttemptLog) != 2 || d.AttemptLog[0].StatusCode != 500 || !strings.Contains(d.AttemptLog[1].Response, "down for maintenance") || !strings.Contains(d.DeadReason, "retries exhausted") {
		t.Fatalf("dead delivery %+v", d)
	}
	if string(d.Body) != string(body) {
		t.Fatalf("body %s", d.Body)
	}
	// The dead-letter export holds it with its payload.
	exp, _ := http.NewRequest("GET", base+"/api/dlq/export", nil)
	exp.Header.Set("Authorization", "Bearer "+adminToken)
	er, err := http.DefaultClient.Do(exp)
	if err != nil {
		t.Fatal(err)
	}
	lines, _ := io.ReadAll(er.Body)
	er.Body.Close()
	if n := strings.Count(strings.TrimSpace(string(lines)), "\n") + 1; n != 1 || !strings.Contains(string(lines), `"identifier":"dlq-1"`) {
		t.Fatalf("export: %s", lines)
	}

	// The receiver recovers; replay the destination's dead-letter set.
	healthy.Store(true)
	var replayed adminapi.Replayed
	if code := api(t, "POST", base+"/api/dlq/replay?destination=flaky", adminToken, &replayed); code != 200 || replayed.Replayed != 1 {
		t.Fatalf("replay: %d %+v", code, replayed)
	}
	testutil.Eventually(t, 0, "the replayed delivery delivered", func() error {
		api(t, "GET", base+"/api/deliveries/"+d.ID, adminToken, &d)
		if d.Status != "delivered" {
			return fmt.Errorf("status %s after %d attempts", d.Status, d.Attempts)
		}
		return nil
	})
	if d.Attempts != 3 {
		t.Fatalf("after replay: %+v", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 3 || ids[0] != d.ID || ids[1] != d.ID || ids[2] != d.ID {
		t.Fatalf("webhook-ids %v, want %s on every attempt", ids, d.ID)
	}
	// Unknown ids and bad filters are JSON errors.
	if code := api(t, "GET", base+"/api/deliveries/dlv_nope", adminToken, nil); code != 404 {
		t.Errorf("unknown id: %d", code)
	}
	if code := api(t, "GET", base+"/api/deliveries?status=lost", adminToken, nil); code != 400 {
		t.Errorf("bad status: %d", code)
	}
	// Health and readiness need no token; metrics do (SPEC: admin surface,
	// tightened).
	var ready adminapi.Ready
	if code := api(t, "GET", base+"/readyz", "", &ready); code != 200 || ready.Status != "ready" || len(ready.ConfigHash) != 64 {
		t.Errorf("readyz %d %+v", code, ready)
	}
	if code, _ := getMetrics(t, base, ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d, want 401", code)
	}
	_, metrics := getMetrics(t, base, adminToken)
	for _, want := range []string{
		`hookgate_ingest_requests_total{source="partner",status="202"} 1`,
		`hookgate_delivery_attempts_total{destination="flaky",outcome="dead"} 1`,
		`hookgate_delivery_attempts_total{destination="flaky",outcome="delivered"} 1`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// hookgateCLI runs the built binary's admin commands against the admin API
// given by the environment, as an operator's shell would.
func hookgateCLI(t *testing.T, adminAddr string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "HOOKGATE_ADMIN_URL=http://"+adminAddr, "HOOKGATE_ADMIN_TOKEN="+adminToken,
		"HOOKGATE_CONFIG="+filepath.Join(t.TempDir(), "none.hcl"))
	out, err := cmd.CombinedOutput()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), adminToken) || strings.Contains(string(out), "e2e-secret") {
		t.Fatalf("hookgate %v printed a secret:\n%s", args, out)
	}
	return code, string(out)
}

// fieldOf returns the value of "name:  value" in a `show` output.
func fieldOf(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestOperatorJourney is the README's story with the built binary: a
// receiver that answers 410 dead-letters a delivery; the operator finds it
// with `hookgate dlq list`, sees why with `hookgate deliveries show` and
// `hookgate events show`, fixes the receiver, replays with `hookgate dlq
// replay`, and sees it delivered; the dashboard behind the token shows the
// same without a secret.
func TestOperatorJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	var healthy atomic.Bool
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			http.Error(w, "this endpoint was removed", http.StatusGone)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`
gateway {
  listen       = %q
  admin_listen = %q
  admin_token  = %q
}
storage "embedded" { path = "data/h.db" }
source "partner" {
  path = "/in/partner"
  verify "hmac" { secret = "e2e-secret" }
}
destination "crm" {
  url           = %q
  allow_private = true
  sign "standard_webhooks" { secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }
}
route "all" {
  source       = "partner"
  destinations = ["crm"]
}
`, ingest, admin, adminToken, recv.URL+"/hook")
	path := filepath.Join(t.TempDir(), "config.hcl")
	os.WriteFile(path, []byte(cfg), 0o644)
	proc := start(t, path, ingest, admin)
	defer func() {
		proc.cmd.Process.Signal(syscall.SIGTERM)
		proc.cmd.Wait()
	}()

	body := []byte(`{"identifier":"journey-1"}`)
	req, _ := http.NewRequest("POST", "http://"+ingest+"/in/partner", bytes.NewReader(body))
	req.Header.Set("X-Signature", sign(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("ingest: %v %v", err, resp)
	}
	resp.Body.Close()

	// Find it.
	var id string
	testutil.Eventually(t, 0, "a dead delivery in dlq list", func() error {
		_, out := hookgateCLI(t, admin, "dlq", "list")
		lines := strings.Split(out, "\n")
		if len(lines) < 2 || !strings.HasPrefix(lines[1], "dlv_") {
			return fmt.Errorf("dlq list:\n%s\nlogs:\n%s", out, proc.logs)
		}
		id = strings.Fields(lines[1])[0]
		return nil
	})
	// See why.
	code, out := hookgateCLI(t, admin, "deliveries", "show", id)
	if code != 0 || fieldOf(out, "status") != "dead" || !strings.Contains(out, "410") ||
		!strings.Contains(out, "this endpoint was removed") || fieldOf(out, "dead reason") == "" {
		t.Fatalf("deliveries show: exit %d:\n%s", code, out)
	}
	code, evOut := hookgateCLI(t, admin, "events", "show", fieldOf(out, "event"))
	if code != 0 || fieldOf(evOut, "source") != "partner" || !strings.Contains(evOut, id) || !strings.Contains(evOut, `"identifier": "journey-1"`) {
		t.Fatalf("events show: exit %d:\n%s", code, evOut)
	}
	// Fix and replay.
	healthy.Store(true)
	if code, out := hookgateCLI(t, admin, "dlq", "replay", "-destination", "crm"); code != 0 || out != "replayed 1 delivery\n" {
		t.Fatalf("dlq replay: exit %d: %q", code, out)
	}
	testutil.Eventually(t, 0, "delivered after the replay", func() error {
		_, out = hookgateCLI(t, admin, "deliveries", "show", id)
		if fieldOf(out, "status") != "delivered" {
			return fmt.Errorf("deliveries show:\n%s", out)
		}
		return nil
	})
	if code, out := hookgateCLI(t, admin, "stats"); code != 0 || !strings.Contains(out, "LAST 24 H") || !strings.Contains(out, "50.0%") {
		t.Errorf("stats: exit %d:\n%s", code, out)
	}
	// The test tool: a sample through the same path.
	if code, out := hookgateCLI(t, admin, "destinations", "test", "crm"); code != 0 || fieldOf(out, "status") != "delivered" {
		t.Errorf("destinations test: exit %d:\n%s", code, out)
	}

	// The dashboard: login form, then the delivery page.
	base := "http://" + admin
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Get(base + "/deliveries/" + id)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("dashboard without a session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = noRedirect.PostForm(base+"/login", url.Values{"token": {adminToken}, "next": {"/deliveries/" + id}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(cookies) != 1 {
		t.Fatalf("login: %d %v", resp.StatusCode, cookies)
	}
	page, _ := http.NewRequest("GET", base+"/deliveries/"+id, nil)
	page.AddCookie(cookies[0])
	resp, err = http.DefaultClient.Do(page)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(html), "HTTP 410") || !strings.Contains(string(html), "delivered") {
		t.Errorf("dashboard delivery page: %d\n%s", resp.StatusCode, html)
	}
	for _, secret := range []string{adminToken, "e2e-secret", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		if strings.Contains(string(html), secret) {
			t.Errorf("the dashboard shows a secret")
		}
	}
}
