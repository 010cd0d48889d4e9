package examples_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/plugins"
)

// TestProvidersPage loads the config of docs/providers.md, checks each source
// accepts what `hookgate send` signs for it, and that Slack's signed
// url_verification request is answered by the slack preset as Slack
// expects.
func TestProvidersPage(t *testing.T) {
	blocks := fences(t, filepath.Join(repoRoot, "docs", "providers.md"), "hcl")
	if len(blocks) != 1 {
		t.Fatalf("docs/providers.md has %d hcl blocks, want 1", len(blocks))
	}
	env := func(k string) (string, bool) { return "secret-of-" + strings.ToLower(k), true }
	l := &config.Loader{LookupEnv: env}
	cfg, diags := l.LoadBytes([]byte(blocks[0].code), filepath.Join(repoRoot, "config.hcl"))
	if diags.HasErrors() {
		t.Fatalf("providers.md:%d does not load:\n%s", blocks[0].line, diagnosticText(diags, l.Files()))
	}
	defer cfg.Close()
	now := time.Now()
	for _, name := range []string{"stripe", "github", "shopify", "slack", "meta"} {
		t.Run(name, func(t *testing.T) {
			src := cfg.Source(name)
			if src == nil || src.VerifyPlugin != name {
				t.Fatalf("no source %q verified by the %q preset", name, name)
			}
			body := []byte(`{"type":"event_callback","id":"evt_1"}`)
			h := http.Header{}
			src.Verifier.(plugins.RequestSigner).SignRequest(h, body, "msg_1", now)
			if err := src.Verifier.Verify(&plugins.Request{Method: http.MethodPost, Header: h, Body: body}, now); err != nil {
				t.Fatalf("refuses its own signature: %v", err)
			}
		})
	}
	t.Run("slack url_verification", func(t *testing.T) {
		src := cfg.Source("slack")
		body := []byte(`{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
		h := http.Header{}
		src.Verifier.(plugins.RequestSigner).SignRequest(h, body, "", now)
		if err := src.Verifier.Verify(&plugins.Request{Method: http.MethodPost, Header: h, Body: body}, now); err != nil {
			t.Fatalf("refused: %v", err)
		}
		answer, ok := src.Verifier.(plugins.Challenger).Challenge(body)
		if !ok {
			t.Fatal("not answered as a challenge")
		}
		var got map[string]any
		if err := json.Unmarshal(answer, &got); err != nil || got["challenge"] != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" || len(got) != 1 {
			t.Errorf("answer %s, want {\"challenge\": the request's challenge}", answer)
		}
		ev := []byte(`{"type":"event_callback","event":{"type":"app_mention"}}`)
		if _, ok := src.Verifier.(plugins.Challenger).Challenge(ev); ok {
			t.Error("an event_callback is taken for a challenge")
		}
	})
}
