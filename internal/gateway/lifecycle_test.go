package gateway_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/gateway"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"
)

// An attempt still in flight at the shutdown deadline finishes and records
// its outcome before the store closes: the delivery is delivered, not left
// leased for a restart.
func TestShutdownWaitsForTheLastAttempt(t *testing.T) {
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	recv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.WriteHeader(http.StatusOK)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go recv.Serve(ln)
	t.Cleanup(func() { recv.Close() })

	dir := t.TempDir()
	src := fmt.Sprintf(`
gateway {
  listen           = "127.0.0.1:0"
  admin_listen     = "127.0.0.1:0"
  shutdown_timeout = "1s"
}
storage "embedded" { path = %q }
source "s" { path = "/in/s" }
destination "slow" {
  url           = "http://%s/hook"
  allow_private = true
  timeout       = "5m"
}
route "r" {
  source       = "s"
  destinations = ["slow"]
}
`, filepath.Join(dir, "s.db"), ln.Addr())
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(src), filepath.Join(dir, "config.hcl"))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	t.Cleanup(func() { cfg.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- gateway.Run(ctx, cfg, gateway.Options{Ready: func(ingest, _ string) { ready <- ingest }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	resp, err := http.Post("http://"+addr+"/in/s", "application/json", strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest answered %d", resp.StatusCode)
	}
	<-entered // the attempt is in flight
	cancel()
	// Run is still waiting for the attempt, past its shutdown timeout:
	// let the receiver answer only after that timeout has surely passed
	// for the gateway (it started before cancel).
	time.AfterFunc(1500*time.Millisecond, func() { close(release) })
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	st, err := embedded.Open(filepath.Join(dir, "s.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, err := st.Deliveries(context.Background(), store.Query{})
	if err != nil || len(page.Deliveries) != 1 {
		t.Fatalf("Deliveries = %v, %v", page.Deliveries, err)
	}
	if d := page.Deliveries[0]; d.Status != store.Delivered || d.Attempts != 1 {
		t.Errorf("after shutdown the delivery is %s with %d attempts, want delivered with 1", d.Status, d.Attempts)
	}
}
