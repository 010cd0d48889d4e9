package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"
)

const testAdminToken = "cli-admin-s3cret"

// adminFixture is a real admin API over an embedded store holding two
// deliveries to "orders" (one pending) and one dead delivery to "billing".
type adminFixture struct {
	url                  string
	pending, dead, dead2 string
}

// adminConfig is the config the admin command tests serve: one source,
// two destinations (orders, billing) and a route to both.
const adminConfig = `
gateway {
  listen       = "127.0.0.1:0"
  admin_listen = "127.0.0.1:0"
  admin_token  = "` + testAdminToken + `"
}
storage "embedded" { path = "data/h.db" }
source "partner" {
  path = "/in/partner"
  verify "hmac" { secret = "partner-secret" }
}
destination "orders" {
  url           = "http://127.0.0.1:1/orders"
  allow_private = true
}
destination "billing" {
  url           = "http://127.0.0.1:1/billing"
  allow_private = true
}
route "all" {
  source       = "partner"
  destinations = ["orders", "billing"]
}
`

// newAdminStore loads adminConfig and opens an embedded store on the clock
// now (nil: time.Now), both closed when the test ends.
func newAdminStore(t *testing.T, now func() time.Time) (*config.Config, *embedded.Store) {
	t.Helper()
	l := &config.Loader{LookupEnv: func(string) (string, bool) { return "", false }}
	cfg, diags := l.LoadBytes([]byte(adminConfig), filepath.Join(t.TempDir(), "config.hcl"))
	if cfg == nil || diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	t.Cleanup(func() { cfg.Close() })
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), embedded.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return cfg, st
}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	cfg, st := newAdminStore(t, nil)

	ctx := context.Background()
	f := &adminFixture{}
	put := func(dest, body string) string {
		now := time.Now()
		ev := &store.Event{ID: ids.New(ids.Event, now), Source: "partner", EventType: "order.created", ReceivedAt: now, Body: []byte(body)}
		d := &store.Delivery{ID: ids.New(ids.Delivery, now), Route: "all", Destination: dest, Body: []byte(body), CreatedAt: now}
		if _, err := st.Accept(ctx, ev, []*store.Delivery{d}, nil); err != nil {
			t.Fatal(err)
		}
		return d.ID
	}
	f.pending = put("orders", `{"n":1}`)
	put("orders", `{"n":2}`)
	f.dead = put("billing", `{"n":3,"what":"dead"}`)
	claimed, err := st.Claim(ctx, "billing", time.Now().Add(time.Second), 10, time.Minute)
	if err != nil || len(claimed) != 1 || claimed[0].ID != f.dead {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	err = st.Complete(ctx, f.dead, store.Outcome{
		Attempt:    store.Attempt{N: 1, At: time.Now(), StatusCode: 503, Latency: 42 * time.Millisecond, Error: "receiver answered 503"},
		Status:     store.Dead,
		DeadReason: "retries exhausted",
	})
	if err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer((&admin.Server{Current: func() *config.Config { return cfg }, Store: st}).Handler())
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// runAdmin runs hookgate with args and the given environment variables.
func runAdmin(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
	}
	code = Main(context.Background(), args, env)
	if strings.Contains(out.String(), testAdminToken) || strings.Contains(errb.String(), testAdminToken) {
		t.Fatalf("%v printed the admin token", args)
	}
	return code, out.String(), errb.String()
}

func TestAdminCommands(t *testing.T) {
	f := newAdminFixture(t)
	auth := []string{"-admin", f.url, "-token", testAdminToken}
	ok := func(args ...string) string {
		t.Helper()
		code, out, errOut := runAdmin(t, nil, append(args, auth...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d, stderr:\n%s", args, code, errOut)
		}
		return out
	}

	t.Run("list", func(t *testing.T) {
		out := ok("deliveries")
		for _, want := range []string{"ID", "STATUS", "DESTINATION", f.pending, f.dead, "pending", "dead", "billing", "503"} {
			if !strings.Contains(out, want) {
				t.Errorf("missing %q in:\n%s", want, out)
			}
		}
		if strings.Contains(out, "next page") {
			t.Errorf("a single page shows a cursor:\n%s", out)
		}
	})
	t.Run("status filter", func(t *testing.T) {
		out := ok("deliveries", "-status", "dead")
		if !strings.Contains(out, f.dead) || strings.Contains(out, f.pending) || strings.Contains(out, "pending") {
			t.Errorf("-status dead:\n%s", out)
		}
	})
	t.Run("destination filter and paging", func(t *testing.T) {
		out := ok("deliveries", "-destination", "orders", "-limit", "1")
		if strings.Contains(out, f.dead) || !strings.Contains(out, "next page: -cursor ") {
			t.Fatalf("-destination orders -limit 1:\n%s", out)
		}
		cursor := strings.TrimSpace(out[strings.LastIndex(out, "-cursor ")+len("-cursor "):])
		out2 := ok("deliveries", "-destination", "orders", "-limit", "1", "-cursor", cursor)
		if strings.Contains(out2, "next page") || strings.Count(out2, "orders") != 1 {
			t.Errorf("second page:\n%s", out2)
		}
	})
	t.Run("json", func(t *testing.T) {
		out := ok("deliveries", "-json")
		var page struct {
			Deliveries []map[string]any `json:"deliveries"`
		}
		if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Deliveries) != 3 {
			t.Fatalf("-json: %v, %d deliveries:\n%s", err, len(page.Deliveries), out)
		}
	})
	t.Run("show", func(t *testing.T) {
		// Flags after the id too.
		code, out, errOut := runAdmin(t, nil, append([]string{"deliveries", "show", f.dead}, auth...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{f.dead, "retries exhausted", "N", "LATENCY", "503", "42ms", "receiver answered 503", `"what": "dead"`} {
			if !strings.Contains(out, want) {
				t.Errorf("missing %q in:\n%s", want, out)
			}
		}
		out = ok("deliveries", "show", f.dead, "-json")
		if !json.Valid([]byte(out)) || !strings.Contains(out, "attempt_log") {
			t.Errorf("show -json:\n%s", out)
		}
	})
	t.Run("show missing", func(t *testing.T) {
		code, _, errOut := runAdmin(t, nil, append([]string{"deliveries", "show", "dlv_nope"}, auth...)...)
		if code != 1 || !strings.Contains(errOut, "hookgate deliveries: 404 Not Found: not found") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("dlq list", func(t *testing.T) {
		out := ok("dlq", "list")
		if !strings.Contains(out, f.dead) || strings.Contains(out, f.pending) || strings.Count(out, "\n") != 2 {
			t.Errorf("dlq list:\n%s", out)
		}
	})
	t.Run("dlq export", func(t *testing.T) {
		out := ok("dlq", "export")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 1 || !json.Valid([]byte(lines[0])) || !strings.Contains(lines[0], f.dead) {
			t.Fatalf("export:\n%s", out)
		}
		path := filepath.Join(t.TempDir(), "dlq.ndjson")
		if out := ok("dlq", "export", "-o", path); out != "" {
			t.Errorf("-o wrote to stdout: %q", out)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != lines[0]+"\n" {
			t.Errorf("-o file: %v %q", err, b)
		}
	})
	t.Run("events export", func(t *testing.T) {
		out := ok("events", "export")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		for _, l := range lines {
			if !json.Valid([]byte(l)) || !strings.Contains(l, `"source"`) {
				t.Fatalf("export line %q of:\n%s", l, out)
			}
		}
		path := filepath.Join(t.TempDir(), "events.ndjson")
		if out := ok("events", "export", "-o", path); out != "" {
			t.Errorf("-o wrote to stdout: %q", out)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != out {
			t.Errorf("-o file: %v %q, want what stdout had: %q", err, b, out)
		}
	})
	// Last: it changes the dead delivery.
	t.Run("dlq replay", func(t *testing.T) {
		if out := ok("dlq", "replay", "-destination", "billing"); !strings.Contains(out, "replayed 1") {
			t.Errorf("replay: %q", out)
		}
		if out := ok("dlq", "list"); strings.Contains(out, f.dead) {
			t.Errorf("still dead after replay:\n%s", out)
		}
		code, _, errOut := runAdmin(t, nil, append([]string{"dlq", "replay", "-destination", "nope"}, auth...)...)
		if code != 1 || !strings.Contains(errOut, "hookgate dlq replay: 404 Not Found: no destination named") {
			t.Errorf("unknown destination: exit %d, %q", code, errOut)
		}
	})
}

func TestAdminAuth(t *testing.T) {
	f := newAdminFixture(t)
	noConfig := map[string]string{"HOOKGATE_CONFIG": filepath.Join(t.TempDir(), "missing.hcl")}

	code, out, errOut := runAdmin(t, noConfig, "deliveries", "-admin", f.url, "-token", "wrong")
	if code != 1 || out != "" || !strings.Contains(errOut, "hookgate deliveries: 401 Unauthorized: a valid admin token is required") {
		t.Errorf("wrong token: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = runAdmin(t, noConfig, "deliveries", "-admin", f.url)
	if code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("no token: exit %d, stderr %q", code, errOut)
	}

	// URL and token from the environment.
	vars := map[string]string{"HOOKGATE_ADMIN_URL": f.url, "HOOKGATE_ADMIN_TOKEN": testAdminToken, "HOOKGATE_CONFIG": noConfig["HOOKGATE_CONFIG"]}
	code, out, errOut = runAdmin(t, vars, "dlq", "list")
	if code != 0 || !strings.Contains(out, f.dead) {
		t.Errorf("env token: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// A flag beats the environment.
	code, _, errOut = runAdmin(t, vars, "dlq", "list", "-token", "wrong")
	if code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("-token over env: exit %d, stderr %q", code, errOut)
	}
}

func TestAdminURLFromConfig(t *testing.T) {
	f := newAdminFixture(t)
	addr := strings.TrimPrefix(f.url, "http://")
	_, port, _ := strings.Cut(addr, ":")
	path := filepath.Join(t.TempDir(), "config.hcl")
	src := `
gateway {
  listen       = "127.0.0.1:18080"
  admin_listen = "0.0.0.0:` + port + `"
  admin_token  = env("TOKEN_FOR_TEST")
}
storage "embedded" { path = "data/h.db" }
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"TOKEN_FOR_TEST": testAdminToken}
	code, out, errOut := runAdmin(t, vars, "deliveries", "-status", "dead", "-config", path)
	if code != 0 || !strings.Contains(out, f.dead) {
		t.Errorf("from config: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestAdminGatewayDown(t *testing.T) {
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close() // nothing listens there now
	code, out, errOut := runAdmin(t, nil, "dlq", "list", "-admin", url, "-token", "t")
	if code != 1 || out != "" || !strings.Contains(errOut, "is the gateway running? (admin API at "+url+")") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Without a loadable config: the default URL, no token, no diagnostics.
	c := newAdminClient(&Env{LookupEnv: func(string) (string, bool) { return "", false }}, "deliveries",
		adminFlags{url: new(string), token: new(string), config: ptr(filepath.Join(t.TempDir(), "none.hcl")), timeout: new(time.Duration)})
	if c.base != defaultAdminURL || c.token != "" {
		t.Errorf("fallback: %q, token set: %v", c.base, c.token != "")
	}
}

func ptr[T any](v T) *T { return &v }
