package gateway

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/delivery"
)

// TestReloadKeepsAdminClosed: a reload that would leave the running admin
// address, kept until a restart, without a token is refused when that
// address is not loopback, whatever the new file's own admin_listen says;
// on loopback it is applied.
func TestReloadKeepsAdminClosed(t *testing.T) {
	const running = `
gateway {
  listen       = "127.0.0.1:8080"
  admin_listen = %q
  admin_token  = "running-t0ken"
}
storage "embedded" { path = "a.db" }
`
	for _, tc := range []struct {
		name, admin, next string
		refused           bool
	}{
		{"public, new file has neither", "0.0.0.0:8081", `
gateway { listen = "127.0.0.1:8080" }
storage "embedded" { path = "a.db" }
`, true},
		{"public, new file moves to loopback", "[::]:8081", `
gateway {
  listen       = "127.0.0.1:8080"
  admin_listen = "127.0.0.1:8081"
}
storage "embedded" { path = "a.db" }
`, true},
		{"public, new token", "0.0.0.0:8081", `
gateway {
  listen       = "127.0.0.1:8080"
  admin_listen = "0.0.0.0:8081"
  admin_token  = "new-t0ken"
}
storage "embedded" { path = "a.db" }
`, false},
		{"loopback, token dropped", "127.0.0.1:8081", `
gateway { listen = "127.0.0.1:8080" }
storage "embedded" { path = "a.db" }
`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.hcl")
			l := &config.Loader{LookupEnv: func(string) (string, bool) { return "", false }}
			src := strings.Replace(running, "%q", `"`+tc.admin+`"`, 1)
			cur, diags := l.LoadBytes([]byte(src), path)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			t.Cleanup(func() { cur.Close() })
			if err := os.WriteFile(path, []byte(tc.next), 0o644); err != nil {
				t.Fatal(err)
			}
			var logs strings.Builder
			g := &Gateway{
				opts:   Options{Path: path, NewLoader: func() *config.Loader { return &config.Loader{LookupEnv: l.LookupEnv} }},
				log:    slog.New(slog.NewTextHandler(&logs, nil)),
				engine: delivery.New(nil, delivery.Options{}),
			}
			g.current.Store(cur)
			g.initReload(cur)
			t.Cleanup(g.closeRetired)

			_, err := g.reload(context.Background())
			var rerr *admin.ReloadError
			if !tc.refused {
				if err != nil {
					t.Fatalf("reload: %v", err)
				}
				if got := g.current.Load().Gateway.AdminListen; got != tc.admin {
					t.Errorf("admin_listen %q after the reload, want the running %q", got, tc.admin)
				}
				return
			}
			if !errors.As(err, &rerr) {
				t.Fatalf("reload: %v, want it refused with a diagnostic", err)
			}
			if g.current.Load() != cur {
				t.Error("the refused config was swapped in")
			}
			if !strings.Contains(rerr.Text, tc.admin) || !strings.Contains(rerr.Text, "admin_token") {
				t.Errorf("diagnostic %q does not name the running address and admin_token", rerr.Text)
			}
			if strings.Contains(rerr.Text+logs.String(), "running-t0ken") {
				t.Error("the diagnostic or the log shows the running token")
			}
		})
	}
}
