package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/gateway"
)

// TestAdminServerLimits: the admin server refuses request headers over
// 64 KiB (MaxHeaderBytes), before any handler or login reads them.
func TestAdminServerLimits(t *testing.T) {
	dir := t.TempDir()
	src := fmt.Sprintf(`
gateway {
  listen       = "127.0.0.1:0"
  admin_listen = "127.0.0.1:0"
  admin_token  = %q
}
storage "embedded" { path = %q }
`, adminToken, filepath.Join(dir, "h.db"))
	cfg, diags := (&config.Loader{}).LoadBytes([]byte(src), filepath.Join(dir, "config.hcl"))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	t.Cleanup(func() { cfg.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- gateway.Run(ctx, cfg, gateway.Options{Ready: func(_, adminAddr string) { ready <- adminAddr }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}

	for _, tc := range []struct {
		size int
		want int
	}{
		{1 << 10, http.StatusOK},
		{100 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/stats", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("X-Padding", strings.Repeat("p", tc.size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("a %d-byte header: %d, want %d", tc.size, resp.StatusCode, tc.want)
		}
	}
}

// getMetrics scrapes base/metrics with the admin token (when not "").
func getMetrics(t *testing.T, base, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}
