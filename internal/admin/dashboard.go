package admin

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/buildinfo"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/store"
)

// The dashboard: server-rendered pages over the same store and config as
// the JSON API, usable without JavaScript. With an admin_token, a login
// form trades the token for a session cookie (HttpOnly, SameSite=Strict)
// whose value is an HMAC under a key derived from the token, never the
// token; failed logins are limited per client address (loginlimit.go);
// every POST carries a per-session CSRF token (an HMAC of the session's
// nonce) in a hidden field, and cross-origin POSTs are refused
// (http.CrossOriginProtection). Without a token (loopback only) there is no
// login, and pages answer only to a loopback client naming a loopback Host.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

const (
	// sessionCookie holds the dashboard session.
	sessionCookie = "hookgate_session"
	// sessionTTL is how long a login lasts.
	sessionTTL = 12 * time.Hour
	// dashboardPage is the page size of the dashboard's lists.
	dashboardPage = 50
)

// dash serves the dashboard for a Server.
type dash struct {
	s     *Server
	pages map[string]*template.Template
	// localKey signs the CSRF token when there is no admin token.
	localKey []byte
	// revoked holds the nonces of sessions logged out before they expired
	// (nonce → expiry).
	mu      sync.Mutex
	revoked map[string]time.Time
	// logins counts failed logins per client address.
	logins loginLimit
}

// session is who a dashboard request comes from.
type session struct {
	// nonce identifies the session; "local" without an admin token.
	nonce string
	// loggedIn is true when a login was needed (an admin token is set).
	loggedIn bool
	issued   time.Time
}

// pageNames are the dashboard's templates besides layout.html.
var pageNames = []string{"login", "overview", "deliveries", "delivery", "event", "events", "dlq", "config", "error", "destination"}

// dashboard registers the dashboard's routes on mux.
func (s *Server) dashboard(mux *http.ServeMux) {
	d := &dash{s: s, pages: map[string]*template.Template{}, revoked: map[string]time.Time{}}
	d.localKey = make([]byte, 32)
	rand.Read(d.localKey)
	for _, name := range pageNames {
		d.pages[name] = template.Must(template.New("").Funcs(templateFuncs).
			ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	static, _ := fs.Sub(staticFS, "static")

	ui := http.NewServeMux()
	ui.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	ui.HandleFunc("GET /login", d.loginPage)
	ui.HandleFunc("POST /login", d.login)
	ui.Handle("POST /logout", d.action(d.logout))
	ui.Handle("GET /{$}", d.page(d.overview))
	ui.Handle("GET /deliveries", d.page(d.deliveries))
	ui.Handle("GET /deliveries/{id}", d.page(d.delivery))
	ui.Handle("POST /deliveries/{id}/retry", d.action(d.retry))
	ui.Handle("GET /events", d.page(d.events)) // dashboard_events.go
	ui.Handle("POST /events/replay", d.action(d.replayEvents))
	ui.Handle("GET /events/{id}", d.page(d.event))
	ui.Handle("GET /dlq", d.page(d.dlq))
	ui.Handle("POST /dlq/replay", d.action(d.replay))
	ui.Handle("GET /dlq/export", d.page(func(w http.ResponseWriter, r *http.Request, _ session) { d.s.export(w, r) }))
	ui.Handle("GET /config", d.page(d.config))
	ui.Handle("POST /destinations/{name}/test", d.action(d.test))
	d.healthRoutes(ui)
	d.orderingPages(ui)

	h := crossOrigin(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "cross-origin requests are refused", http.StatusForbidden)
	}, d.headers(ui))
	for _, p := range []string{"/{$}", "/static/", "/login", "/logout", "/deliveries", "/deliveries/", "/events", "/events/", "/dlq", "/dlq/", "/config", "/destinations/"} {
		mux.Handle(p, h)
	}
}

// headers sets what every dashboard answer carries, and refuses, when
// there is no admin token, a request that is not from loopback or names a
// foreign Host (DNS rebinding).
func (d *dash) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		if d.s.Current().Gateway.AdminToken.Empty() && !localOnly(r) {
			http.Error(w, "without an admin_token the dashboard answers only to loopback: a loopback client naming a loopback Host", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// key is the HMAC key of sessions and CSRF tokens: derived from the admin
// token (so changing the token ends every session), or the server's random
// key without one.
func (d *dash) key() []byte {
	tok := d.s.Current().Gateway.AdminToken
	if tok.Empty() {
		return d.localKey
	}
	k := sha256.Sum256([]byte("hookgate dashboard session key\x00" + tok.Reveal()))
	return k[:]
}

func (d *dash) mac(parts ...string) string {
	m := hmac.New(sha256.New, d.key())
	m.Write([]byte(strings.Join(parts, "\x00")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newSession returns a new session's cookie value.
func (d *dash) newSession(now time.Time) string {
	var b [16]byte
	rand.Read(b[:])
	issued := strconv.FormatInt(now.Unix(), 10)
	nonce := hex.EncodeToString(b[:])
	return issued + "." + nonce + "." + d.mac("session", issued, nonce)
}

// session returns the request's session, and false when it needs a login.
func (d *dash) session(r *http.Request) (session, bool) {
	if d.s.Current().Gateway.AdminToken.Empty() {
		return session{nonce: "local"}, true
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		return session{}, false
	}
	want := d.mac("session", parts[0], parts[1])
	if subtle.ConstantTimeCompare([]byte(want), []byte(parts[2])) != 1 {
		return session{}, false
	}
	sec, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return session{}, false
	}
	issued := time.Unix(sec, 0)
	now := d.s.now()
	if now.Sub(issued) > sessionTTL || issued.After(now.Add(time.Minute)) {
		return session{}, false
	}
	d.mu.Lock()
	_, gone := d.revoked[parts[1]]
	d.mu.Unlock()
	if gone {
		return session{}, false
	}
	return session{nonce: parts[1], loggedIn: true, issued: issued}, true
}

// csrf is the session's CSRF token.
func (d *dash) csrf(s session) string { return d.mac("csrf", s.nonce) }

// page wraps a GET page: without a session, it sends the browser to log in.
func (d *dash) page(h func(http.ResponseWriter, *http.Request, session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := d.session(r)
		if !ok {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(w, r, s)
	})
}

// action wraps a POST button: it needs a session and the session's CSRF
// token in the form.
func (d *dash) action(h func(http.ResponseWriter, *http.Request, session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := d.session(r)
		if !ok {
			d.fail(w, r, session{}, http.StatusUnauthorized, "Your session has ended; log in again.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		given := r.PostFormValue("csrf")
		if subtle.ConstantTimeCompare([]byte(given), []byte(d.csrf(s))) != 1 {
			d.fail(w, r, s, http.StatusForbidden, "The form is stale or did not come from this dashboard; reload the page and try again.")
			return
		}
		h(w, r, s)
	})
}

// pageData is what every page's template gets.
type pageData struct {
	Title string
	// Nav is the active section: overview, deliveries, dlq, config.
	Nav        string
	Session    bool // show the navigation
	LoggedIn   bool // show the logout button
	CSRF       string
	Notice     string
	Error      string
	Version    string
	ConfigHash string
	Data       any
}

// render writes a page.
func (d *dash) render(w http.ResponseWriter, r *http.Request, s session, status int, name string, p pageData) {
	cfg := d.s.Current()
	p.Version = buildinfo.Version
	p.ConfigHash = cfg.Hash
	if len(p.ConfigHash) > 12 {
		p.ConfigHash = p.ConfigHash[:12]
	}
	if s.nonce != "" {
		p.Session, p.LoggedIn, p.CSRF = true, s.loggedIn, d.csrf(s)
	}
	if p.Notice == "" {
		p.Notice = notice(r.URL.Query())
	}
	var buf bytes.Buffer
	if err := d.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		d.s.logger().Error("dashboard template", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail renders the error page.
func (d *dash) fail(w http.ResponseWriter, r *http.Request, s session, status int, msg string) {
	d.render(w, r, s, status, "error", pageData{Title: http.StatusText(status), Error: msg})
}

// storeFail renders a store error as a page.
func (d *dash) storeFail(w http.ResponseWriter, r *http.Request, s session, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		d.fail(w, r, s, http.StatusNotFound, "Nothing with that id is stored (it may have been cleaned up).")
	case errors.Is(err, store.ErrConflict):
		d.fail(w, r, s, http.StatusConflict, "The delivery is pending or retrying already.")
	case errors.Is(err, store.ErrUnavailable):
		d.fail(w, r, s, http.StatusServiceUnavailable, "The storage is unavailable.")
	default:
		d.s.logger().Error("dashboard store", "error", err)
		d.fail(w, r, s, http.StatusInternalServerError, "Internal error; see the gateway's log.")
	}
}

// notice is the message a redirect after a POST asks to show (fixed
// texts, so a link cannot make the dashboard say anything else).
func notice(q url.Values) string {
	switch q.Get("done") {
	case "retried":
		return "The delivery is queued for another attempt."
	case "replayed":
		n, _ := strconv.Atoi(q.Get("n"))
		if n == 1 {
			return "Replayed 1 dead delivery."
		}
		return fmt.Sprintf("Replayed %d dead deliveries.", n)
	case "tested":
		return "Test event sent."
	case "backfilled":
		return backfillNotice(q)
	case "discarded":
		return "The delivery is discarded; its key, if it held one, goes on."
	case "loggedout":
		return "Logged out."
	}
	return ""
}

// safeNext returns next when it is a path on this server, else "/": a
// URL with no scheme, host or user, whose path starts with one "/" (not
// "//" nor "/\", which browsers read as another host), with no control
// character (browsers drop tabs and newlines, so "/\t/evil.example" is
// "//evil.example" to them), checked on next as given and on its decoded
// path.
func safeNext(next string) string {
	local := func(p string) bool {
		return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "/\\") &&
			!strings.ContainsFunc(p, unicode.IsControl)
	}
	if !local(next) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !local(u.Path) {
		return "/"
	}
	return next
}

func (d *dash) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := d.session(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	d.render(w, r, session{}, http.StatusOK, "login", pageData{Title: "Log in", Data: map[string]string{"Next": next}})
}

func (d *dash) login(w http.ResponseWriter, r *http.Request) {
	tok := d.s.Current().Gateway.AdminToken
	client, now := clientKey(r.RemoteAddr), d.s.now()
	if !tok.Empty() {
		// A blocked client is refused before its form is read.
		if wait := d.logins.wait(client, now); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
			d.render(w, r, session{}, http.StatusTooManyRequests, "login", pageData{
				Title: "Log in", Error: "Too many failed logins from your address; try again in a minute.",
				Data: map[string]string{"Next": "/"},
			})
			return
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	next := safeNext(r.PostFormValue("next"))
	if tok.Empty() {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if !tok.Equal(r.PostFormValue("token")) {
		if d.logins.fail(client, now) {
			d.s.logger().Warn("dashboard login refused; the address is blocked for a minute", "remote", r.RemoteAddr, "failures", loginMaxFailures)
		} else {
			d.s.logger().Warn("dashboard login refused", "remote", r.RemoteAddr)
		}
		d.render(w, r, session{}, http.StatusUnauthorized, "login", pageData{
			Title: "Log in", Error: "That is not the admin token.", Data: map[string]string{"Next": next},
		})
		return
	}
	d.logins.succeed(client)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: d.newSession(d.s.now()), Path: "/",
		MaxAge: int(sessionTTL / time.Second), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (d *dash) logout(w http.ResponseWriter, r *http.Request, s session) {
	if s.loggedIn {
		now := d.s.now()
		d.mu.Lock()
		for n, exp := range d.revoked {
			if exp.Before(now) {
				delete(d.revoked, n)
			}
		}
		d.revoked[s.nonce] = s.issued.Add(sessionTTL)
		d.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	if !s.loggedIn {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login?done=loggedout", http.StatusSeeOther)
}

// overview is the home page: per-destination figures and the latest dead
// deliveries.
func (d *dash) overview(w http.ResponseWriter, r *http.Request, s session) {
	now := d.s.now()
	stats, err := d.s.statsAt(r.Context(), now, now.Add(-defaultStatsWindow))
	if err != nil {
		d.storeFail(w, r, s, err)
		return
	}
	dead, err := d.s.Store.Deliveries(r.Context(), store.Query{Status: store.Dead, Limit: 10})
	if err != nil {
		d.storeFail(w, r, s, err)
		return
	}
	health, err := d.healthRows(r.Context(), now)
	if err != nil {
		d.storeFail(w, r, s, err)
		return
	}
	d.render(w, r, s, http.StatusOK, "overview", pageData{Title: "Overview", Nav: "overview", Notice: d.healthNotice(r.URL.Query()), Data: map[string]any{
		"Stats": stats, "Dead": rows(dead.Deliveries), "MoreDead": dead.NextCursor != "", "Health": health,
	}})
}

// deliveryRow is a delivery in a dashboard list.
type deliveryRow struct {
	*store.Delivery
	Last string
}

func rows(ds []*store.Delivery) []deliveryRow {
	out := make([]deliveryRow, 0, len(ds))
	for _, d := range ds {
		last := "-"
		switch {
		case d.LastStatus != 0:
			last = strconv.Itoa(d.LastStatus)
		case d.LastError != "":
			last = d.LastError
		}
		out = append(out, deliveryRow{Delivery: d, Last: last})
	}
	return out
}

// filters are a list page's filters: the store query, and since and until
// as written (a duration such as "1h" stays relative in the page's links).
type filters struct {
	store.Query
	SinceText, UntilText string
}

// listQuery reads the list filters of a dashboard page; a since or until
// that is neither an RFC 3339 time nor a duration is an error.
func listQuery(q url.Values) (filters, error) {
	f := filters{Query: store.Query{
		Status: store.Status(q.Get("status")), Destination: q.Get("destination"), Route: q.Get("route"),
		Source: q.Get("source"), EventType: q.Get("event_type"), Cursor: q.Get("cursor"), Limit: dashboardPage,
	}, SinceText: q.Get("since"), UntilText: q.Get("until")}
	if !f.Status.Valid() {
		f.Status = ""
	}
	var err error
	f.Since, f.Until, err = timeRange(f.SinceText, f.UntilText)
	return f, err
}

// filterLink is a list URL with f's filters and one changed.
func filterLink(path string, f filters, key, value string) string {
	v := url.Values{}
	set := func(k, val string) {
		if k == key {
			val = value
		}
		if val != "" {
			v.Set(k, val)
		}
	}
	set("status", string(f.Status))
	set("destination", f.Destination)
	set("route", f.Route)
	set("source", f.Source)
	set("event_type", f.EventType)
	set("since", f.SinceText)
	set("until", f.UntilText)
	if key == "cursor" {
		set("cursor", "")
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

func (d *dash) deliveries(w http.ResponseWriter, r *http.Request, s session) {
	q, err := listQuery(r.URL.Query())
	if err != nil {
		d.fail(w, r, s, http.StatusBadRequest, "Cannot filter by that time: "+err.Error()+".")
		return
	}
	page, err := d.s.Store.Deliveries(r.Context(), q.Query)
	if err != nil {
		d.storeFail(w, r, s, err)
		return
	}
	type tab struct {
		Label, Link string
		Active      bool
	}
	var tabs []tab
	for _, st := range []store.Status{"", store.Pending, store.Retrying, store.Delivered, store.Dead} {
		label := string(st)
		if st == "" {
			label = "all"
		}
		tabs = append(tabs, tab{Label: label, Link: filterLink("/deliveries", q, "status", string(st)), Active: q.Status == st})
	}
	next := ""
	if page.NextCursor != "" {
		next = filterLink("/deliveries", q, "cursor", page.NextCursor)
	}
	d.render(w, r, s, http.StatusOK, "deliveries", pageData{Title: "Deliveries", Nav: "deliveries", Data: map[string]any{
		"Query": q, "Tabs": tabs, "Rows": rows(page.Deliveries), "Next": next,
		"Destinations": destNames(d.s.Current()), "Statuses": []store.Status{store.Pending, store.Retrying, store.Delivered, store.Dead},
	}})
}

func destNames(cfg *config.Config) []string {
	var out []string
	for _, dst := range cfg.Destinations {
		out = append(out, dst.Name)
	}
	return out
}

// attemptRow is an attempt on the delivery page's timeline.
type attemptRow struct {
	store.Attempt
	Class string // ok, fail
}

func (d *dash) delivery(w http.ResponseWriter, r *http.Request, s session) {
	dl, attempts, err := d.s.Store.Delivery(r.Context(), r.PathValue("id"))
	if err != nil {
		d.storeFail(w, r, s, err)
		return
	}
	var timeline []attemptRow
	for _, a := range attempts {
		c := "fail"
		if a.StatusCode >= 200 && a.StatusCode < 300 {
			c = "ok"
		}
		timeline = append(timeline, attemptRow{Attempt: a, Class: c})
	}
	d.render(w, r, s, http.StatusOK, "delivery", pageData{Title: "Delivery " + dl.ID, Nav: "deliveries", Data: map[string]any{
		"D": dl, "TraceID": api.TraceID(dl.TraceParent), "Attempts": timeline, "Body": prettyJSON(dl.Body),
		"Retryable": dl.Status.Finished(), "Test": dl.Route == testRoute,
	}})
}

func (d *dash) retry(w http.ResponseWriter, r *http.Request, s session) {
	id := r.PathValue("id")
	dl, _, err := d.s.Store.Delivery(r.Context(), id)
	if err == nil {
		err = d.s.Store.Retry(r.Context(), id, d.s.now())
	}
	if err != nil {
		d.storeFail(w, r, s, err)
		return
	}
	d.s.notify(dl.Destination)
	back := "/deliveries/" + url.PathEscape(id)
	if r.PostFormValue("from") == "dlq" {
		back = "/dlq"
	}
	http.Redirect(w, r, back+"?done=retried", http.StatusSeeOther)
}

func (d *dash) event(w http.ResponseWriter, r *http.Request, s session) {
	ev, ds, err := d.s.event(r.Context(), r.PathValue("id"))
	if err != nil {
		d.storeFail(w, r, s, err)
		return
	}
	names := make([]string, 0, len(ev.Headers))
	for k := range ev.Headers {
		names = append(names, k)
	}
	slices.Sort(names)
	type header struct{ Name, Value string }
	var headers []header
	for _, k := range names {
		headers = append(headers, header{k, ev.Headers[k]})
	}
	d.render(w, r, s, http.StatusOK, "event", pageData{Title: "Event " + ev.ID, Nav: "deliveries", Data: map[string]any{
		"E": ev, "TraceID": api.TraceID(ev.TraceParent), "Headers": headers, "Body": prettyJSON(ev.Body), "Rows": rows(ds),
	}})
}

func (d *dash) dlq(w http.ResponseWriter, r *http.Request, s session) {
	q, err := listQuery(r.URL.Query())
	if err != nil {
		d.fail(w, r, s, http.StatusBadRequest, "Cannot filter by that time: "+err.Error()+".")
		return
	}
	q.Status = store.Dead
	page, err := d.s.Store.Deliveries(r.Context(), q.Query)
	if err != nil {
		d.storeFail(w, r, s, err)
		return
	}
	now := d.s.now()
	stats, err := d.s.statsAt(r.Context(), now, now.Add(-defaultStatsWindow))
	if err != nil {
		d.storeFail(w, r, s, err)
		return
	}
	type destDead struct {
		Name string
		Dead int
	}
	var byDest []destDead
	total := 0
	for _, st := range stats.Destinations {
		if st.Dead > 0 {
			byDest = append(byDest, destDead{st.Destination, st.Dead})
			total += st.Dead
		}
	}
	next := ""
	if page.NextCursor != "" {
		next = filterLink("/dlq", q, "cursor", page.NextCursor)
	}
	d.render(w, r, s, http.StatusOK, "dlq", pageData{Title: "Dead letters", Nav: "dlq", Data: map[string]any{
		"Query": q, "Rows": rows(page.Deliveries), "Next": next, "ByDest": byDest, "Total": total,
	}})
}

func (d *dash) replay(w http.ResponseWriter, r *http.Request, s session) {
	cfg := d.s.Current()
	rq := store.ReplayQuery{Destination: r.PostFormValue("destination")}
	if rq.Destination != "" && cfg.Destination(rq.Destination) == nil {
		d.fail(w, r, s, http.StatusNotFound, "No destination named "+strconv.Quote(rq.Destination)+" is configured.")
		return
	}
	n, err := d.s.Store.Replay(r.Context(), rq, d.s.now())
	if err != nil {
		d.storeFail(w, r, s, err)
		return
	}
	for _, dst := range cfg.Destinations {
		if rq.Destination == "" || rq.Destination == dst.Name {
			d.s.notify(dst.Name)
		}
	}
	http.Redirect(w, r, "/dlq?done=replayed&n="+strconv.Itoa(n), http.StatusSeeOther)
}

func (d *dash) test(w http.ResponseWriter, r *http.Request, s session) {
	cfg := d.s.Current()
	dest := cfg.Destination(r.PathValue("name"))
	if dest == nil {
		d.fail(w, r, s, http.StatusNotFound, "No destination named "+strconv.Quote(r.PathValue("name"))+" is configured.")
		return
	}
	id, err := d.s.sendTest(r.Context(), cfg, dest, "", "", nil)
	var re *requestError
	switch {
	case errors.As(err, &re):
		d.fail(w, r, s, re.status, re.msg)
		return
	case err != nil:
		d.storeFail(w, r, s, err)
		return
	}
	// Show the delivery once its attempt is recorded, within bounds.
	extendWrite(w, r, dest.Timeout+testGrace)
	ctx, cancel := context.WithTimeout(r.Context(), dest.Timeout+testGrace)
	defer cancel()
	d.s.awaitAttempt(ctx, id, dest.Timeout+testGrace)
	http.Redirect(w, r, "/deliveries/"+url.PathEscape(id)+"?done=tested", http.StatusSeeOther)
}

// The config page's views: only what is safe to show. Secrets are never
// read; destination headers show their names only, URLs lose their
// password and query values.
type (
	sourceView struct {
		Name, Path, Verify string
		EventTypes         []string
		Unknown            string
		Dedupe             string
		Challenge          bool
		Routes             []string
	}
	routeView struct {
		Name                          string
		Sources, Events, Destinations []string
		Filter, Transform             string
		Enabled                       bool
	}
	destView struct {
		Name, URL, Sign, Retry, Rate string
		Timeout                      time.Duration
		MaxConcurrency               int
		Headers                      []string
		AllowPrivate                 bool
	}
)

func (d *dash) config(w http.ResponseWriter, r *http.Request, s session) {
	cfg := d.s.Current()
	var sources []sourceView
	for _, src := range cfg.Sources {
		v := sourceView{Name: src.Name, Path: src.Path, Verify: src.VerifyPlugin, Challenge: src.Challenge != nil, Unknown: "reject"}
		if src.AcceptUnknown {
			v.Unknown = "accept"
		}
		for t := range src.Schemas {
			v.EventTypes = append(v.EventTypes, t)
		}
		slices.Sort(v.EventTypes)
		if src.Dedupe != nil {
			v.Dedupe = src.Dedupe.Key.Source() + " within " + src.Dedupe.Window.String()
		}
		for _, rt := range src.Routes {
			v.Routes = append(v.Routes, rt.Name)
		}
		sources = append(sources, v)
	}
	var routes []routeView
	for _, rt := range cfg.Routes {
		v := routeView{Name: rt.Name, Events: rt.Events, Enabled: rt.Enabled}
		for _, src := range rt.Sources {
			v.Sources = append(v.Sources, src.Name)
		}
		for _, dst := range rt.Destinations {
			v.Destinations = append(v.Destinations, dst.Name)
		}
		if rt.Filter != nil {
			v.Filter = rt.Filter.Source()
		}
		if rt.Transform != nil {
			v.Transform = rt.Transform.Source()
		}
		routes = append(routes, v)
	}
	var dests []destView
	for _, dst := range cfg.Destinations {
		v := destView{
			Name: dst.Name, URL: dst.Shown(), Sign: dst.SignPlugin, Timeout: dst.Timeout,
			MaxConcurrency: dst.MaxConcurrency, AllowPrivate: dst.AllowPrivate,
		}
		for k := range dst.Headers {
			v.Headers = append(v.Headers, k)
		}
		slices.Sort(v.Headers)
		var steps []string
		for _, st := range dst.Retry.Schedule {
			steps = append(steps, st.String())
		}
		v.Retry = strings.Join(steps, ", ")
		if dst.Retry.Jitter > 0 {
			v.Retry += fmt.Sprintf(" (jitter %g%%)", dst.Retry.Jitter*100)
		}
		if dst.RatePerSecond > 0 {
			v.Rate = strconv.FormatFloat(dst.RatePerSecond, 'g', -1, 64) + "/s"
		}
		dests = append(dests, v)
	}
	d.render(w, r, s, http.StatusOK, "config", pageData{Title: "Config", Nav: "config", Data: map[string]any{
		"File": cfg.File, "Hash": cfg.Hash, "LoadedAt": cfg.LoadedAt, "Sources": sources, "Routes": routes, "Destinations": dests,
	}})
}

// prettyJSON indents a JSON body; other bodies are shown as they are.
func prettyJSON(b []byte) string {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return string(b)
	}
	return out.String()
}

// templateFuncs are the helpers the templates use.
var templateFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
	"hasPrefix": strings.HasPrefix,
	"ms": func(v float64) string {
		d := time.Duration(v * float64(time.Millisecond))
		switch {
		case d >= time.Second:
			return d.Round(10 * time.Millisecond).String()
		case d >= time.Millisecond:
			return d.Round(100 * time.Microsecond).String()
		}
		return d.Round(time.Microsecond).String()
	},
	"latency": func(d time.Duration) string {
		if d >= time.Millisecond {
			return d.Round(100 * time.Microsecond).String()
		}
		return d.Round(time.Microsecond).String()
	},
	"pct": func(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + "%" },
	"rateClass": func(v float64, attempts int) string {
		switch {
		case attempts == 0:
			return "muted"
		case v >= 0.99:
			return "ok"
		case v >= 0.9:
			return "warn"
		}
		return "fail"
	},
	"join": func(s []string) string { return strings.Join(s, ", ") },
	"link": filterLink,
	"path": url.PathEscape,
}
