package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/spec"
)

// syncBuffer is a bytes.Buffer safe for a command writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// waitListening waits for the first "listening on http://ADDR" banner in b and
// returns the URL.
func waitListening(tb testing.TB, b *syncBuffer) string {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(b.String()); m != nil {
			return m[1]
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatalf("no banner after 5s; stderr:\n%s", b.String())
	return ""
}

// startSink runs `hookgate sink -listen 127.0.0.1:0 args...` until the test
// ends and returns its URL, its stdout and a function that stops it and
// returns its exit code.
func startSink(t *testing.T, args ...string) (url string, out *syncBuffer, stop func() int) {
	t.Helper()
	env, out, errb := testEnv()
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		code <- Main(ctx, append([]string{"sink", "-listen", "127.0.0.1:0"}, args...), env)
	}()
	var once sync.Once
	var rc int
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case rc = <-code:
			case <-time.After(10 * time.Second):
				t.Errorf("sink did not stop 10s after its context was cancelled")
				rc = -1
			}
		})
		return rc
	}
	t.Cleanup(func() { stop() })
	return waitListening(t, errb), out, stop
}

// mustSigner builds sign plugin name from src, the body of its block,
// through the same strict decoding as a config file.
func mustSigner(tb testing.TB, name, src string) plugins.Signer {
	tb.Helper()
	p, ok := plugins.Default.Lookup(plugins.KindSign, name)
	if !ok {
		tb.Fatalf("no sign.%s", name)
	}
	f, diags := hclsyntax.ParseConfig([]byte(src), "test.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	vals, _, diags := spec.DecodeBody(f.Body, p.Block(), nil, f.Body.MissingItemRange())
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	v, err := p.New(vals)
	if err != nil {
		tb.Fatal(err)
	}
	return v.(plugins.Signer)
}

// post POSTs body with h to url and returns the status and answer.
func post(tb testing.TB, url string, h http.Header, body []byte) (int, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(answer)
}

func TestSinkChecksSignatures(t *testing.T) {
	body := []byte(`{"creator":"minimuffin8888","platform":"tiktok","kind":"creator_insights"}`)
	cases := []struct {
		name   string
		args   []string
		scheme string
		sign   string
	}{
		{"standard_webhooks", []string{"-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
			"standard_webhooks", `secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"`},
		{"standard_webhooks_raw_secret", []string{"-secret", "raw-secret", "-scheme", "standard_webhooks"},
			"standard_webhooks", `secret = "raw-secret"`},
		{"hmac_default_header", []string{"-secret", "dev-warehouse-secret"},
			"hmac", `secret = "dev-warehouse-secret"`},
		{"hmac_prefix_header", []string{"-secret", "s", "-header", "X-Sig", "-prefix", "sha256=", "-encoding", "base64"},
			"hmac", "header = \"X-Sig\"\nsecret = \"s\"\nprefix = \"sha256=\"\nencoding = \"base64\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url, out, stop := startSink(t, tc.args...)
			signer := mustSigner(t, tc.scheme, tc.sign)

			h := http.Header{}
			signer.Sign(h, plugins.Message{ID: "msg_good", Timestamp: time.Now(), Body: body})
			if status, answer := post(t, url+"/tiktok", h, body); status != http.StatusOK || answer != "{\"ok\":true}\n" {
				t.Errorf("signed delivery: %d %s", status, answer)
			}
			tampered := bytes.Replace(body, []byte("tiktok"), []byte("TikTok"), 1)
			if status, answer := post(t, url+"/tiktok", h, tampered); status != http.StatusUnauthorized || !strings.Contains(answer, "signature does not match") {
				t.Errorf("tampered delivery: %d %s", status, answer)
			}
			if status, _ := post(t, url+"/tiktok", http.Header{}, body); status != http.StatusUnauthorized {
				t.Errorf("unsigned delivery: %d", status)
			}
			if code := stop(); code != 0 {
				t.Errorf("exit %d", code)
			}
			got := out.String()
			if !strings.Contains(got, "POST /tiktok ") || !strings.Contains(got, "signature=ok ("+tc.scheme+") -> 200") || !strings.Contains(got, "signature=BAD (") {
				t.Errorf("stdout:\n%s", got)
			}
			if strings.Contains(got, `"creator": "minimuffin8888"`) == false {
				t.Errorf("body not pretty-printed:\n%s", got)
			}
			if tc.scheme == "standard_webhooks" && !strings.Contains(got, "webhook-id=msg_good") {
				t.Errorf("webhook-id not printed:\n%s", got)
			}
		})
	}
}

func TestSinkOutput(t *testing.T) {
	url, out, stop := startSink(t)
	post(t, url+"/a?x=1", http.Header{"Webhook-Id": {"msg_1"}}, []byte(`{"b":[1,2]}`))
	post(t, url+"/b", nil, []byte("not json\n\n"))
	post(t, url+"/c", nil, []byte("{\"c\": true}\n"))
	stop()
	lines := strings.Split(out.String(), "\n")
	// Requests are sequential, so the order is known; the time varies.
	want := []string{
		" POST /a?x=1 webhook-id=msg_1 signature=unchecked -> 200",
		"{", `  "b": [`, "    1,", "    2", "  ]", "}", "",
		" POST /b webhook-id=- signature=unchecked -> 200",
		"not json", "",
		" POST /c webhook-id=- signature=unchecked -> 200",
		"{", `  "c": true`, "}", "", "",
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if (strings.HasPrefix(w, " ") && !strings.HasSuffix(lines[i], w)) || (!strings.HasPrefix(w, " ") && lines[i] != w) {
			t.Errorf("line %d: %q, want %q", i, lines[i], w)
		}
	}
}

func TestSinkFails(t *testing.T) {
	cases := []struct {
		fail   string
		status int
		want   int
	}{
		{"50%", 0, 50},
		{"10%", 500, 10},
		{"33", 0, 33},
		{"0%", 0, 0},
		{"100%", 429, 100},
	}
	for _, tc := range cases {
		t.Run(tc.fail, func(t *testing.T) {
			args := []string{"-quiet", "-fail", tc.fail}
			wantStatus := http.StatusServiceUnavailable
			if tc.status != 0 {
				args = append(args, "-status", strconv.Itoa(tc.status))
				wantStatus = tc.status
			}
			url, out, stop := startSink(t, args...)
			failed := 0
			for i := range 100 {
				status, answer := post(t, url, nil, []byte(`{}`))
				switch status {
				case http.StatusOK:
				case wantStatus:
					failed++
					if tc.want == 50 && i%2 == 0 {
						t.Errorf("request %d failed; 50%% fails every second one", i+1)
					}
				default:
					t.Fatalf("request %d: %d %s", i+1, status, answer)
				}
			}
			if failed != tc.want {
				t.Errorf("%d of 100 failed, want %d", failed, tc.want)
			}
			stop()
			if out.String() != "" {
				t.Errorf("-quiet printed:\n%s", out)
			}
		})
	}
}

func TestFailNthIsExact(t *testing.T) {
	for _, bp := range []int{0, 1, 250, 3333, 5000, 9999, 10000} {
		n := 0
		for i := int64(1); i <= 10000; i++ {
			if failNth(i, bp) {
				n++
			}
		}
		if n != bp {
			t.Errorf("%d/10000: %d of 10000 failed", bp, n)
		}
	}
}

func TestSinkStopsOnCancel(t *testing.T) {
	url, _, stop := startSink(t)
	if status, _ := post(t, url, nil, []byte(`{}`)); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if _, err := http.Post(url, "application/json", strings.NewReader("{}")); err == nil {
		t.Error("the sink still answers after shutdown")
	}
}

func TestSinkFlagErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"bad fail", []string{"-fail", "150%"}, "-fail"},
		{"bad status", []string{"-status", "42"}, "-status 42"},
		{"header without secret", []string{"-header", "X-Sig"}, "-header needs -secret"},
		{"unknown scheme", []string{"-secret", "s", "-scheme", "rot13"}, `-scheme "rot13"`},
		{"header for standard_webhooks", []string{"-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "-header", "X"}, "-header does not apply"},
		{"bad algorithm", []string{"-secret", "s", "-algorithm", "md5"}, `-algorithm "md5"`},
		{"bad whsec", []string{"-secret", "whsec_!!"}, "-secret: "},
		{"bad header name", []string{"-secret", "s", "-header", "X Sig"}, `-header "X Sig"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, _, errb := testEnv()
			code := Main(context.Background(), append([]string{"sink", "-listen", "127.0.0.1:0"}, tc.args...), env)
			if code != 2 || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errb, tc.want)
			}
			if strings.Contains(errb.String(), "!!") {
				t.Errorf("the secret was echoed: %s", errb)
			}
		})
	}
}
