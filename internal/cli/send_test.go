package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/spec"
)

// sendEvent is a creator_insights event with the odd bytes a signature must
// cover exactly: the spacing and key order are not canonical JSON.
const sendEvent = "{ \"type\":\"creator_insights\",  \"status\": \"success\",\n \"identifier\": \"minimuffin8888\", \"connector\": \"tiktok\" }\n"

// writeFile writes content to name in dir and returns its path.
func writeFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// mustLoad loads the config at path with env's registry, failing tb on any
// error.
func mustLoad(tb testing.TB, env *Env, path string) *config.Config {
	tb.Helper()
	var diags bytes.Buffer
	cfg := load(&Env{Stderr: &diags, LookupEnv: func(string) (string, bool) { return "", false }, Registry: env.Registry}, path)
	if cfg == nil {
		tb.Fatalf("load %s:\n%s", path, diags.String())
	}
	tb.Cleanup(func() { cfg.Close() })
	return cfg
}

// testEnv is an Env with an empty environment whose output goes to buffers
// safe to read while a command runs.
func testEnv() (*Env, *syncBuffer, *syncBuffer) {
	out, errb := &syncBuffer{}, &syncBuffer{}
	return &Env{
		Stdin: strings.NewReader(""), Stdout: out, Stderr: errb,
		LookupEnv: func(string) (string, bool) { return "", false },
	}, out, errb
}

// verifyingServer is an ingest stand-in: it checks each request with
// verifier and answers 202, or 401 on a refusal. It records the last body.
func verifyingServer(t *testing.T, verifier plugins.Verifier, path string) (*httptest.Server, chan []byte) {
	t.Helper()
	bodies := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		select {
		case bodies <- body:
		default:
		}
		if err := verifier.Verify(&plugins.Request{Method: r.Method, Header: r.Header, Body: body}, time.Now()); err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": err.Error()})
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "content type " + r.Header.Get("Content-Type")})
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"id": "evt_test", "deliveries": 1, "x_test": r.Header.Get("X-Test")})
	}))
	t.Cleanup(srv.Close)
	return srv, bodies
}

func TestSend(t *testing.T) {
	cases := []struct {
		name, verify string
	}{
		{"hmac", `verify "hmac" {
    header = "X-Hub-Signature-256"
    secret = "s3cret"
    prefix = "sha256="
  }`},
		{"hmac_base64_sha512", `verify "hmac" {
    secret    = "s3cret"
    algorithm = "sha512"
    encoding  = "base64"
  }`},
		{"token", `verify "token" {
    header = "Authorization"
    token  = "t0ken"
    prefix = "Bearer "
  }`},
		{"standard_webhooks", `verify "standard_webhooks" { secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }`},
		{"basic_auth", `verify "basic_auth" {
    username = "hookgate"
    password = "pa:ss word"
  }`},
		{"none", `verify "none" {}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfgPath := writeFile(t, dir, "config.hcl", "source \"s\" {\n  path = \"/in/s\"\n  "+tc.verify+"\n}\n")
			event := writeFile(t, dir, "event.json", sendEvent)
			env, out, errb := testEnv()
			cfg := mustLoad(t, env, cfgPath)
			srv, bodies := verifyingServer(t, cfg.Source("s").Verifier, "/in/s")

			code := Main(context.Background(), []string{"send", "-config", cfgPath, "-source", "s",
				"-url", srv.URL + "/in/s", "-H", "X-Test: yes", event}, env)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
			}
			if got := out.String(); !strings.HasPrefix(got, "HTTP/1.1 202 Accepted\n") || !strings.Contains(got, `"id":"evt_test"`) || !strings.Contains(got, `"x_test":"yes"`) {
				t.Errorf("stdout:\n%s", got)
			}
			if got := <-bodies; string(got) != sendEvent {
				t.Errorf("sent %q, want the file's exact bytes", got)
			}
		})
	}
}

func TestSendRefused(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "config.hcl", "source \"s\" {\n  path = \"/in/s\"\n  verify \"hmac\" { secret = \"mine\" }\n}\n")
	otherPath := writeFile(t, dir, "other.hcl", "source \"s\" {\n  path = \"/in/s\"\n  verify \"hmac\" { secret = \"theirs\" }\n}\n")
	event := writeFile(t, dir, "event.json", sendEvent)
	env, out, errb := testEnv()
	srv, _ := verifyingServer(t, mustLoad(t, env, otherPath).Source("s").Verifier, "/in/s")

	code := Main(context.Background(), []string{"send", "-config", cfgPath, "-source", "s", "-url", srv.URL + "/in/s", event}, env)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	if got := out.String(); !strings.HasPrefix(got, "HTTP/1.1 401 Unauthorized\n") || !strings.Contains(got, "signature does not match") {
		t.Errorf("stdout:\n%s", got)
	}
}

func TestSendDefaultURL(t *testing.T) {
	dir := t.TempDir()
	event := writeFile(t, dir, "event.json", sendEvent)
	env, out, errb := testEnv()
	cfgTmpl := "gateway {\n  listen = %q\n}\n\nsource \"s\" {\n  path = \"/in/s\"\n  verify \"token\" { token = \"t\" }\n}\n"
	first := mustLoad(t, env, writeFile(t, dir, "first.hcl", strings.Replace(cfgTmpl, "%q", `"127.0.0.1:1"`, 1)))
	srv, _ := verifyingServer(t, first.Source("s").Verifier, "/in/s")
	cfgPath := writeFile(t, dir, "config.hcl", strings.Replace(cfgTmpl, "%q", `"`+srv.Listener.Addr().String()+`"`, 1))

	if code := Main(context.Background(), []string{"send", "-config", cfgPath, "-source", "s", event}, env); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
}

func TestGatewayURL(t *testing.T) {
	cases := []struct{ listen, want string }{
		{"127.0.0.1:8080", "http://127.0.0.1:8080/in/s"},
		{"0.0.0.0:8080", "http://127.0.0.1:8080/in/s"},
		{":8080", "http://127.0.0.1:8080/in/s"},
		{"[::]:8080", "http://[::1]:8080/in/s"},
		{"localhost:9", "http://localhost:9/in/s"},
	}
	for _, tc := range cases {
		t.Run(tc.listen, func(t *testing.T) {
			cfg := &config.Config{Gateway: config.Gateway{Listen: tc.listen}}
			if got := gatewayURL(cfg, &config.Source{Path: "/in/s"}); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// opaque is a verifier that cannot sign requests.
type opaque struct{}

// Verify accepts everything.
func (opaque) Verify(*plugins.Request, time.Time) error { return nil }

func TestSendVerifierCannotSign(t *testing.T) {
	reg := plugins.NewRegistry()
	reg.Register(plugins.Plugin{Kind: plugins.KindVerify, Name: "opaque", New: func(spec.Values) (any, error) { return opaque{}, nil }})
	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "config.hcl", "source \"s\" {\n  path = \"/in/s\"\n  verify \"opaque\" {}\n}\n")
	event := writeFile(t, dir, "event.json", sendEvent)
	env, out, errb := testEnv()
	env.Registry = reg

	code := Main(context.Background(), []string{"send", "-config", cfgPath, "-source", "s", "-url", "http://127.0.0.1:1/in/s", event}, env)
	if code != 1 || out.String() != "" || !strings.Contains(errb.String(), `verify "opaque", which cannot sign requests`) {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
}

func TestSendUnknownSource(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "config.hcl", "source \"s\" {\n  path = \"/in/s\"\n  verify \"none\" {}\n}\n")
	event := writeFile(t, dir, "event.json", sendEvent)
	env, _, errb := testEnv()
	if code := Main(context.Background(), []string{"send", "-config", cfgPath, "-source", "nope", event}, env); code != 1 || !strings.Contains(errb.String(), `no source named "nope"`) {
		t.Fatalf("exit %d\nstderr:\n%s", code, errb)
	}
}

func TestParseMixed(t *testing.T) {
	cases := []struct {
		args []string
		pos  []string
		src  string
	}{
		{[]string{"-source", "a", "e.json"}, []string{"e.json"}, "a"},
		{[]string{"e.json", "-source", "a"}, []string{"e.json"}, "a"},
		{[]string{"x", "-source", "a", "y"}, []string{"x", "y"}, "a"},
		{[]string{"-", "-source", "a"}, []string{"-"}, "a"},
		{[]string{"x", "--", "-source", "a"}, []string{"x", "-source", "a"}, ""},
		{nil, nil, ""},
	}
	for _, tc := range cases {
		env, _, _ := testEnv()
		fs := newFlags(env, "send")
		src := fs.String("source", "", "")
		code, pos := parseMixed(fs, tc.args)
		if code != -1 || !slices.Equal(pos, tc.pos) || *src != tc.src {
			t.Errorf("%q: code %d, positional %q, source %q", tc.args, code, pos, *src)
		}
	}
}
