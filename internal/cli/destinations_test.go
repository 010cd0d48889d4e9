package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/store/embedded"
)

// TestDestinationsTest sends test events through a real admin server, store
// and delivery engine to a loopback receiver.
func TestDestinationsTest(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	var lastBody atomic.Value
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		lastBody.Store(string(b))
		w.WriteHeader(int(status.Load()))
		io.WriteString(w, "ok from the receiver")
	}))
	defer recv.Close()
	src := `
gateway {
  listen       = "127.0.0.1:0"
  admin_listen = "127.0.0.1:0"
  admin_token  = "` + testAdminToken + `"
}
storage "embedded" { path = "data/h.db" }
schema "ping" {
  field "kind" {
    type = "string"
    enum = ["ping"]
  }
  field "n" { type = "integer" }
}
source "partner" {
  path       = "/in/partner"
  event_type = "kind"
  schemas    = { ping = "ping" }
  verify "hmac" { secret = "partner-secret" }
}
destination "team" {
  url           = "` + recv.URL + `/hook"
  allow_private = true
  timeout       = "2s"
  retry {
    schedule = ["1h"]
    jitter   = "0%"
  }
}
route "all" {
  source       = "partner"
  destinations = ["team"]
}
`
	l := &config.Loader{LookupEnv: func(string) (string, bool) { return "", false }}
	cfg, diags := l.LoadBytes([]byte(src), filepath.Join(t.TempDir(), "config.hcl"))
	if cfg == nil || diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	defer cfg.Close()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng := delivery.New(st, delivery.Options{Poll: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx, cfg.Destinations) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the engine did not stop")
		}
	}()
	srv := httptest.NewServer((&admin.Server{Current: func() *config.Config { return cfg }, Store: st, Notify: eng.Notify}).Handler())
	defer srv.Close()
	auth := []string{"-admin", srv.URL, "-token", testAdminToken}
	vars := map[string]string{"TZ": "UTC"}

	code, out, errOut := runAdmin(t, vars, append([]string{"destinations", "test", "team"}, auth...)...)
	if code != 0 || !strings.Contains(out, "status:       delivered") || !strings.Contains(out, "ok from the receiver") ||
		!strings.Contains(out, "route:        @test") {
		t.Errorf("sample: exit %d, stderr %q:\n%s", code, errOut, out)
	}
	if got, _ := lastBody.Load().(string); got != `{"kind":"ping","n":1}` {
		t.Errorf("the receiver got %q", got)
	}

	path := filepath.Join(t.TempDir(), "body.json")
	os.WriteFile(path, []byte(`{"kind":"ping","n":7}`), 0o644)
	status.Store(http.StatusServiceUnavailable)
	code, out, _ = runAdmin(t, vars, append([]string{"destinations", "test", "team", "-body", path, "-json"}, auth...)...)
	var d api.Delivery
	if code != 1 || json.Unmarshal([]byte(out), &d) != nil || d.Status != "retrying" || d.LastStatus != 503 {
		t.Errorf("failing receiver: exit %d:\n%s", code, out)
	}
	if got, _ := lastBody.Load().(string); got != `{"kind":"ping","n":7}` {
		t.Errorf("the receiver got %q", got)
	}

	code, _, errOut = runAdmin(t, vars, append([]string{"destinations", "test", "nope"}, auth...)...)
	if code != 1 || !strings.Contains(errOut, `404 Not Found: no destination named "nope"`) {
		t.Errorf("unknown destination: exit %d, %q", code, errOut)
	}
	if code, _, _ := runAdmin(t, vars, "destinations"); code != 2 {
		t.Errorf("no subcommand: exit %d, want 2", code)
	}
}
