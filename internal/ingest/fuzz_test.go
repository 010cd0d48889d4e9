package ingest_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ingest"
	"github.com/hookgate/hookgate/internal/store"
	_ "github.com/hookgate/hookgate/plugins/standard"
)

// fuzzConfig has the stages a request can go through: an hmac source with
// schemas, a challenge and dedupe (Influship's), and an hmac source without
// schemas whose routes filter and transform on headers and body (for the
// other platforms' samples).
const fuzzConfig = `
gateway { max_body = "4KiB" }
schema "creator_updated" {
  field "event" {
    type = "string"
    enum = ["creator.updated"]
  }
  field "timestamp" { type = "timestamp" }
  field "data" {
    type = "object"
    field "creator_id" { type = "string" }
    field "updated_fields" { type = "array" }
    field "platform" { type = "string" }
    field "username" { type = "string" }
  }
}
schema "analysis_complete" {
  field "event" {
    type = "string"
    enum = ["analysis.complete"]
  }
  field "timestamp" { type = "timestamp" }
  field "data" {
    type = "object"
    field "analysis_id" { type = "string" }
    field "type" { type = "string" }
    field "creator_id" { type = "string" }
    field "status" { type = "string" }
    field "results_url" {
      type     = "string"
      optional = true
    }
  }
}
schema "rate_limit_warning" {
  field "event" {
    type = "string"
    enum = ["rate_limit.warning"]
  }
  field "timestamp" { type = "timestamp" }
  field "data" {
    type = "object"
    field "current_usage" { type = "integer" }
    field "limit" { type = "integer" }
    field "reset_time" { type = "timestamp" }
  }
}
source "influship" {
  path       = "/in/influship"
  event_type = "event"
  schemas = {
    "creator.updated"    = "creator_updated"
    "analysis.complete"  = "analysis_complete"
    "rate_limit.warning" = "rate_limit_warning"
  }
  verify "hmac" {
    header = "X-Influship-Signature"
    secret = "fuzz-influship-secret"
  }
  challenge {
    when    = "$headers['x-influship-event'] == 'webhook.verify'"
    respond = "{challenge: challenge}"
  }
  dedupe {
    key    = "event + ':' + timestamp + ':' + string($body.data)"
    window = "1h"
  }
}
source "generic" {
  path       = "/in/generic"
  event_type = "$body.event ?? $body.type ?? 'unknown'"
  verify "hmac" {
    header   = "X-Signature"
    secret   = "fuzz-generic-secret"
    encoding = "base64"
    prefix   = "sha256="
  }
  dedupe { key = "$headers['webhook-id'] ?? ''" }
}
destination "crm" { url = "https://crm.example.com/hooks" }
destination "alerts" { url = "https://alerts.example.com/hooks" }
destination "warehouse" { url = "https://warehouse.example.com/hooks" }
route "creator_sync" {
  source       = "influship"
  events       = ["creator.updated"]
  transform    = "{creator_id: data.creator_id, username: data.username, changed: data.updated_fields, at: timestamp}"
  destinations = ["crm"]
}
route "failed_analyses" {
  source       = "influship"
  events       = ["analysis.complete"]
  filter       = "data.status != 'completed'"
  transform    = "{alert: 'analysis ' + data.status, analysis: data.analysis_id}"
  destinations = ["alerts"]
}
route "rate_limit_alerts" {
  source       = "influship"
  events       = ["rate_limit.warning"]
  filter       = "data.current_usage >= data.limit * 0.9"
  transform    = "{used: data.current_usage, limit: data.limit}"
  destinations = ["alerts"]
}
route "generic_alerts" {
  source       = "generic"
  filter       = "$headers['x-priority'] == 'high' || ($body.status ?? '') in ['failed', 'FAILED']"
  transform    = "{event: $event, source: $source, keys: keys($body), data: $body.data ?? nil}"
  destinations = ["alerts"]
}
route "archive" {
  sources      = ["influship", "generic"]
  destinations = ["warehouse"]
}
`

// fuzzSecrets are the sources' HMAC keys, by path.
var fuzzSecrets = map[string]struct {
	header, secret, prefix string
	base64                 bool
}{
	"/in/influship": {header: "X-Influship-Signature", secret: "fuzz-influship-secret"},
	"/in/generic":   {header: "X-Signature", secret: "fuzz-generic-secret", prefix: "sha256=", base64: true},
}

// fuzzSign sets the signature header of the source at path for body.
func fuzzSign(h http.Header, path string, body []byte) {
	s, ok := fuzzSecrets[path]
	if !ok {
		return
	}
	m := hmac.New(sha256.New, []byte(s.secret))
	m.Write(body)
	sig := hex.EncodeToString(m.Sum(nil))
	if s.base64 {
		sig = base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	h.Set(s.header, s.prefix+sig)
}

// fuzzStore is a Store whose answer the fuzzer picks: stored, duplicate or
// failed.
type fuzzStore struct{ fault byte }

func (s fuzzStore) Accept(_ context.Context, ev *store.Event, ds []*store.Delivery, _ *store.Dedupe) (string, error) {
	if ev == nil {
		return "", errors.New("no event")
	}
	for _, d := range ds {
		if d == nil || d.EventID != ev.ID {
			return "", errors.New("a delivery of another event")
		}
	}
	switch s.fault % 3 {
	case 1:
		return "evt_first", store.ErrDuplicate
	case 2:
		return "", errors.New("disk full")
	}
	return ev.ID, nil
}

// specStatuses are the answers SPEC gives ingest requests.
var specStatuses = map[int]bool{202: true, 200: true, 401: true, 400: true, 422: true, 413: true, 404: true, 405: true, 503: true}

// parseFuzzHeaders reads "Name: value" lines, keeping what net/http would
// hand a handler: token names and values without control characters.
func parseFuzzHeaders(raw string) http.Header {
	h := http.Header{}
	for _, line := range strings.Split(raw, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.IndexFunc(name, func(r rune) bool {
			return r <= ' ' || r >= 0x7f || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r)
		}) >= 0 || strings.IndexFunc(value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) >= 0 {
			continue
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return h
}

// FuzzIngest sends whole requests (method, path, headers, body, whether it
// is signed, what the store answers) through the ingest handler and its
// stages: verify, challenge, JSON, schemas, routing with filters and
// transforms, store. It must never panic, and answer only with the statuses
// SPEC gives ingest. The seeds are the example events under
// examples/*/events, signed, and broken variants of them.
func FuzzIngest(f *testing.F) {
	cfg, diags := (&config.Loader{LookupEnv: func(string) (string, bool) { return "", false }}).LoadBytes([]byte(fuzzConfig), "fuzz.hcl")
	if diags.HasErrors() {
		f.Fatal(diags.Error())
	}
	f.Cleanup(func() { cfg.Close() })

	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*", "events", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no example events: %v", err)
	}
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		path, header := "/in/generic", "X-Priority: high\nWebhook-Id: msg_1"
		if strings.Contains(file, "influship") {
			path, header = "/in/influship", "X-Influship-Event: "+strings.TrimSuffix(filepath.Base(file), ".json")
			if filepath.Base(file) == "webhook_verify.json" {
				header = "X-Influship-Event: webhook.verify"
			}
		}
		f.Add(http.MethodPost, path, header, body, true, byte(0))
		f.Add(http.MethodPost, path, header, body, true, byte(1))
		f.Add(http.MethodPost, path, header, body, true, byte(2))
		f.Add(http.MethodPost, path, header+"\nX-Influship-Signature: 00\nX-Signature: sha256=AA==", body, false, byte(0))
		f.Add(http.MethodPost, path, header, body[:len(body)/2], true, byte(0))
	}
	f.Add(http.MethodGet, "/in/influship", "", []byte(nil), true, byte(0))
	f.Add(http.MethodPost, "/in/nowhere", "", []byte(`{}`), true, byte(0))
	f.Add(http.MethodPost, "/in/generic", "", []byte(strings.Repeat("x", 5000)), true, byte(0))
	f.Add(http.MethodPost, "/in/generic", "", []byte(`[1, 2]`), true, byte(0))
	f.Add(http.MethodPost, "/in/influship", "X-Influship-Event: webhook.verify", []byte(`{"challenge": {"a": [1]}}`), true, byte(0))
	f.Add(http.MethodPost, "/in/influship", "", []byte(`{"event": "creator.updated", "timestamp": "yesterday", "data": 7}`), true, byte(0))

	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, method, path, header string, body []byte, signed bool, fault byte) {
		h := &ingest.Handler{
			Current: func() *config.Config { return cfg },
			Store:   fuzzStore{fault: fault},
			Now:     func() time.Time { return now },
		}
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		req.Method, req.URL.Path, req.RequestURI = method, path, ""
		req.Header = parseFuzzHeaders(header)
		if signed {
			fuzzSign(req.Header, path, body)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !specStatuses[rec.Code] {
			t.Fatalf("%s %q answered %d: %s", method, path, rec.Code, rec.Body)
		}
	})
}
