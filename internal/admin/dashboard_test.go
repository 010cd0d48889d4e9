package admin_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store"
)

// browser is an HTTP client with cookies that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request (a form when form is not nil) and returns the status,
// the Location and the page; pages must not show a secret nor unescaped
// markup from stored data.
func (b *browser) do(method, path string, form url.Values, hdr ...string) (int, string, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	noSecrets(b.t, method+" "+path, raw)
	if strings.Contains(string(raw), "<script>alert(1)</script>") {
		b.t.Errorf("%s %s shows stored markup unescaped", method, path)
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(raw)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in:\n%s", page)
	}
	return m[1]
}

func TestDashboardLogin(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken})
	b := newBrowser(t, f.url)

	code, loc, _ := b.do("GET", "/dlq?destination=billing", nil)
	if code != http.StatusSeeOther || loc != "/login?next="+url.QueryEscape("/dlq?destination=billing") {
		t.Fatalf("without a session: %d %q, want a redirect to the login form", code, loc)
	}
	code, _, page := b.do("GET", "/login", nil)
	if code != 200 || !strings.Contains(page, `type="password"`) || strings.Contains(page, "Log out") {
		t.Fatalf("login form: %d\n%s", code, page)
	}

	code, _, page = b.do("POST", "/login", url.Values{"token": {"wrong"}, "next": {"/dlq"}})
	if code != http.StatusUnauthorized || !strings.Contains(page, "not the admin token") {
		t.Errorf("wrong token: %d\n%s", code, page)
	}
	u, _ := url.Parse(f.url)
	if len(b.c.Jar.Cookies(u)) != 0 {
		t.Error("a wrong token set a cookie")
	}

	// An open redirect is refused: next must be a path here.
	req, _ := http.NewRequest("POST", f.url+"/login", strings.NewReader(url.Values{"token": {fxToken}, "next": {"//evil.example/x"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "/" {
		t.Errorf("next=//evil.example: Location %q, want /", loc)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "hookgate_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/", session)
	}
	if strings.Contains(session.Value, fxToken) {
		t.Error("the session cookie holds the admin token")
	}

	code, _, page = b.do("GET", "/dlq", nil)
	if code != 200 || !strings.Contains(page, "Log out") {
		t.Fatalf("after login: %d\n%s", code, page)
	}

	// A tampered cookie is no session.
	other := newBrowser(t, f.url)
	other.c.Jar.SetCookies(u, []*http.Cookie{{Name: "hookgate_session", Value: session.Value[:len(session.Value)-2] + "xx"}})
	if code, loc, _ := other.do("GET", "/", nil); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Errorf("tampered cookie: %d %q", code, loc)
	}
	// The token as a cookie value is no session either.
	other.c.Jar.SetCookies(u, []*http.Cookie{{Name: "hookgate_session", Value: fxToken}})
	if code, _, _ := other.do("GET", "/", nil); code != http.StatusSeeOther {
		t.Errorf("token as cookie: %d", code)
	}

	// Logout ends the session for good, even if the cookie is replayed.
	csrf := csrfOf(t, page)
	if code, loc, _ := b.do("POST", "/logout", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther || loc != "/login?done=loggedout" {
		t.Errorf("logout: %d %q", code, loc)
	}
	if code, _, _ := b.do("GET", "/", nil); code != http.StatusSeeOther {
		t.Errorf("after logout: %d, want a redirect to login", code)
	}
	replay := newBrowser(t, f.url)
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: "hookgate_session", Value: session.Value}})
	if code, _, _ := replay.do("GET", "/", nil); code != http.StatusSeeOther {
		t.Errorf("logged-out cookie replayed: %d, want a redirect to login", code)
	}
}

// login logs b in and returns the CSRF token of its session.
func login(t *testing.T, b *browser) string {
	t.Helper()
	code, loc, _ := b.do("POST", "/login", url.Values{"token": {fxToken}, "next": {"/"}})
	if code != http.StatusSeeOther || loc != "/" {
		t.Fatalf("login: %d %q", code, loc)
	}
	_, _, page := b.do("GET", "/", nil)
	return csrfOf(t, page)
}

func TestDashboardPages(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken})
	at := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	ev, ds := f.seed(t, at, "order.created", "orders", "billing")
	f.finish(t, ds[0], at.Add(time.Second), 200, store.Delivered)
	f.finish(t, ds[1], at.Add(time.Second), 410, store.Dead)
	_, retrying := f.seed(t, at.Add(time.Minute), "order.created", "billing")
	f.finish(t, retrying[0], at.Add(2*time.Minute), 503, store.Retrying)
	b := newBrowser(t, f.url)
	login(t, b)

	pages := []struct {
		path string
		want []string
	}{
		{"/", []string{"orders", "billing", "Last hour", "Last 24 h", "100.0%", "0.0%", ds[1]}},
		{"/deliveries", []string{ds[0], ds[1], "delivered", "dead", `name="status"`}},
		{"/deliveries?status=dead", []string{ds[1], `aria-current="page">dead`}},
		{"/deliveries?destination=orders", []string{ds[0]}},
		{"/deliveries/" + ds[1], []string{"HTTP 410", "25ms", "HTTP 410 Gone", "&lt;b&gt;answer&lt;/b&gt;",
			"4bf92f3577b34da6a3ce929d0e0e4736", `id="retry"`, "&lt;script&gt;"}},
		{"/deliveries/" + retrying[0], []string{"retrying", "Next attempt", "HTTP 503"}},
		{"/events/" + ev, []string{"shop", "order.created", "x-note", ds[0], ds[1], "4bf92f3577b34da6a3ce929d0e0e4736"}},
		{"/dlq", []string{ds[1], "Replay all to billing", `class="replay"`, `href="/dlq/export?status=dead"`}},
		{"/config", []string{"/in/shop", "refunds", "status == &#39;refunded&#39;", "standard_webhooks",
			"X-Api-Key", "token=redacted", "Send test event", "hmac", "1h0m0s"}},
	}
	for _, p := range pages {
		t.Run(p.path, func(t *testing.T) {
			code, _, page := b.do("GET", p.path, nil)
			if code != 200 {
				t.Fatalf("%d\n%s", code, page)
			}
			for _, w := range p.want {
				if !strings.Contains(page, w) {
					t.Errorf("missing %q", w)
				}
			}
		})
	}
	if code, _, page := b.do("GET", "/deliveries?status=dead", nil); code != 200 || strings.Contains(page, ds[0]) {
		t.Errorf("the status filter shows a delivered delivery")
	}
	// Time filters: the first event's deliveries are 10 minutes old, the
	// retrying one 9; since and until keep what is written in the links.
	since := at.Add(30 * time.Second).Format(time.RFC3339)
	code, _, page := b.do("GET", "/deliveries?since="+url.QueryEscape(since), nil)
	if code != 200 || !strings.Contains(page, retrying[0]) || strings.Contains(page, ds[0]) || strings.Contains(page, ds[1]) {
		t.Errorf("since=%s: %d, want only %s", since, code, retrying[0])
	}
	if !strings.Contains(page, `href="/deliveries?since=`+url.QueryEscape(since)+`&amp;status=dead"`) {
		t.Errorf("the status tabs drop the since filter")
	}
	if code, _, page := b.do("GET", "/deliveries?until="+url.QueryEscape(since), nil); code != 200 || strings.Contains(page, retrying[0]) || !strings.Contains(page, ds[0]) {
		t.Errorf("until=%s: %d, want the older deliveries only", since, code)
	}
	if code, _, page := b.do("GET", "/deliveries?since=5m", nil); code != 200 || strings.Contains(page, ds[0]) || !strings.Contains(page, `value="5m"`) {
		t.Errorf("since=5m: %d, want none of the 9-10 minute old deliveries and the field kept", code)
	}
	if code, _, page := b.do("GET", "/deliveries?since=yesterday", nil); code != http.StatusBadRequest || !strings.Contains(page, "RFC 3339") {
		t.Errorf("since=yesterday: %d, want 400 saying what is accepted", code)
	}
	if code, _, _ := b.do("GET", "/deliveries/dlv_nope", nil); code != http.StatusNotFound {
		t.Errorf("unknown delivery: %d, want 404", code)
	}
	code, _, ndjson := b.do("GET", "/dlq/export?destination=billing", nil)
	if code != 200 || strings.Count(ndjson, "\n") != 1 || !strings.Contains(ndjson, ds[1]) {
		t.Errorf("dlq export: %d\n%s", code, ndjson)
	}
	if code, _, _ := newBrowser(t, f.url).do("GET", "/dlq/export", nil); code != http.StatusSeeOther {
		t.Errorf("dlq export without a session: %d, want a redirect to login", code)
	}
	code, _, css := b.do("GET", "/static/style.css", nil)
	if code != 200 || !strings.Contains(css, ".timeline") {
		t.Errorf("style.css: %d", code)
	}
}

func TestDashboardCSRF(t *testing.T) {
	f := newFixture(t, fixtureOpts{token: fxToken})
	at := time.Now().UTC().Add(-time.Minute)
	_, ds := f.seed(t, at, "order.created", "billing")
	f.finish(t, ds[0], at, 410, store.Dead)
	b := newBrowser(t, f.url)
	csrf := login(t, b)

	for _, tt := range []struct {
		name string
		form url.Values
		hdr  []string
	}{
		{"no token", url.Values{"destination": {"billing"}}, nil},
		{"wrong token", url.Values{"destination": {"billing"}, "csrf": {"x" + csrf}}, nil},
		{"cross-site", url.Values{"destination": {"billing"}, "csrf": {csrf}}, []string{"Sec-Fetch-Site", "cross-site"}},
		{"foreign origin", url.Values{"destination": {"billing"}, "csrf": {csrf}}, []string{"Origin", "https://evil.example"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code, _, _ := b.do("POST", "/dlq/replay", tt.form, tt.hdr...); code != http.StatusForbidden {
				t.Errorf("%d, want 403", code)
			}
		})
	}
	// Another session's token does not do either.
	other := newBrowser(t, f.url)
	otherCSRF := login(t, other)
	if otherCSRF == csrf {
		t.Fatal("two sessions share a CSRF token")
	}
	if code, _, _ := b.do("POST", "/dlq/replay", url.Values{"csrf": {otherCSRF}}); code != http.StatusForbidden {
		t.Errorf("another session's token: %d, want 403", code)
	}
	// Without a session at all: 401.
	anon := newBrowser(t, f.url)
	if code, _, _ := anon.do("POST", "/dlq/replay", url.Values{"csrf": {csrf}}); code != http.StatusUnauthorized {
		t.Errorf("no session: %d, want 401", code)
	}
	if d, _, _ := f.st.Delivery(t.Context(), ds[0]); d.Status != store.Dead {
		t.Fatalf("a refused POST replayed the delivery: %s", d.Status)
	}

	code, loc, _ := b.do("POST", "/dlq/replay", url.Values{"csrf": {csrf}, "destination": {"billing"}})
	if code != http.StatusSeeOther || loc != "/dlq?done=replayed&n=1" {
		t.Fatalf("replay: %d %q", code, loc)
	}
	if _, _, page := b.do("GET", loc, nil); !strings.Contains(page, "Replayed 1 dead delivery.") {
		t.Errorf("no notice after replay")
	}
	if d, _, _ := f.st.Delivery(t.Context(), ds[0]); d.Status != store.Pending {
		t.Errorf("after replay: %s, want pending", d.Status)
	}
	if code, _, _ := b.do("POST", "/dlq/replay", url.Values{"csrf": {csrf}, "destination": {"nope"}}); code != http.StatusNotFound {
		t.Errorf("unknown destination: %d", code)
	}
}

// TestDashboardWithoutToken: no login on loopback without a token, but
// POSTs still need the CSRF token.
func TestDashboardWithoutToken(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	at := time.Now().UTC().Add(-time.Minute)
	_, ds := f.seed(t, at, "order.created", "billing")
	f.finish(t, ds[0], at, 410, store.Dead)
	b := newBrowser(t, f.url)
	code, _, page := b.do("GET", "/dlq", nil)
	if code != 200 || strings.Contains(page, "Log out") || !strings.Contains(page, ds[0]) {
		t.Fatalf("without a token: %d\n%s", code, page)
	}
	if code, loc, _ := b.do("GET", "/login", nil); code != http.StatusSeeOther || loc != "/" {
		t.Errorf("/login without a token: %d %q", code, loc)
	}
	if code, _, _ := b.do("POST", "/deliveries/"+ds[0]+"/retry", url.Values{}); code != http.StatusForbidden {
		t.Errorf("POST without the CSRF token: %d, want 403", code)
	}
	code, loc, _ := b.do("POST", "/deliveries/"+ds[0]+"/retry", url.Values{"csrf": {csrfOf(t, page)}})
	if code != http.StatusSeeOther || loc != "/deliveries/"+ds[0]+"?done=retried" {
		t.Errorf("retry: %d %q", code, loc)
	}
}
