package ingest_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ingest"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"
	_ "github.com/hookgate/hookgate/plugins/standard"
)

const cfgSrc = `
gateway { max_body = "2KiB" }
schema "creator_insights" {
  field "type" {
    type = "string"
    enum = ["creator_insights"]
  }
  field "status" {
    type = "string"
    enum = ["success", "failed"]
  }
  field "identifier" { type = "string" }
  field "connector" {
    type = "string"
    enum = ["instagram", "youtube", "tiktok", "facebook"]
  }
}
source "influship" {
  path       = "/in/influship"
  event_type = "type"
  schemas    = { creator_insights = "creator_insights" }
  verify "hmac" {
    header = "X-Influship-Signature"
    secret = "topsecret"
  }
  challenge {
    when    = "$headers['x-influship-event'] == 'webhook.verify'"
    respond = "{challenge: challenge}"
  }
  dedupe {
    key    = "$headers['webhook-id'] ?? ''"
    window = "1h"
  }
}
destination "tiktok" { url = "https://tiktok.example.com/hooks" }
destination "all" { url = "https://all.example.com/hooks" }
route "tiktok" {
  source       = "influship"
  filter       = "connector == 'tiktok'"
  transform    = "{creator: identifier}"
  destinations = ["tiktok"]
}
route "all" {
  source       = "influship"
  destinations = ["all"]
}
`

type fixture struct {
	srv      *httptest.Server
	store    *embedded.Store
	notified []string
	mu       sync.Mutex
}

func newFixture(t *testing.T, st ingest.Store) *fixture {
	t.Helper()
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(cfgSrc), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	f := &fixture{}
	if st == nil {
		es, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), embedded.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { es.Close() })
		f.store, st = es, es
	}
	h := &ingest.Handler{
		Current: func() *config.Config { return cfg },
		Store:   st,
		Notify: func(d string) {
			f.mu.Lock()
			f.notified = append(f.notified, d)
			f.mu.Unlock()
		},
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

func sign(body string) string {
	m := hmac.New(sha256.New, []byte("topsecret"))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func (f *fixture) post(t *testing.T, method, path, body string, headers map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out, resp.Header
}

const tiktok = `{"type":"creator_insights","status":"success","identifier":"minimuffin8888","connector":"tiktok"}`

func TestIngestTable(t *testing.T) {
	f := newFixture(t, nil)
	signed := func(body string, extra ...string) map[string]string {
		h := map[string]string{"X-Influship-Signature": sign(body)}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i]] = extra[i+1]
		}
		return h
	}
	big := `{"type":"creator_insights","pad":"` + strings.Repeat("x", 3000) + `"}`
	cases := []struct {
		name    string
		method  string
		path    string
		body    string
		headers map[string]string
		status  int
		check   func(t *testing.T, out map[string]any, h http.Header)
	}{
		{"stored with deliveries", "POST", "/in/influship", tiktok, signed(tiktok), 202, func(t *testing.T, out map[string]any, _ http.Header) {
			if out["deliveries"] != 2.0 || !strings.HasPrefix(out["id"].(string), "evt_") {
				t.Errorf("answer %v", out)
			}
		}},
		{"stored without matching route but catch-all", "POST", "/in/influship", strings.Replace(tiktok, "tiktok", "youtube", 1), signed(strings.Replace(tiktok, "tiktok", "youtube", 1)), 202, func(t *testing.T, out map[string]any, _ http.Header) {
			if out["deliveries"] != 1.0 {
				t.Errorf("answer %v", out)
			}
		}},
		{"challenge answered", "POST", "/in/influship", `{"challenge":"abc123"}`, signed(`{"challenge":"abc123"}`, "X-Influship-Event", "webhook.verify"), 200, func(t *testing.T, out map[string]any, _ http.Header) {
			if out["challenge"] != "abc123" || len(out) != 1 {
				t.Errorf("answer %v", out)
			}
		}},
		{"missing signature", "POST", "/in/influship", tiktok, nil, 401, func(t *testing.T, out map[string]any, _ http.Header) {
			if !strings.Contains(out["error"].(string), "X-Influship-Signature") {
				t.Errorf("answer %v", out)
			}
		}},
		{"wrong signature", "POST", "/in/influship", tiktok, map[string]string{"X-Influship-Signature": sign(tiktok + " ")}, 401, nil},
		{"challenge needs the signature too", "POST", "/in/influship", `{"challenge":"abc"}`, map[string]string{"X-Influship-Event": "webhook.verify"}, 401, nil},
		{"not JSON", "POST", "/in/influship", `{"type":`, signed(`{"type":`), 400, func(t *testing.T, out map[string]any, _ http.Header) {
			if !strings.Contains(out["error"].(string), "not JSON") {
				t.Errorf("answer %v", out)
			}
		}},
		{"schema violation", "POST", "/in/influship", `{"type":"creator_insights","status":"ok","connector":"myspace"}`, signed(`{"type":"creator_insights","status":"ok","connector":"myspace"}`), 422, func(t *testing.T, out map[string]any, _ http.Header) {
			fields, _ := out["fields"].([]any)
			paths := map[string]bool{}
			for _, f := range fields {
				paths[f.(map[string]any)["path"].(string)] = true
			}
			if !paths["status"] || !paths["connector"] || !paths["identifier"] || len(fields) != 3 {
				t.Errorf("fields %v", out["fields"])
			}
		}},
		{"unknown event type", "POST", "/in/influship", `{"type":"campaign_insights"}`, signed(`{"type":"campaign_insights"}`), 422, func(t *testing.T, out map[string]any, _ http.Header) {
			if !strings.Contains(out["error"].(string), "campaign_insights") {
				t.Errorf("answer %v", out)
			}
		}},
		{"event without a type", "POST", "/in/influship", `{"kind":"x"}`, signed(`{"kind":"x"}`), 422, func(t *testing.T, out map[string]any, _ http.Header) {
			if !strings.Contains(out["error"].(string), "the event has no type: event_type (type)") {
				t.Errorf("answer %v", out)
			}
		}},
		{"body over max_body", "POST", "/in/influship", big, signed(big), 413, nil},
		{"unknown path", "POST", "/in/nope", tiktok, nil, 404, nil},
		{"wrong method", "GET", "/in/influship", "", nil, 405, func(t *testing.T, _ map[string]any, h http.Header) {
			if h.Get("Allow") != "POST" {
				t.Errorf("Allow = %q", h.Get("Allow"))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, out, h := f.post(t, tc.method, tc.path, tc.body, tc.headers)
			if status != tc.status {
				t.Fatalf("status %d, want %d (%v)", status, tc.status, out)
			}
			if tc.check != nil {
				tc.check(t, out, h)
			}
		})
	}
}

func TestIngestStoresEventAndTransformedDeliveries(t *testing.T) {
	f := newFixture(t, nil)
	status, out, _ := f.post(t, "POST", "/in/influship", tiktok, map[string]string{"X-Influship-Signature": sign(tiktok), "Traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
	if status != 202 {
		t.Fatalf("status %d", status)
	}
	ctx := context.Background()
	ev, err := f.store.Event(ctx, out["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if string(ev.Body) != tiktok || ev.EventType != "creator_insights" || len(ev.DeliveryIDs) != 2 {
		t.Fatalf("event %+v", ev)
	}
	if _, leaked := ev.Headers["x-influship-signature"]; leaked {
		t.Error("the signature header was stored with the event")
	}
	bodies := map[string]string{}
	for _, id := range ev.DeliveryIDs {
		d, _, err := f.store.Delivery(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != store.Pending || d.TraceParent == "" {
			t.Errorf("delivery %+v", d)
		}
		bodies[d.Destination] = string(d.Body)
	}
	if bodies["tiktok"] != `{"creator":"minimuffin8888"}` || bodies["all"] != tiktok {
		t.Errorf("bodies %v", bodies)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.notified) != 2 {
		t.Errorf("notified %v", f.notified)
	}
}

func TestIngestDedupe(t *testing.T) {
	f := newFixture(t, nil)
	h := map[string]string{"X-Influship-Signature": sign(tiktok), "Webhook-Id": "msg_1"}
	s1, first, _ := f.post(t, "POST", "/in/influship", tiktok, h)
	s2, second, _ := f.post(t, "POST", "/in/influship", tiktok, h)
	if s1 != 202 || s2 != 200 || second["duplicate"] != true || second["id"] != first["id"] {
		t.Fatalf("first %d %v, second %d %v", s1, first, s2, second)
	}
	h["Webhook-Id"] = "msg_2"
	if s3, _, _ := f.post(t, "POST", "/in/influship", tiktok, h); s3 != 202 {
		t.Fatalf("a new key answered %d", s3)
	}
}

// downStore is a store that cannot take writes.
type downStore struct{}

func (downStore) Accept(context.Context, *store.Event, []*store.Delivery, *store.Dedupe) (string, error) {
	return "", store.ErrUnavailable
}

func TestIngestStoreDownIs503(t *testing.T) {
	f := newFixture(t, downStore{})
	status, out, h := f.post(t, "POST", "/in/influship", tiktok, map[string]string{"X-Influship-Signature": sign(tiktok)})
	if status != 503 || h.Get("Retry-After") == "" || out["error"] == nil {
		t.Fatalf("status %d %v", status, out)
	}
}

func TestIngestConcurrent(t *testing.T) {
	f := newFixture(t, nil)
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				req, _ := http.NewRequest("POST", f.srv.URL+"/in/influship", bytes.NewReader([]byte(tiktok)))
				req.Header.Set("X-Influship-Signature", sign(tiktok))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err.Error()
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 202 {
					errs <- resp.Status
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	page, err := f.store.Deliveries(context.Background(), store.Query{Limit: 1000})
	if err != nil || len(page.Deliveries) != 400 {
		t.Fatalf("%d deliveries stored, want 400 (%v)", len(page.Deliveries), err)
	}
	_ = time.Second
}
