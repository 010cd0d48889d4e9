package admin_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store"
)

// serve sends req straight to the fixture's handler, from the peer remote.
func (f *fixture) serve(req *http.Request, remote string) *httptest.ResponseRecorder {
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

// TestNoTokenLoopbackPeerOnly: without an admin token, a request from a
// peer that is not loopback is refused even when its Host is loopback (the
// admin address a reload could not close, or a proxy), on every route but
// the health checks.
func TestNoTokenLoopbackPeerOnly(t *testing.T) {
	f := newFixture(t, fixtureOpts{metrics: true})
	for _, path := range []string{"/api/deliveries", "/api/stats", "/", "/dlq", "/metrics", "/debug/pprof/"} {
		for _, tc := range []struct {
			remote string
			want   int
		}{
			{"203.0.113.7:50000", http.StatusForbidden},
			{"[2001:db8::1]:50000", http.StatusForbidden},
			{"[::ffff:203.0.113.7]:50000", http.StatusForbidden},
			{"127.0.0.1:50000", http.StatusOK},
			{"[::1]:50000", http.StatusOK},
		} {
			rec := f.serve(httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8081"+path, nil), tc.remote)
			if rec.Code != tc.want {
				t.Errorf("GET %s from %s: %d, want %d", path, tc.remote, rec.Code, tc.want)
			}
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		rec := f.serve(httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8081"+path, nil), "203.0.113.7:50000")
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s from another machine: %d, want 200 (health checks stay open)", path, rec.Code)
		}
	}
}

// TestAPICrossOrigin: a state-changing API request a browser sends from
// another site is refused with 403, as on the dashboard, with a token or
// without; curl and the CLI (no Origin, no Sec-Fetch-Site) and the same
// origin go through.
func TestAPICrossOrigin(t *testing.T) {
	for _, token := range []string{"", fxToken} {
		name := "without token"
		if token != "" {
			name = "with token"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, fixtureOpts{token: token})
			now := time.Now()
			_, ids := f.seed(t, now, "order.created", "billing")
			f.finish(t, ids[0], now, http.StatusGone, store.Dead)
			u, _ := url.Parse(f.url)
			endpoints := []string{
				"POST /api/destinations/orders/test", "POST /api/reload", "POST /api/dlq/replay",
				"POST /api/deliveries/" + ids[0] + "/retry",
			}
			refused := [][]string{
				{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"},
				{"Sec-Fetch-Site", "cross-site"},
				{"Sec-Fetch-Site", "same-site", "Origin", "https://admin.evil.example"},
				{"Origin", "https://evil.example"},
				{"Origin", "http://localhost:1"},
			}
			for _, ep := range endpoints {
				method, path, _ := strings.Cut(ep, " ")
				for _, hdr := range refused {
					code, raw := callWith(t, method, f.url+path, token, `{"x":1}`, append([]string{"Content-Type", "text/plain"}, hdr...)...)
					if code != http.StatusForbidden || !json.Valid(raw) || !strings.Contains(string(raw), `"error"`) {
						t.Errorf("%s with %q: %d %s, want 403 with a JSON error", ep, hdr, code, raw)
					}
				}
			}
			if n := len(f.orders.got()); n != 0 {
				t.Errorf("refused test sends reached the receiver %d times", n)
			}
			if d, _, err := f.st.Delivery(t.Context(), ids[0]); err != nil || d.Status != store.Dead {
				t.Fatalf("after refused retries and replays the delivery is %v (%v), want still dead", d.Status, err)
			}

			// The same origin, curl and the CLI are served.
			for _, hdr := range [][]string{
				nil,
				{"Sec-Fetch-Site", "same-origin", "Origin", "http://" + u.Host},
				{"Origin", "http://" + u.Host},
				{"Sec-Fetch-Site", "none"},
			} {
				code, raw := callWith(t, http.MethodPost, f.url+"/api/dlq/replay?destination=orders", token, "", hdr...)
				if code != http.StatusOK {
					t.Errorf("replay with %q: %d %s, want 200", hdr, code, raw)
				}
			}
			code, raw := callWith(t, http.MethodPost, f.url+"/api/deliveries/"+ids[0]+"/retry", token, "")
			if code != http.StatusAccepted {
				t.Errorf("retry from curl: %d %s, want 202", code, raw)
			}
			// Reads stay readable cross-site: a browser cannot see the answer
			// without CORS, and the token guards them when set.
			code, _ = callWith(t, http.MethodGet, f.url+"/api/stats", token, "", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
			if code != http.StatusOK {
				t.Errorf("GET /api/stats cross-site: %d, want 200", code)
			}
		})
	}
}

// callWith is call with extra request headers, in pairs.
func callWith(t *testing.T, method, url, token, body string, hdr ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	noSecrets(t, method+" "+url, raw)
	return resp.StatusCode, raw
}

// TestMetricsAndPprofNeedToken: with an admin token, /metrics and
// /debug/pprof/ answer only with it; the health checks stay open.
func TestMetricsAndPprofNeedToken(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken, metrics: true})
	for _, tc := range []struct{ path, want string }{
		{"/metrics", "# HELP"},
		{"/debug/pprof/", "heap"},
		{"/debug/pprof/heap?debug=1", "heap profile"},
		{"/debug/pprof/goroutine?debug=1", "goroutine profile"},
		{"/debug/pprof/allocs?debug=1", "heap profile"},
		{"/debug/pprof/cmdline", ""},
		{"/debug/pprof/symbol", "num_symbols"},
	} {
		for _, tok := range []string{"", "wrong"} {
			if code, raw := call(t, http.MethodGet, f.url+tc.path, tok, ""); code != http.StatusUnauthorized {
				t.Errorf("GET %s with token %q: %d %.200s, want 401", tc.path, tok, code, raw)
			}
		}
		code, raw := call(t, http.MethodGet, f.url+tc.path, fxToken, "")
		if code != http.StatusOK || !strings.Contains(string(raw), tc.want) {
			t.Errorf("GET %s with the token: %d %.200s, want 200 with %q", tc.path, code, raw, tc.want)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, raw := call(t, http.MethodGet, f.url+path, "", ""); code != http.StatusOK {
			t.Errorf("GET %s without a token: %d %s, want 200", path, code, raw)
		}
	}
}

// TestPprofProfileOutlivesWriteTimeout: a CPU profile longer than the
// admin server's WriteTimeout is still sent whole.
func TestPprofProfileOutlivesWriteTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a second: skipped with -short")
	}
	f := newFixture(t, fixtureOpts{token: fxToken, writeTimeout: 300 * time.Millisecond})
	code, raw := call(t, http.MethodGet, f.url+"/debug/pprof/profile?seconds=1", fxToken, "")
	if code != http.StatusOK || len(raw) == 0 {
		t.Fatalf("profile: %d, %d bytes", code, len(raw))
	}
}

// clock is a settable clock for the admin server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestLoginRateLimit: after 10 failed logins within a minute from one
// address (an IPv6 /64 counts as one), that address gets 429 with
// Retry-After for a minute, even with the right token; other addresses
// are not held up.
func TestLoginRateLimit(t *testing.T) {
	c := &clock{t: time.Now()}
	f := newFixture(t, fixtureOpts{token: fxToken, now: c.now})
	login := func(remote, token string) *httptest.ResponseRecorder {
		t.Helper()
		form := url.Values{"token": {token}, "next": {"/dlq"}}
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8081/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := f.serve(req, remote)
		noSecrets(t, "POST /login", rec.Body.Bytes())
		return rec
	}
	fail := func(remote string, n int) {
		t.Helper()
		for i := range n {
			if rec := login(remote, "wrong"); rec.Code != http.StatusUnauthorized {
				t.Fatalf("failure %d from %s: %d, want 401", i+1, remote, rec.Code)
			}
		}
	}
	const a = "198.51.100.7"

	// Failures older than a minute do not count.
	fail(a+":40000", 9)
	c.advance(61 * time.Second)
	fail(a+":40001", 9)
	if rec := login(a+":40002", fxToken); rec.Code != http.StatusSeeOther {
		t.Fatalf("right token after 9 failures: %d, want 303", rec.Code)
	}

	// The tenth failure within a minute blocks the address.
	fail(a+":40003", 10)
	for _, tok := range []string{"wrong", fxToken} {
		rec := login(a+":40004", tok)
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "60" {
			t.Errorf("token %q after 10 failures: %d Retry-After %q, want 429 and 60", tok, rec.Code, rec.Header().Get("Retry-After"))
		}
		if rec.Header().Get("Set-Cookie") != "" {
			t.Errorf("a refused login set a cookie")
		}
	}
	if rec := login("198.51.100.8:40000", fxToken); rec.Code != http.StatusSeeOther {
		t.Errorf("another address: %d, want 303", rec.Code)
	}
	c.advance(59*time.Second + 500*time.Millisecond)
	if rec := login(a+":40005", fxToken); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("59.5s later: %d Retry-After %q, want 429 and 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	c.advance(time.Second)
	if rec := login(a+":40006", fxToken); rec.Code != http.StatusSeeOther {
		t.Errorf("a minute later: %d, want 303", rec.Code)
	}

	// Addresses of one IPv6 /64 share a count.
	for i := range 10 {
		if rec := login(fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1), "wrong"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("IPv6 failure %d: %d", i+1, rec.Code)
		}
	}
	if rec := login("[2001:db8:1:2::ffff]:443", fxToken); rec.Code != http.StatusTooManyRequests {
		t.Errorf("another address of the /64: %d, want 429", rec.Code)
	}
	if rec := login("[2001:db8:1:3::1]:443", fxToken); rec.Code != http.StatusSeeOther {
		t.Errorf("another /64: %d, want 303", rec.Code)
	}
}

// TestLoginNextOnlyLocalPaths: the login form's next parameter redirects
// only to a path on this server; anything a browser could read as another
// host goes to /.
func TestLoginNextOnlyLocalPaths(t *testing.T) {
	f := newFixture(t, fixtureOpts{}) // without a token /login redirects at once
	b := newBrowser(t, f.url)
	for _, tc := range []struct{ next, want string }{
		{"/dlq?destination=billing", "/dlq?destination=billing"},
		{"/deliveries/dlv_1", "/deliveries/dlv_1"},
		{"/", "/"},
		{"", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r\nSet-Cookie: x=1", "/"},
		{"/x\x00", "/"},
		{"/x\x7f", "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/%2F/evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"https://evil.example/", "/"},
		{"https:evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
		{" /dlq", "/"},
	} {
		code, loc, _ := b.do(http.MethodGet, "/login?next="+url.QueryEscape(tc.next), nil)
		if code != http.StatusSeeOther || loc != tc.want {
			t.Errorf("next=%q: %d Location %q, want 303 to %q", tc.next, code, loc, tc.want)
		}
	}
}

// TestExportCarriesBodies: listings no longer carry bodies, but the DLQ
// export still gives each dead delivery's payload, over several pages.
func TestExportCarriesBodies(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken})
	now := time.Now()
	var dead []string
	for i := range 3 {
		_, ids := f.seed(t, now.Add(time.Duration(i)*time.Millisecond), "order.created", "billing", "orders")
		for _, id := range ids {
			f.finish(t, id, now, http.StatusGone, store.Dead)
		}
		dead = append(dead, ids...)
	}
	code, raw := call(t, http.MethodGet, f.url+"/api/dlq/export", fxToken, "")
	if code != http.StatusOK {
		t.Fatalf("export: %d %s", code, raw)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != len(dead) {
		t.Fatalf("export has %d lines, want %d:\n%s", len(lines), len(dead), raw)
	}
	for _, l := range lines {
		var v struct {
			ID   string          `json:"id"`
			Body json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(v.Body), `"note"`) {
			t.Errorf("export line %s has body %s, want the payload", v.ID, v.Body)
		}
	}
	code, raw = call(t, http.MethodGet, f.url+"/api/deliveries?status=dead&limit=1000", fxToken, "")
	if code != http.StatusOK || strings.Count(string(raw), `"id":"dlv_`) != len(dead) {
		t.Fatalf("listing: %d %s", code, raw)
	}
	if strings.Contains(string(raw), `"note"`) {
		t.Errorf("the listing shows bodies: %s", raw)
	}
}

// TestTestSendOutlivesWriteTimeout: a test send waits for its attempt up
// to the destination's timeout, longer than the admin server's
// WriteTimeout, and its answer still arrives.
func TestTestSendOutlivesWriteTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a slow receiver: skipped with -short")
	}
	f := newFixture(t, fixtureOpts{token: fxToken, engine: true, writeTimeout: 300 * time.Millisecond})
	f.orders.delay.Store(int64(time.Second)) // within the destination's 2s timeout
	code, raw := call(t, http.MethodPost, f.url+"/api/destinations/orders/test", fxToken, `{"type":"order.created"}`)
	if code != http.StatusOK || !strings.Contains(string(raw), `"status_code":200`) {
		t.Fatalf("test send: %d %s, want 200 with the attempt", code, raw)
	}
}
