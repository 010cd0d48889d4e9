package cli

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ingest"
	"github.com/hookgate/hookgate/internal/store"
)

// `send -get` sends the source's subscription handshake (Meta's): exit 0
// when the gateway echoes the challenge, 1 when it refuses the token.
func TestSendHandshake(t *testing.T) {
	dir := t.TempDir()
	const src = `
source "meta" {
  path = "/in/meta"
  verify "meta" {
    secret       = "app-secret"
    verify_token = "%s"
  }
}
`
	gw := writeFile(t, dir, "gateway.hcl", strings.Replace(src, "%s", "tok-1", 1))
	env, _, _ := testEnv()
	cfg := mustLoad(t, env, gw)
	srv := httptest.NewServer(&ingest.Handler{Current: func() *config.Config { return cfg }, Store: nopAccept{}})
	t.Cleanup(srv.Close)

	for _, c := range []struct {
		token string
		code  int
	}{{"tok-1", 0}, {"tok-2", 1}} {
		path := writeFile(t, dir, "sender-"+c.token+".hcl", strings.Replace(src, "%s", c.token, 1))
		env, out, errb := testEnv()
		code := sendCmd(context.Background(), env, []string{"-config", path, "-source", "meta", "-get", "-url", srv.URL + "/in/meta"})
		if code != c.code {
			t.Errorf("token %s: exit %d, want %d\nstdout: %s\nstderr: %s", c.token, code, c.code, out, errb)
		}
		if c.code == 0 && !strings.Contains(out.String(), "200 OK") {
			t.Errorf("token %s: %s", c.token, out)
		}
		if strings.Contains(errb.String(), c.token) {
			t.Errorf("the verify token appears in an error: %s", errb)
		}
	}

	// A source without a handshake says so.
	plain := writeFile(t, dir, "plain.hcl", "source \"s\" {\n  path = \"/in/s\"\n  verify \"none\" {}\n}\n")
	env2, _, errb := testEnv()
	if code := sendCmd(context.Background(), env2, []string{"-config", plain, "-source", "s", "-get", "-url", srv.URL + "/in/s"}); code != 1 || !strings.Contains(errb.String(), "no handshake") {
		t.Errorf("a source without a handshake: exit %d, %s", code, errb)
	}
}

// nopAccept is a store that stores nothing: a handshake never reaches it.
type nopAccept struct{}

func (nopAccept) Accept(context.Context, *store.Event, []*store.Delivery, *store.Dedupe) (string, error) {
	return "", nil
}
