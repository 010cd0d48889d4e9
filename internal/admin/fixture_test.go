package admin_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"
	"github.com/hookgate/hookgate/internal/telemetry"
)

// The fixture's secrets: no answer of the admin server may contain any.
const (
	fxToken        = "fixture-admin-t0ken"
	fxSourceSecret = "source-s3cret-value"
	fxWhsecBytes   = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	fxHeaderSecret = "header-s3cret-value"
	fxURLSecret    = "url-s3cret-value"
	fxPathSecret   = "T0B0-p4th-s3cret" // the path of a Slack-style URL given by env()
	fxBrokerSecret = "br0ker-pw-s3cret" // the password in a redis_stream destination's URL (#19)
	// The provider presets' and rotation's secrets (#15).
	fxPrevWhsecBytes = "cHJldmlvdXMtczNjcmV0LXdoc2VjLWJ5dGVz" // previous_secret of a sign block
	fxGithubSecret   = "github-s3cret-new"                    // secrets = [...] on a preset, the first
	fxGithubOld      = "github-s3cret-old"                    // and the one being retired
	fxMetaSecret     = "meta-app-s3cret"
	fxMetaToken      = "meta-verify-t0ken" // verify_token
	fxTwilioToken    = "twilio-auth-t0ken"
)

var fxSecrets = []string{fxToken, fxSourceSecret, fxWhsecBytes, fxHeaderSecret, fxURLSecret, fxPathSecret,
	fxPrevWhsecBytes, fxGithubSecret, fxGithubOld, fxMetaSecret, fxMetaToken, fxTwilioToken, fxBrokerSecret}

// receiver is a loopback destination whose answer can be switched.
type receiver struct {
	*httptest.Server
	status atomic.Int32
	// delay makes the receiver slow: it answers after this long.
	delay atomic.Int64
	mu    sync.Mutex
	hits  []hit
}

type hit struct {
	header http.Header
	body   []byte
	at     time.Time
	status int
}

func newReceiver(t *testing.T, status int) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.status.Store(int32(status))
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		time.Sleep(time.Duration(rc.delay.Load()))
		code := int(rc.status.Load())
		rc.mu.Lock()
		rc.hits = append(rc.hits, hit{r.Header.Clone(), b, time.Now(), code})
		rc.mu.Unlock()
		w.WriteHeader(code)
		fmt.Fprintf(w, "receiver answered %d", code)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

// fixture is an admin server over a real embedded store, optionally with
// the real delivery engine, and a config with every kind of secret.
type fixture struct {
	url string
	// handler is the admin server's handler, for requests a real client
	// cannot make (another peer address).
	handler http.Handler
	cfg     *config.Config
	st      *embedded.Store
	orders  *receiver
	bill    *receiver
	// logs are what the admin server and the delivery engine logged.
	logs *fxLogs
}

// fxLogs is a log sink safe for the server's goroutines.
type fxLogs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *fxLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *fxLogs) bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

type fixtureOpts struct {
	token  string // "" for none
	engine bool
	now    func() time.Time
	// metrics serves /metrics.
	metrics bool
	// writeTimeout is the test server's WriteTimeout (0: none).
	writeTimeout time.Duration
}

const fxConfig = `
gateway {
  listen       = "127.0.0.1:0"
  admin_listen = "127.0.0.1:0"
  admin_token  = %q
}
storage "embedded" { path = "data/h.db" }

schema "order" {
  field "type" {
    type = "string"
    enum = ["order.created"]
  }
  field "status" {
    type = "string"
    enum = ["paid", "refunded"]
  }
  field "amount" { type = "number" }
  field "customer" {
    type = "object"
    field "id" { type = "string" }
    field "vip" { type = "boolean" }
  }
  field "items" {
    type = "array"
    field "sku" { type = "string" }
  }
  field "at" { type = "timestamp" }
}

source "shop" {
  path       = "/in/shop"
  event_type = "type"
  schemas    = { "order.created" = "order" }
  verify "hmac" { secret = %q }
}

destination "orders" {
  url           = %q
  headers       = { "X-Api-Key" = %q }
  allow_private = true
  timeout       = "2s"
  sign "standard_webhooks" {
    secret          = %q
    previous_secret = %q
    previous_until  = "2099-01-01T00:00:00Z"
  }
  retry {
    schedule = ["1h"]
    jitter   = "0%%"
  }
}

destination "billing" {
  url           = %q
  allow_private = true
  timeout       = "2s"
  retry {
    schedule = ["1h"]
    jitter   = "0%%"
  }
}

destination "alerts" {
  url           = env("ALERTS_URL")
  allow_private = true
}

destination "audit" {
  redis_stream {
    url    = env("AUDIT_URL")
    stream = "audit"
  }
  timeout = "2s"
  retry {
    schedule = ["1h"]
    jitter   = "0%%"
  }
}

source "github" {
  path = "/in/github"
  verify "github" { secrets = [%q, %q] }
}

source "meta" {
  path = "/in/meta"
  verify "meta" {
    secret       = %q
    verify_token = %q
  }
}

source "twilio" {
  path = "/in/twilio"
  verify "twilio" {
    secret = %q
    url    = "https://hooks.example.com/in/twilio"
  }
  respond {
    content_type = "application/xml"
    body         = "<Response/>"
  }
}

route "refunds" {
  source       = "shop"
  filter       = "status == 'refunded'"
  transform    = "{order: type, state: status, cents: amount * 100, customer: customer.id}"
  destinations = ["orders"]
}

route "ledger" {
  source       = "shop"
  destinations = ["billing"]
}
`

func newFixture(t *testing.T, o fixtureOpts) *fixture {
	t.Helper()
	f := &fixture{orders: newReceiver(t, http.StatusOK), bill: newReceiver(t, http.StatusOK), logs: &fxLogs{}}
	logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src := fmt.Sprintf(fxConfig, o.token, fxSourceSecret, f.orders.URL+"/hook?token="+fxURLSecret, fxHeaderSecret,
		"whsec_"+fxWhsecBytes, "whsec_"+fxPrevWhsecBytes, f.bill.URL+"/billing",
		fxGithubSecret, fxGithubOld, fxMetaSecret, fxMetaToken, fxTwilioToken)
	l := &config.Loader{LookupEnv: func(k string) (string, bool) {
		if k == "ALERTS_URL" {
			return f.bill.URL + "/services/" + fxPathSecret, true
		}
		if k == "AUDIT_URL" {
			// Nothing listens on port 1: every attempt fails, and its
			// error must not show the password.
			return "redis://:" + fxBrokerSecret + "@127.0.0.1:1/0", true
		}
		return "", false
	}}
	cfg, diags := l.LoadBytes([]byte(src), filepath.Join(t.TempDir(), "config.hcl"))
	if cfg == nil || diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	t.Cleanup(func() { cfg.Close() })
	f.cfg = cfg
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.st = st
	srv := &admin.Server{Current: func() *config.Config { return cfg }, Store: st, Now: o.now, Logger: logger}
	if o.engine {
		eng := delivery.New(st, delivery.Options{Poll: 50 * time.Millisecond, Logger: logger})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- eng.Run(ctx, cfg.Destinations) }()
		t.Cleanup(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Error("the delivery engine did not stop within 10s")
			}
		})
		srv.Notify = eng.Notify
		srv.Health = eng
	}
	if o.metrics {
		m, err := telemetry.NewMetrics()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Shutdown(context.Background()) })
		m.CountReload(context.Background(), "ok") // a series for /metrics to show
		srv.Metrics = m
	}
	f.handler = srv.Handler()
	hs := httptest.NewUnstartedServer(f.handler)
	hs.Config.WriteTimeout = o.writeTimeout
	hs.Start()
	t.Cleanup(hs.Close)
	t.Cleanup(func() { st.Close() }) // after the engine stops: cleanups run last first
	f.url = hs.URL
	return f
}

// seed stores one event with one delivery per destination, created at at,
// and returns the deliveries' ids.
func (f *fixture) seed(t *testing.T, at time.Time, eventType string, dests ...string) (string, []string) {
	t.Helper()
	ev := &store.Event{
		ID: ids.New(ids.Event, at), Source: "shop", EventType: eventType, ReceivedAt: at,
		Headers:     map[string]string{"content-type": "application/json", "x-note": "<script>alert(1)</script>"},
		Body:        []byte(`{"type":"order.created","note":"<script>alert(1)</script>"}`),
		TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	}
	var ds []*store.Delivery
	var out []string
	for _, d := range dests {
		route := "ledger"
		if d == "orders" {
			route = "refunds"
		}
		dl := &store.Delivery{ID: ids.New(ids.Delivery, at), Route: route, Destination: d, Body: ev.Body, CreatedAt: at}
		ds = append(ds, dl)
		out = append(out, dl.ID)
	}
	if _, err := f.st.Accept(context.Background(), ev, ds, nil); err != nil {
		t.Fatal(err)
	}
	return ev.ID, out
}

// finish records one attempt of the delivery with the given outcome (the
// store takes an outcome without a claim).
func (f *fixture) finish(t *testing.T, id string, at time.Time, code int, status store.Status) {
	t.Helper()
	o := store.Outcome{Attempt: store.Attempt{At: at, StatusCode: code, Latency: 25 * time.Millisecond,
		Error: "HTTP " + fmt.Sprint(code), Response: "<b>answer</b>"}, Status: status}
	switch status {
	case store.Dead:
		o.DeadReason = "HTTP 410 Gone"
	case store.Retrying:
		o.NextAttemptAt = at.Add(time.Hour)
	case store.Delivered:
		o.Attempt.Error = ""
	}
	if err := f.st.Complete(context.Background(), id, o); err != nil {
		t.Fatal(err)
	}
}

// call sends a request to the admin server with the token (when not "")
// and returns the status and body; it fails the test when the body shows a
// secret.
func call(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	noSecrets(t, method+" "+url, raw)
	return resp.StatusCode, raw
}

// getJSON calls GET url with the fixture token and decodes a 200 answer.
func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	code, raw := call(t, http.MethodGet, url, fxToken, "")
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, code, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, raw)
	}
}

func noSecrets(t *testing.T, what string, raw []byte) {
	t.Helper()
	for _, s := range fxSecrets {
		if strings.Contains(string(raw), s) {
			t.Errorf("%s shows the secret %q", what, s)
		}
	}
}

// verifyStandardWebhooks checks a webhook-signature header as a receiver
// would.
func verifyStandardWebhooks(t *testing.T, h http.Header, body []byte) {
	t.Helper()
	sig := func(secret string) string {
		key, err := base64.StdEncoding.DecodeString(secret)
		if err != nil {
			t.Fatal(err)
		}
		m := hmac.New(sha256.New, key)
		fmt.Fprintf(m, "%s.%s.%s", h.Get("Webhook-Id"), h.Get("Webhook-Timestamp"), body)
		return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	// The sign block rotates: the new secret's signature, then the
	// previous one's until previous_until.
	want := sig(fxWhsecBytes) + " " + sig(fxPrevWhsecBytes)
	if h.Get("Webhook-Signature") != want {
		t.Errorf("webhook-signature %q, want %q", h.Get("Webhook-Signature"), want)
	}
}
