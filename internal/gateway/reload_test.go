package gateway

import (
	"slices"
	"testing"

	"github.com/hookgate/hookgate/internal/config"
)

// TestKeepRestartOnly: settings only a restart applies keep their running
// values in the new config and are named; the rest (here the retention)
// apply at once.
func TestKeepRestartOnly(t *testing.T) {
	load := func(src string) *config.Config {
		t.Helper()
		l := &config.Loader{LookupEnv: func(string) (string, bool) { return "", false }}
		cfg, diags := l.LoadBytes([]byte(src), "config.hcl")
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		return cfg
	}
	cur := load(`
gateway {
  listen       = "127.0.0.1:8080"
  admin_listen = "127.0.0.1:8081"
  workers      = 8
}
storage "embedded" {
  path      = "a.db"
  retention = "72h"
}
telemetry { otlp_endpoint = "127.0.0.1:4317" }
`)
	next := load(`
gateway {
  listen       = "127.0.0.1:9080"
  admin_listen = "127.0.0.1:9081"
  workers      = 16
}
storage "embedded" {
  path      = "b.db"
  retention = "24h"
}
telemetry {
  otlp_endpoint = "127.0.0.1:4317"
  sample_ratio  = 0.1
}
`)
	got := keepRestartOnly(cur, next)
	want := []string{"listen", "admin_listen", "workers", "telemetry", "storage"}
	if !slices.Equal(got, want) {
		t.Errorf("restart needed for %v, want %v", got, want)
	}
	if next.Gateway != cur.Gateway || next.Telemetry != cur.Telemetry || next.Storage.Path != "a.db" {
		t.Errorf("the running values were not kept: %+v %+v %+v", next.Gateway, next.Telemetry, next.Storage)
	}
	if next.Storage.Retention != cur.Storage.Retention/3 {
		t.Errorf("retention %s, want the new 24h (it applies without a restart)", next.Storage.Retention)
	}
	if again := keepRestartOnly(cur, next); len(again) != 0 {
		t.Errorf("after keeping them, restart needed for %v, want none", again)
	}
}
