// Package admin is the operator's HTTP surface on admin_listen: health and
// readiness, Prometheus metrics, the JSON admin API over deliveries, events
// and the dead-letter set (SPEC's admin table, plus the test endpoint
// POST /api/destinations/{name}/test and the store's backup, GET
// /api/backup in backup.go), and the server-rendered dashboard at
// / (dashboard.go, templates/, static/), and Go's profiles under
// /debug/pprof/. Every route but /healthz and /readyz requires
// `Authorization: Bearer <admin_token>` when a token is set; the dashboard
// trades the token for a session cookie through its login form, whose
// failures are rate-limited per client address. Without a token, they
// answer only to a loopback peer naming a loopback Host. State-changing
// requests a browser sends from another site are refused (403) on the API
// as on the dashboard.
//
// It must not deliver or route anything; it reads and changes records
// through the store, and wakes the delivery engine after a retry, a replay
// or a test event (which it stores as an ordinary delivery).
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/telemetry"
)

// Store is what the admin API needs of the store.
type Store interface {
	Delivery(ctx context.Context, id string) (*store.Delivery, []store.Attempt, error)
	Event(ctx context.Context, id string) (*store.Event, error)
	Deliveries(ctx context.Context, q store.Query) (store.Page, error)
	// Events lists events for the search and the export (search.go).
	Events(ctx context.Context, q store.EventQuery) (store.EventPage, error)
	Retry(ctx context.Context, id string, now time.Time) error
	Replay(ctx context.Context, q store.ReplayQuery, now time.Time) (int, error)
	StatsWindows(ctx context.Context, sinces []time.Time) ([][]store.DestinationStats, error)
	Ping(ctx context.Context) error
	// Accept stores the sample event of POST /api/destinations/{name}/test.
	Accept(ctx context.Context, ev *store.Event, ds []*store.Delivery, dd *store.Dedupe) (string, error)
}

// Server serves the admin API.
type Server struct {
	Current func() *config.Config
	Store   Store
	Metrics *telemetry.Metrics
	// Notify wakes the delivery engine for a destination. May be nil.
	Notify func(destination string)
	Now    func() time.Time
	Logger *slog.Logger
	// Reload reloads the config file, as SIGHUP does (POST /api/reload).
	// A config refused for its diagnostics is a *ReloadError. May be nil:
	// the route then answers 501.
	Reload func(ctx context.Context) (ReloadResult, error)
	// Health reports destinations' states and applies a pause at once
	// (destinations.go). May be nil: states then read closed, and a pause
	// applies within the engine's poll.
	Health Health
}

// ReloadResult is what a reload did: POST /api/reload's answer.
type ReloadResult = api.Reload

// ReloadError is a reload refused because the config has errors; the
// running config stays.
type ReloadError struct {
	Diagnostics hcl.Diagnostics
	// Text is the diagnostics as `hookgate validate` prints them.
	Text string
}

func (e *ReloadError) Error() string {
	return "the config has errors; the running config was kept: " + e.Diagnostics.Error()
}

// Handler returns the admin routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.Health{Status: "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.guard(s.Metrics.Handler()))
	}
	prof := http.NewServeMux()
	prof.HandleFunc("GET /debug/pprof/", pprof.Index) // and the named profiles: heap, goroutine, allocs…
	prof.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	// profile and trace extend their own write deadline beyond the
	// server's WriteTimeout by the seconds asked for.
	prof.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	prof.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	prof.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	prof.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol) // go tool pprof looks symbols up with a POST
	mux.Handle("/debug/pprof/", s.guard(prof))
	api := http.NewServeMux()
	api.HandleFunc("GET /api/deliveries", s.listDeliveries)
	api.HandleFunc("GET /api/deliveries/{id}", s.getDelivery)
	api.HandleFunc("POST /api/deliveries/{id}/retry", s.retryDelivery)
	api.HandleFunc("GET /api/events", s.listEvents)
	api.HandleFunc("GET /api/events/export", s.exportEvents)
	api.HandleFunc("POST /api/events/replay", s.replayEvents)
	api.HandleFunc("GET /api/events/{id}", s.getEvent)
	api.HandleFunc("POST /api/dlq/replay", s.replay)
	api.HandleFunc("GET /api/dlq/export", s.export)
	api.HandleFunc("GET /api/backup", s.backup)
	api.HandleFunc("GET /api/stats", s.stats)
	api.HandleFunc("POST /api/reload", s.reload)
	api.HandleFunc("POST /api/destinations/{name}/test", s.testDestination)
	s.destinationRoutes(api)
	s.orderingRoutes(api)
	mux.Handle("/api/", s.guard(api))
	s.dashboard(mux)
	return mux
}

// guard puts next behind the cross-origin check and the bearer token: the
// routes of the API, /metrics and /debug/pprof/.
func (s *Server) guard(next http.Handler) http.Handler {
	return crossOrigin(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusForbidden, "cross-origin requests are refused: a state-changing request from a browser must come from the admin address itself")
	}, s.auth(next))
}

// crossOrigin refuses, with deny, the state-changing requests (not GET,
// HEAD or OPTIONS) a browser sends from another site: Sec-Fetch-Site other
// than same-origin or none, or, without it, an Origin whose host is not the
// request's Host. Requests without either header (curl, the CLI) pass.
func crossOrigin(deny http.HandlerFunc, next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(deny)
	return cop.Handler(next)
}

// auth requires the bearer admin token when one is set, compared in
// constant time; without one, a loopback request (localOnly).
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := s.Current().Gateway.AdminToken
		if tok.Empty() && !localOnly(r) {
			writeError(w, http.StatusForbidden, "without an admin_token the admin server answers only to loopback: a loopback client naming a loopback Host")
			return
		}
		if !tok.Empty() {
			given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || !tok.Equal(given) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="hookgate"`)
				writeError(w, http.StatusUnauthorized, "a valid admin token is required: Authorization: Bearer <admin_token>")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	cfg := s.Current()
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, api.Unready{Status: "unavailable", Error: "storage is not reachable"})
		return
	}
	writeJSON(w, http.StatusOK, api.Ready{Status: "ready", ConfigHash: cfg.Hash, ConfigLoadedAt: cfg.LoadedAt.UTC()})
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := store.Query{
		Status:      store.Status(q.Get("status")),
		Destination: q.Get("destination"),
		Route:       q.Get("route"),
		Source:      q.Get("source"),
		EventType:   q.Get("event_type"),
		Cursor:      q.Get("cursor"),
	}
	if query.Status != "" && !query.Status.Valid() {
		writeError(w, http.StatusBadRequest, "status must be pending, retrying, delivered or dead")
		return
	}
	var err error
	if query.Limit, err = intParam(q.Get("limit"), store.DefaultLimit, 1, store.MaxLimit); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("limit must be a number from 1 to %d", store.MaxLimit))
		return
	}
	if query.Since, query.Until, err = timeRange(q.Get("since"), q.Get("until")); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	page, err := s.Store.Deliveries(r.Context(), query)
	if err != nil {
		s.storeError(w, err)
		return
	}
	out := api.Deliveries{Deliveries: make([]api.Delivery, 0, len(page.Deliveries)), NextCursor: page.NextCursor}
	for _, d := range page.Deliveries {
		out.Deliveries = append(out.Deliveries, api.DeliveryOf(d, nil, false))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request) {
	d, attempts, err := s.Store.Delivery(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.DeliveryOf(d, attempts, true))
}

// event loads an event and its deliveries still stored.
func (s *Server) event(ctx context.Context, id string) (*store.Event, []*store.Delivery, error) {
	ev, err := s.Store.Event(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	var ds []*store.Delivery
	for _, did := range ev.DeliveryIDs {
		d, _, err := s.Store.Delivery(ctx, did)
		if errors.Is(err, store.ErrNotFound) {
			continue // cleaned up
		}
		if err != nil {
			return nil, nil, err
		}
		ds = append(ds, d)
	}
	return ev, ds, nil
}

// getEvent is GET /api/events/{id}: the event and a summary of each of its
// deliveries (without their bodies and attempts).
func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	ev, ds, err := s.event(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, err)
		return
	}
	views := make([]api.Delivery, 0, len(ds))
	for _, d := range ds {
		views = append(views, api.DeliveryOf(d, nil, false))
	}
	writeJSON(w, http.StatusOK, api.EventOf(ev, views))
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d, _, err := s.Store.Delivery(r.Context(), id)
	if err == nil {
		err = s.Store.Retry(r.Context(), id, s.now())
	}
	if err != nil {
		s.storeError(w, err)
		return
	}
	s.notify(d.Destination)
	writeJSON(w, http.StatusAccepted, api.Retried{ID: id, Status: string(store.Pending)})
}

func (s *Server) replay(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rq := store.ReplayQuery{Destination: q.Get("destination"), Route: q.Get("route")}
	var err error
	if rq.Since, rq.Until, err = timeRange(q.Get("since"), q.Get("until")); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	cfg := s.Current()
	if rq.Destination != "" && cfg.Destination(rq.Destination) == nil {
		writeError(w, http.StatusNotFound, "no destination named "+strconv.Quote(rq.Destination))
		return
	}
	if f := q.Get("filter"); f != "" {
		s.replayFiltered(w, r, rq, f) // dlqfilter.go
		return
	}
	n, err := s.Store.Replay(r.Context(), rq, s.now())
	if err != nil {
		s.storeError(w, err)
		return
	}
	for _, d := range cfg.Destinations {
		if rq.Destination == "" || rq.Destination == d.Name {
			s.notify(d.Name)
		}
	}
	writeJSON(w, http.StatusOK, api.Replayed{Replayed: n})
}

// exportPage is how many dead deliveries the export lists at a time; it
// then reads their bodies one by one (listings carry none).
const exportPage = 100

// export streams every dead delivery, with its payload, as NDJSON. Each
// page moves the write deadline on, so an export longer than the server's
// WriteTimeout goes on as long as it makes progress.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := store.Query{Status: store.Dead, Destination: q.Get("destination"), Route: q.Get("route"), Limit: exportPage}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="hookgate-dlq.ndjson"`)
	enc := json.NewEncoder(w)
	for {
		extendWrite(w, r, 0)
		page, err := s.Store.Deliveries(r.Context(), query)
		if err != nil {
			s.logger().Error("dlq export", "error", err)
			return // the status is sent; a cut stream shows the failure
		}
		for _, listed := range page.Deliveries {
			d, _, err := s.Store.Delivery(r.Context(), listed.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue // cleaned up meanwhile
			}
			if err != nil {
				s.logger().Error("dlq export", "delivery_id", listed.ID, "error", err)
				return
			}
			if err := enc.Encode(api.DeliveryOf(d, nil, true)); err != nil {
				return
			}
		}
		if page.NextCursor == "" {
			return
		}
		query.Cursor = page.NextCursor
	}
}

// defaultStatsWindow is the window of GET /api/stats without ?since.
const defaultStatsWindow = 24 * time.Hour

// stats is GET /api/stats?since=1h|RFC3339 (default 24h): per destination,
// deliveries by state (all stored) and attempt figures over the window, and
// over the last hour and last 24 hours. Every configured destination is
// listed, with zeros when it has nothing; destinations no longer
// configured but with stored deliveries are listed too. Sorted by name.
func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	since := now.Add(-defaultStatsWindow)
	if v := r.URL.Query().Get("since"); v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			since = t
		} else if d, err := time.ParseDuration(v); err == nil && d > 0 {
			since = now.Add(-d)
		} else {
			writeError(w, http.StatusBadRequest, "since must be an RFC 3339 time or a duration such as 1h")
			return
		}
	}
	ans, err := s.statsAt(r.Context(), now, since)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

// statsAt gathers the figures of GET /api/stats at now.
func (s *Server) statsAt(ctx context.Context, now, since time.Time) (*api.Stats, error) {
	cfg := s.Current()
	ans := &api.Stats{Since: since.UTC(), ConfigHash: cfg.Hash, ConfigLoadedAt: cfg.LoadedAt.UTC()}
	ans.Windows.LastHour = now.Add(-time.Hour).UTC()
	ans.Windows.LastDay = now.Add(-24 * time.Hour).UTC()
	// The three windows are read in one pass over the store.
	byStart := map[time.Time][]store.DestinationStats{}
	var starts []time.Time
	for _, t := range []time.Time{since.UTC(), ans.Windows.LastHour, ans.Windows.LastDay} {
		if !slices.Contains(starts, t) {
			starts = append(starts, t)
		}
	}
	got, err := s.Store.StatsWindows(ctx, starts)
	if err != nil {
		return nil, err
	}
	for i, t := range starts {
		byStart[t] = got[i]
	}
	views := map[string]*api.DestinationStats{}
	get := func(name string) *api.DestinationStats {
		v, ok := views[name]
		if !ok {
			v = &api.DestinationStats{Destination: name}
			views[name] = v
		}
		return v
	}
	for _, d := range cfg.Destinations {
		get(d.Name)
	}
	for _, st := range byStart[since.UTC()] {
		*get(st.Destination) = api.StatsOf(st) // before the fixed windows are filled in
	}
	for _, st := range byStart[ans.Windows.LastHour] {
		get(st.Destination).LastHour = api.WindowOf(st)
	}
	for _, st := range byStart[ans.Windows.LastDay] {
		get(st.Destination).LastDay = api.WindowOf(st)
	}
	ans.Destinations = make([]api.DestinationStats, 0, len(views))
	for _, v := range views {
		ans.Destinations = append(ans.Destinations, *v)
	}
	slices.SortFunc(ans.Destinations, func(a, b api.DestinationStats) int { return strings.Compare(a.Destination, b.Destination) })
	return ans, nil
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	if s.Reload == nil {
		writeError(w, http.StatusNotImplemented, "reload is not available")
		return
	}
	res, err := s.Reload(r.Context())
	var rerr *ReloadError
	switch {
	case errors.As(err, &rerr):
		diags := []api.Diagnostic{}
		for _, d := range rerr.Diagnostics {
			v := api.Diagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
			if d.Severity == hcl.DiagWarning {
				v.Severity = "warning"
			}
			if d.Subject != nil {
				v.Range = fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
			}
			diags = append(diags, v)
		}
		writeJSON(w, http.StatusUnprocessableEntity, api.ReloadRefused{
			Error:       "the config has errors; the running config was kept",
			Diagnostics: diags,
			Text:        rerr.Text,
		})
	case err != nil:
		s.logger().Error("reload", "error", err)
		writeError(w, http.StatusInternalServerError, "reload failed: "+err.Error())
	default:
		if res.RestartNeeded == nil {
			res.RestartNeeded = []string{}
		}
		writeJSON(w, http.StatusOK, res)
	}
}

func (s *Server) storeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found")
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "the delivery is pending or retrying already")
	case errors.Is(err, store.ErrUnavailable):
		writeError(w, http.StatusServiceUnavailable, "storage is unavailable")
	default:
		s.logger().Error("admin store", "error", err)
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

func (s *Server) notify(dest string) {
	if s.Notify != nil {
		s.Notify(dest)
	}
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// localOnly reports whether r may be served without an admin token: it
// comes from a loopback address and names a loopback Host. The config
// refuses a tokenless admin_listen that is not loopback, and a reload
// refuses to drop the token while the running one is not; the peer check
// still holds if the server was reached otherwise, and the Host check
// refuses a browser tricked by DNS rebinding.
func localOnly(r *http.Request) bool {
	return loopbackHost(r.Host) && loopbackPeer(r.RemoteAddr)
}

// loopbackPeer reports whether a request's RemoteAddr (ip:port) is a
// loopback address, IPv4-mapped ones included.
func loopbackPeer(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// loopbackHost reports whether a request's Host names this machine's
// loopback: localhost or a loopback IP, with or without a port.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func intParam(s string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, errors.New("out of range")
	}
	return n, nil
}

// timeRange parses since and until, RFC 3339 times or durations before now
// ("1h").
func timeRange(since, until string) (time.Time, time.Time, error) {
	parse := func(name, s string) (time.Time, error) {
		if s == "" {
			return time.Time{}, nil
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			return time.Now().Add(-d), nil
		}
		return time.Time{}, errors.New(name + " must be an RFC 3339 time or a duration such as 1h")
	}
	a, err := parse("since", since)
	if err != nil {
		return a, a, err
	}
	b, err := parse("until", until)
	return a, b, err
}

// extendWrite moves the answer's write deadline to the server's
// WriteTimeout plus extra from now, for answers that may rightly take
// longer than the WriteTimeout alone allows (a test send waiting for its
// attempt, an export in pages), as net/http/pprof does for profiles. A
// server without a WriteTimeout is left without one.
func extendWrite(w http.ResponseWriter, r *http.Request, extra time.Duration) {
	srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok || srv.WriteTimeout <= 0 {
		return
	}
	// A ResponseWriter without deadlines (a test recorder) has nothing to
	// extend.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(srv.WriteTimeout + extra))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	api.Encode(w, v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, api.Error{Error: msg})
}
