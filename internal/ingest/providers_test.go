package ingest_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ingest"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"
	"github.com/hookgate/hookgate/internal/telemetry"
)

const providersCfg = `
source "meta" {
  path = "/in/meta"
  verify "meta" {
    secrets      = ["new-app-secret", "old-app-secret"]
    verify_token = "tok-123"
  }
}
source "slack" {
  path = "/in/slack"
  verify "slack" {
    secret = "slack-signing-secret"
  }
}
`

// providerFixture serves providersCfg with a real store and metrics.
func providerFixture(t *testing.T) (*httptest.Server, *embedded.Store, *telemetry.Metrics) {
	t.Helper()
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(providersCfg), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	t.Cleanup(func() { cfg.Close() })
	es, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { es.Close() })
	m, err := telemetry.NewMetrics()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&ingest.Handler{Current: func() *config.Config { return cfg }, Store: es, Metrics: m})
	t.Cleanup(srv.Close)
	return srv, es, m
}

func do(t *testing.T, req *http.Request) (int, string, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func hexMAC(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// Meta's subscription handshake is answered with the challenge only for
// the configured verify_token, and stores nothing; a GET that is not one
// is still 405.
func TestMetaHandshake(t *testing.T) {
	srv, es, _ := providerFixture(t)
	for _, c := range []struct {
		query  string
		status int
		body   string
	}{
		{"hub.mode=subscribe&hub.verify_token=tok-123&hub.challenge=1158201444", 200, "1158201444"},
		{"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444", 403, "verify_token"},
		{"hub.mode=subscribe&hub.challenge=1158201444", 403, "verify_token"},
		{"", 405, "POSTed"},
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/in/meta?"+c.query, nil)
		status, body, _ := do(t, req)
		if status != c.status || !strings.Contains(body, c.body) {
			t.Errorf("GET ?%s: %d %q, want %d with %q", c.query, status, body, c.status, c.body)
		}
		if strings.Contains(body, "tok-123") {
			t.Errorf("GET ?%s: the answer shows the verify token", c.query)
		}
	}
	if page, err := es.Deliveries(context.Background(), store.Query{}); err != nil || len(page.Deliveries) != 0 {
		t.Errorf("a handshake stored something: %v, %v", page.Deliveries, err)
	}
}

// Slack's url_verification is answered by the slack preset itself, once
// verified, and stores nothing; unsigned, it is refused.
func TestSlackURLVerification(t *testing.T) {
	srv, es, _ := providerFixture(t)
	body := `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	send := func(sig string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/in/slack", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sig)
		status, out, _ := do(t, req)
		return status, out
	}
	status, out := send("v0=" + hexMAC("slack-signing-secret", "v0:"+ts+":"+body))
	if status != 200 || strings.TrimSpace(out) != `{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}` {
		t.Errorf("signed url_verification: %d %s", status, out)
	}
	if status, _ := send("v0=" + hexMAC("wrong", "v0:"+ts+":"+body)); status != 401 {
		t.Errorf("wrongly signed url_verification: %d, want 401", status)
	}
	if page, err := es.Deliveries(context.Background(), store.Query{}); err != nil || len(page.Deliveries) != 0 {
		t.Errorf("url_verification stored something: %v, %v", page.Deliveries, err)
	}
}

// hookgate_verify_total says which of a source's secrets matched, so an
// operator rotating a secret sees when the old one stops being used.
func TestVerifyCountsTheMatchedSecret(t *testing.T) {
	srv, _, m := providerFixture(t)
	post := func(secret string) {
		body := `{"object":"page","entry":[]}`
		req, _ := http.NewRequest("POST", srv.URL+"/in/meta", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Hub-Signature-256", "sha256="+hexMAC(secret, body))
		if status, out, _ := do(t, req); status != 202 {
			t.Fatalf("signed with %s: %d %s", secret, status, out)
		}
	}
	post("new-app-secret")
	post("old-app-secret")
	post("old-app-secret")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body.String()
	for secret, n := range map[string]int{"0": 1, "1": 2} {
		want := fmt.Sprintf(`hookgate_verify_total{secret="%s",source="meta"} %d`, secret, n)
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s:\n%s", want, grep(text, "hookgate_verify"))
		}
	}
	if strings.Contains(text, "app-secret") {
		t.Error("a secret appears in the metrics")
	}
}

func grep(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
