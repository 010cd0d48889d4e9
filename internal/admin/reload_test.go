package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/config"
)

func TestReloadRoute(t *testing.T) {
	l := &config.Loader{LookupEnv: func(string) (string, bool) { return "", false }}
	cfg, diags := l.LoadBytes([]byte(`
gateway {
  listen       = "127.0.0.1:0"
  admin_listen = "127.0.0.1:0"
  admin_token  = "reload-admin-token"
}
storage "embedded" { path = "data/h.db" }
`), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var answer func() (admin.ReloadResult, error)
	srv := httptest.NewServer((&admin.Server{
		Current: func() *config.Config { return cfg },
		Reload:  func(context.Context) (admin.ReloadResult, error) { return answer() },
	}).Handler())
	defer srv.Close()
	post := func(token string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", srv.URL+"/api/reload", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}

	answer = func() (admin.ReloadResult, error) {
		t.Error("reload without the token")
		return admin.ReloadResult{}, nil
	}
	if code, _ := post(""); code != http.StatusUnauthorized {
		t.Errorf("without the token: %d, want 401", code)
	}

	answer = func() (admin.ReloadResult, error) {
		return admin.ReloadResult{Reloaded: true, ConfigHash: "abc", RestartNeeded: []string{"listen"}}, nil
	}
	code, out := post("reload-admin-token")
	if code != 200 || out["reloaded"] != true || out["config_hash"] != "abc" {
		t.Errorf("reload: %d %v", code, out)
	}
	if rn, _ := out["restart_needed"].([]any); len(rn) != 1 || rn[0] != "listen" {
		t.Errorf("restart_needed %v", out["restart_needed"])
	}

	answer = func() (admin.ReloadResult, error) { return admin.ReloadResult{ConfigHash: "abc"}, nil }
	if code, out := post("reload-admin-token"); code != 200 || out["reloaded"] != false || out["restart_needed"] == nil {
		t.Errorf("identical: %d %v", code, out)
	}

	answer = func() (admin.ReloadResult, error) {
		return admin.ReloadResult{}, &admin.ReloadError{
			Diagnostics: hcl.Diagnostics{{
				Severity: hcl.DiagError, Summary: "Unknown destination", Detail: `no destination "x"`,
				Subject: &hcl.Range{Filename: "config.hcl", Start: hcl.Pos{Line: 7, Column: 3}},
			}},
			Text: "config.hcl:7:3: Unknown destination\n",
		}
	}
	code, out = post("reload-admin-token")
	ds, _ := out["diagnostics"].([]any)
	if code != http.StatusUnprocessableEntity || len(ds) != 1 || !strings.HasPrefix(out["text"].(string), "config.hcl:7:3") {
		t.Fatalf("broken config: %d %v", code, out)
	}
	if d := ds[0].(map[string]any); d["range"] != "config.hcl:7:3" || d["summary"] != "Unknown destination" {
		t.Errorf("diagnostic %v", d)
	}
}
