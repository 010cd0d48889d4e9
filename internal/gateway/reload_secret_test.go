package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/plugins"
	_ "github.com/hookgate/hookgate/plugins/standard"
)

// TestReloadRereadsSecretFiles: a reload reads the files the config's
// file() calls read again, so a rotated secret file takes effect although
// config.hcl did not change; the reload says a secret file changed and
// shows neither secret. An untouched file is no reload; a vanished one
// refuses the reload and the running config stays.
func TestReloadRereadsSecretFiles(t *testing.T) {
	const oldSecret, newSecret = "old-s3cret-from-a-file", "new-s3cret-from-a-file"
	dir := t.TempDir()
	path := filepath.Join(dir, "config.hcl")
	secretPath := filepath.Join(dir, "secret.txt")
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(secretPath, oldSecret+"\n")
	write(path, `
gateway { listen = "127.0.0.1:8080" }
storage "embedded" { path = "a.db" }
source "partner" {
  path = "/in/partner"
  verify "hmac" {
    header = "X-Signature"
    secret = trimspace(file("secret.txt"))
  }
}
`)
	newLoader := func() *config.Loader {
		return &config.Loader{LookupEnv: func(string) (string, bool) { return "", false }}
	}
	cur, diags := newLoader().Load(path)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	t.Cleanup(func() { cur.Close() })
	var logs strings.Builder
	g := &Gateway{
		opts:   Options{Path: path, NewLoader: newLoader},
		log:    slog.New(slog.NewTextHandler(&logs, nil)),
		engine: delivery.New(nil, delivery.Options{}),
	}
	g.current.Store(cur)
	g.initReload(cur)
	t.Cleanup(g.closeRetired)

	body := []byte(`{"identifier":"rotated"}`)
	verify := func(key string) error {
		m := hmac.New(sha256.New, []byte(key))
		m.Write(body)
		h := http.Header{"X-Signature": {hex.EncodeToString(m.Sum(nil))}}
		return g.current.Load().Source("partner").Verifier.Verify(&plugins.Request{Method: "POST", Header: h, Body: body}, time.Now())
	}
	noSecrets := func(what, s string) {
		t.Helper()
		if strings.Contains(s, oldSecret) || strings.Contains(s, newSecret) {
			t.Errorf("%s shows a secret: %s", what, s)
		}
	}

	res, err := g.reload(context.Background())
	if err != nil || res.Reloaded {
		t.Fatalf("reload with nothing changed: %+v, %v; want unchanged", res, err)
	}

	write(secretPath, newSecret+"\n")
	res, err = g.reload(context.Background())
	if err != nil || !res.Reloaded {
		t.Fatalf("reload after the secret file changed: %+v, %v; want it reloaded", res, err)
	}
	if want := []string{"secret file " + secretPath + " changed"}; !slices.Equal(res.Changes, want) {
		t.Errorf("changes %q, want %q", res.Changes, want)
	}
	if !strings.Contains(logs.String(), "config reloaded: a secret file changed") {
		t.Errorf("the log does not say a secret file changed:\n%s", logs.String())
	}
	if err := verify(newSecret); err != nil {
		t.Errorf("a request signed with the new secret: %v", err)
	}
	if err := verify(oldSecret); !errors.Is(err, plugins.ErrUnauthorized) {
		t.Errorf("a request signed with the old secret: %v, want it refused", err)
	}

	res, err = g.reload(context.Background())
	if err != nil || res.Reloaded {
		t.Errorf("reload with the new secret file untouched: %+v, %v; want unchanged", res, err)
	}

	running := g.current.Load()
	if err := os.Remove(secretPath); err != nil {
		t.Fatal(err)
	}
	_, err = g.reload(context.Background())
	var rerr *admin.ReloadError
	if !errors.As(err, &rerr) || !strings.Contains(rerr.Text, "secret.txt") {
		t.Fatalf("reload without the secret file: %v, want it refused naming the file", err)
	}
	noSecrets("the refusal", rerr.Text)
	if g.current.Load() != running {
		t.Error("a refused reload replaced the running config")
	}
	noSecrets("the log", logs.String())
}
