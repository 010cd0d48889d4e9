package ingest_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ingest"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"
)

const formsCfg = `
source "twilio" {
  path = "/in/twilio"
  verify "twilio" {
    secret = "twilio-token"
    url    = "https://hooks.example.com/in/twilio"
  }
}
source "json_only" {
  path          = "/in/json"
  content_types = ["application/json"]
  verify "none" {}
}
source "plain_ok" {
  path = "/in/plain"
  verify "none" {}
  respond {
    body = "ok"
  }
}
destination "d" { url = "https://d.example.com/hooks" }
route "r" {
  sources      = ["twilio", "json_only", "plain_ok"]
  destinations = ["d"]
}
`

func formsFixture(t *testing.T) (*httptest.Server, *embedded.Store) {
	t.Helper()
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(formsCfg), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	t.Cleanup(func() { cfg.Close() })
	es, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { es.Close() })
	srv := httptest.NewServer(&ingest.Handler{Current: func() *config.Config { return cfg }, Store: es})
	t.Cleanup(srv.Close)
	return srv, es
}

// A form posted to a source that accepts forms (the twilio preset does) is
// verified as sent, and its fields become the event, delivered as JSON: a
// name given once a string, a repeated one a list.
func TestFormBecomesJSON(t *testing.T) {
	srv, es := formsFixture(t)
	form := url.Values{"MessageSid": {"SM123"}, "Body": {"hello & bye"}, "MediaUrl": {"https://a", "https://b"}}
	body := form.Encode()
	// Twilio's scheme: the public URL, then each name and value, names sorted.
	m := hmac.New(sha1.New, []byte("twilio-token"))
	m.Write([]byte("https://hooks.example.com/in/twilio" + "Bodyhello & bye" + "MediaUrlhttps://a" + "MediaUrlhttps://b" + "MessageSidSM123"))
	sig := base64.StdEncoding.EncodeToString(m.Sum(nil))

	post := func(sig string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/in/twilio", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		status, out, _ := do(t, req)
		return status, out
	}
	if status, out := post("AAAA"); status != 401 {
		t.Errorf("wrongly signed form: %d %s", status, out)
	}
	status, out := post(sig)
	if status != 202 {
		t.Fatalf("signed form: %d %s", status, out)
	}
	page, err := es.Deliveries(context.Background(), store.Query{})
	if err != nil || len(page.Deliveries) != 1 {
		t.Fatalf("deliveries %v, %v", page.Deliveries, err)
	}
	d, _, err := es.Delivery(context.Background(), page.Deliveries[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(d.Body, &got); err != nil {
		t.Fatalf("delivered body %q is not JSON: %v", d.Body, err)
	}
	if got["MessageSid"] != "SM123" || got["Body"] != "hello & bye" {
		t.Errorf("delivered %v", got)
	}
	if list, ok := got["MediaUrl"].([]any); !ok || len(list) != 2 || list[0] != "https://a" {
		t.Errorf("a repeated field is %v, want the list of its values", got["MediaUrl"])
	}
}

// A source with content_types refuses other media types with 415 and the
// list; a request without Content-Type counts as JSON.
func TestContentTypes(t *testing.T) {
	srv, _ := formsFixture(t)
	for _, c := range []struct {
		ctype  string
		status int
	}{
		{"application/json", 202},
		{"application/json; charset=utf-8", 202},
		{"", 202},
		{"text/plain", 415},
		{"application/x-www-form-urlencoded", 415},
	} {
		req, _ := http.NewRequest("POST", srv.URL+"/in/json", strings.NewReader(`{"a":1}`))
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		status, out, _ := do(t, req)
		if status != c.status {
			t.Errorf("Content-Type %q: %d %s, want %d", c.ctype, status, out, c.status)
		}
		if status == 415 && !strings.Contains(out, "application/json") {
			t.Errorf("a 415 that does not say what is accepted: %s", out)
		}
	}
}

// A source's respond block replaces the 202 once the event is stored.
func TestRespondBlock(t *testing.T) {
	srv, es := formsFixture(t)
	req, _ := http.NewRequest("POST", srv.URL+"/in/plain", strings.NewReader(`{"a":1}`))
	req.Header.Set("Content-Type", "application/json")
	status, out, h := do(t, req)
	if status != 200 || out != "ok" || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("answer %d %q (%s), want 200 ok as text/plain", status, out, h.Get("Content-Type"))
	}
	if page, err := es.Deliveries(context.Background(), store.Query{}); err != nil || len(page.Deliveries) != 1 {
		t.Errorf("the event was not stored: %v, %v", page.Deliveries, err)
	}
}
