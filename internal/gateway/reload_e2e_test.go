package gateway_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	adminapi "github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/testutil"
)

// reloadConfig is a config for TestReload: the route "all" sends partner's
// events to routeTo; extra is appended.
func reloadConfig(ingest, admin, aURL, routeTo, extra string) string {
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
destination "a" {
  url           = %q
  allow_private = true
  timeout       = "2s"
}
route "all" {
  source       = "partner"
  destinations = [%q]
}
%s`, ingest, admin, adminToken, aURL, routeTo, extra)
}

// TestReload: a SIGHUP applies a rewritten config (the route now sends to a
// new destination; a new source path answers); a broken config is refused,
// by POST /api/reload with its diagnostics and by SIGHUP with them in the
// log, and the running rules keep working.
func TestReload(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	dir := t.TempDir()
	a, b := newSink(t), newSink(t)
	ingest, admin := freeAddr(t), freeAddr(t)
	path := filepath.Join(dir, "config.hcl")
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(reloadConfig(ingest, admin, a.srv.URL+"/hooks", "a", ""))
	proc := start(t, path, ingest, admin)
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		proc.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- proc.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("exit: %v", err)
			}
		case <-time.After(10 * time.Second):
			proc.cmd.Process.Kill()
			<-done
			t.Errorf("did not stop within 10s of SIGTERM")
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("gateway logs:\n%s", proc.logs)
		}
	})

	send := func(path, id string) int {
		t.Helper()
		body := []byte(fmt.Sprintf(`{"identifier":%q}`, id))
		req, _ := http.NewRequest("POST", "http://"+ingest+path, bytes.NewReader(body))
		req.Header.Set("X-Signature", sign(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	received := func(s *sink, id string) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.seen[id] > 0
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		testutil.Eventually(t, 0, what, testutil.Holds(cond))
	}

	if code := send("/in/partner", "before"); code != 202 {
		t.Fatalf("before the reload: status %d", code)
	}
	waitFor("the first event at a", func() bool { return received(a, "before") })
	if code := send("/in/other", "nothing-here"); code != 404 {
		t.Fatalf("a path no source has: status %d, want 404", code)
	}

	// Rewrite: the route sends to b, and a new source listens on /in/other.
	extra := fmt.Sprintf(`
destination "b" {
  url           = %q
  allow_private = true
  timeout       = "2s"
}
source "other" {
  path = "/in/other"
  verify "hmac" {
    header = "X-Signature"
    secret = "e2e-secret"
  }
}
route "other" {
  source       = "other"
  destinations = ["b"]
}
`, b.srv.URL+"/hooks")
	good := reloadConfig(ingest, admin, a.srv.URL+"/hooks", "b", extra)
	write(good)
	if err := proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The reload is done when the new path answers.
	waitFor("the new source path to answer", func() bool { return send("/in/other", "probe") != 404 })
	if code := send("/in/other", "other-1"); code != 202 {
		t.Fatalf("the new source: status %d, want 202", code)
	}
	if code := send("/in/partner", "after"); code != 202 {
		t.Fatalf("after the reload: status %d", code)
	}
	waitFor("the events at b", func() bool { return received(b, "after") && received(b, "other-1") })
	if received(a, "after") {
		t.Error("an event sent after the reload reached a")
	}

	// An identical file is no reload.
	var same adminapi.Reload
	if code := api(t, "POST", "http://"+admin+"/api/reload", adminToken, &same); code != 200 || same.Reloaded || same.ConfigHash == "" {
		t.Fatalf("identical reload: %d %+v", code, same)
	}
	if code := api(t, "POST", "http://"+admin+"/api/reload", "", nil); code != 401 {
		t.Errorf("reload without the token: %d, want 401", code)
	}

	// A broken config: the route names a destination that does not exist.
	broken := strings.Replace(good, `destinations = ["b"]`, `destinations = ["nope"]`, 1)
	line := 1 + strings.Count(broken[:strings.Index(broken, `["nope"]`)], "\n")
	write(broken)
	var refused adminapi.ReloadRefused
	if code := api(t, "POST", "http://"+admin+"/api/reload", adminToken, &refused); code != 422 {
		t.Fatalf("broken reload: status %d, want 422: %+v", code, refused)
	}
	want := fmt.Sprintf("config.hcl:%d:", line)
	found := false
	for _, d := range refused.Diagnostics {
		found = found || strings.Contains(d.Range, want)
	}
	if !found || !strings.Contains(refused.Text, want) || refused.Error == "" {
		t.Fatalf("no diagnostic at %s: %+v", want, refused)
	}

	// The same broken file by SIGHUP: refused too (counted, logged).
	if err := proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("the SIGHUP reload to be refused", func() bool {
		_, m := getMetrics(t, "http://"+admin, adminToken)
		return strings.Contains(m, `hookgate_config_reloads_total{result="error"} 2`)
	})
	if !strings.Contains(proc.logs.String(), want) {
		t.Errorf("the logs do not show the diagnostic at %s", want)
	}

	// The running rules are still those of the good config.
	if code := send("/in/partner", "after-broken"); code != 202 {
		t.Fatalf("after the refused reload: status %d", code)
	}
	waitFor("the event after the refused reload at b", func() bool { return received(b, "after-broken") })

	// One reload of each result was counted.
	_, metrics := getMetrics(t, "http://"+admin, adminToken)
	for _, want := range []string{
		`hookgate_config_reloads_total{result="ok"} 1`,
		`hookgate_config_reloads_total{result="error"} 2`,
		`hookgate_config_reloads_total{result="unchanged"} 1`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	stop()
	logs := proc.logs.String()
	for _, want := range []string{"config reloaded", "route all changed", "destination b added", "source other added", "config reload refused"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs do not say %q", want)
		}
	}
}
