package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/rules"
	"github.com/hookgate/hookgate/internal/store"
)

// EventFilter is a compiled search over accepted events: the expression
// language of route filters, over the event's payload with $source,
// $event and $headers (the stored ones: credential headers are never
// stored).
type EventFilter struct {
	prog *rules.Program
}

// FilterError is an expression that does not compile; the API answers it
// with 400 and its position.
type FilterError struct {
	Line, Column int
	Msg          string
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("filter: %d:%d: %s", e.Line, e.Column, e.Msg)
}

// eventVars are the `$` variables of an event search.
var eventVars = []string{"$body", "$headers", "$source", "$event", "$env"}

// CompileEventFilter compiles expr; "" is a filter every event passes
// (nil, nil). Its error is a *FilterError.
func CompileEventFilter(expr string) (*EventFilter, error) {
	if expr == "" {
		return nil, nil
	}
	prog, err := compileFilter(expr, eventVars)
	if err != nil {
		return nil, err
	}
	return &EventFilter{prog: prog}, nil
}

// compileFilter compiles a boolean expression over a payload of any shape
// whose `$` variables are those of vars: another is an error at its
// place, as a misspelt field of a typed route filter is.
func compileFilter(src string, vars []string) (*rules.Program, error) {
	prog, err := rules.Compile(src, nil, rules.BoolResult)
	if err != nil {
		var ce *rules.CompileError
		if errors.As(err, &ce) {
			return nil, &FilterError{Line: ce.Line, Column: ce.Column, Msg: ce.Msg}
		}
		return nil, &FilterError{Line: 1, Column: 1, Msg: err.Error()}
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, &FilterError{Line: 1, Column: 1, Msg: err.Error()}
	}
	var bad *FilterError
	ast.Walk(&tree.Node, visitor(func(n ast.Node) {
		id, ok := n.(*ast.IdentifierNode)
		if !ok || bad != nil || !strings.HasPrefix(id.Value, "$") || slices.Contains(vars, id.Value) {
			return
		}
		line, col := position(src, id.Location().From)
		bad = &FilterError{Line: line, Column: col, Msg: fmt.Sprintf("unknown variable %q; these are known: %s", id.Value, strings.Join(vars, ", "))}
	}))
	if bad != nil {
		return nil, bad
	}
	return prog, nil
}

type visitor func(ast.Node)

func (v visitor) Visit(n *ast.Node) { v(*n) }

// position is the 1-based line and column (in characters) of the
// character offset off of src.
func position(src string, off int) (line, col int) {
	line, col = 1, 1
	i := 0
	for _, r := range src {
		if i == off {
			break
		}
		i++
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// Match reports whether ev passes f. A nil filter passes everything; an
// event whose body is not JSON, or on which the expression fails at run
// time (a field of a missing object), does not pass.
func (f *EventFilter) Match(ev *store.Event) bool {
	if f == nil {
		return true
	}
	var payload any
	if err := json.Unmarshal(ev.Body, &payload); err != nil {
		return false
	}
	ok, err := f.prog.Bool(&rules.Input{Body: payload, Headers: ev.Headers, Source: ev.Source, Event: ev.EventType})
	return err == nil && ok
}

// searchScan bounds how many stored events one search page reads, so a
// filter that matches little answers a short page with a cursor instead of
// reading the whole store in one request.
const searchScan = 20_000

// eventSearch is a parsed event search: the store's query and the filter.
type eventSearch struct {
	query  store.EventQuery
	filter *EventFilter
	// all includes the events the gateway stored itself: test sends
	// (POST /api/destinations/{name}/test) and a backfill's copies.
	all bool
}

// fromSender reports whether ev came from a sender: not a backfill's copy
// (ReplayOf, which only the gateway sets) and not a test send. A test
// send is told by its delivery's route, "@test", which no configured
// route can be named: its x-hookgate-test header alone a sender could
// forge to hide an event.
func (s *Server) fromSender(ctx context.Context, ev *store.Event) (bool, error) {
	if ev.ReplayOf != "" {
		return false, nil
	}
	if ev.Headers["x-hookgate-test"] == "" || len(ev.DeliveryIDs) != 1 {
		return true, nil
	}
	d, _, err := s.Store.Delivery(ctx, ev.DeliveryIDs[0])
	switch {
	case errors.Is(err, store.ErrNotFound):
		return true, nil
	case err != nil:
		return false, err
	}
	return d.Route != testRoute, nil
}

// parseEventSearch reads source, since, until, filter, limit and cursor.
// Its error is a message for a 400 (a *FilterError for the filter).
func parseEventSearch(q url.Values) (eventSearch, error) {
	es := eventSearch{query: store.EventQuery{Source: q.Get("source"), Cursor: q.Get("cursor")}, all: q.Get("include") == "all"}
	var err error
	if es.query.Limit, err = intParam(q.Get("limit"), store.DefaultLimit, 1, store.MaxLimit); err != nil {
		return es, fmt.Errorf("limit must be a number from 1 to %d", store.MaxLimit)
	}
	if es.query.Since, es.query.Until, err = timeRange(q.Get("since"), q.Get("until")); err != nil {
		return es, err
	}
	if err := es.query.Check(); err != nil {
		return es, errors.New("until must be after since")
	}
	es.filter, err = CompileEventFilter(q.Get("filter"))
	return es, err
}

// searchPage reads stored events until it holds the query's limit of
// matches, the listing ends, or it has read searchScan events; the cursor
// continues it ("" at the end).
func (s *Server) searchPage(ctx context.Context, es eventSearch) ([]*store.Event, string, error) {
	limit := es.query.PageSize()
	q := es.query
	var out []*store.Event
	for scanned := 0; ; {
		q.Limit = limit - len(out)
		page, err := s.Store.Events(ctx, q)
		if err != nil {
			return nil, "", err
		}
		scanned += len(page.Events)
		for _, ev := range page.Events {
			if !es.filter.Match(ev) {
				continue
			}
			if !es.all {
				ok, err := s.fromSender(ctx, ev)
				if err != nil {
					return nil, "", err
				}
				if !ok {
					continue
				}
			}
			out = append(out, ev)
		}
		if page.NextCursor == "" || len(out) >= limit || scanned >= searchScan {
			return out, page.NextCursor, nil
		}
		q.Cursor = page.NextCursor
	}
}

// searchError answers a bad search with 400: for a filter, its line and
// column too.
func searchError(w http.ResponseWriter, err error) {
	var fe *FilterError
	if errors.As(err, &fe) {
		writeJSON(w, http.StatusBadRequest, api.FilterError{Error: fe.Error(), Line: fe.Line, Column: fe.Column})
		return
	}
	writeError(w, http.StatusBadRequest, err.Error())
}

// listEvents is GET /api/events: accepted events, newest first, matching
// source, since, until and filter, with their bodies.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	es, err := parseEventSearch(r.URL.Query())
	if err != nil {
		searchError(w, err)
		return
	}
	evs, next, err := s.searchPage(r.Context(), es)
	if err != nil {
		s.storeError(w, err)
		return
	}
	out := api.Events{Events: make([]api.ReceivedEvent, 0, len(evs)), NextCursor: next}
	for _, ev := range evs {
		out.Events = append(out.Events, api.ReceivedEventOf(ev))
	}
	writeJSON(w, http.StatusOK, out)
}

// exportEvents is GET /api/events/export: every matching event as
// received, oldest last, as NDJSON. Each page moves the write deadline on,
// as the dead-letter export does.
func (s *Server) exportEvents(w http.ResponseWriter, r *http.Request) {
	es, err := parseEventSearch(r.URL.Query())
	if err != nil {
		searchError(w, err)
		return
	}
	es.query.Limit = exportPage
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="hookgate-events.ndjson"`)
	for {
		extendWrite(w, r, 0)
		evs, next, err := s.searchPage(r.Context(), es)
		if err != nil {
			s.logger().Error("events export", "error", err)
			return // the status is sent; a cut stream shows the failure
		}
		for _, ev := range evs {
			if err := api.Encode(w, api.ReceivedEventOf(ev)); err != nil {
				return
			}
		}
		if next == "" {
			return
		}
		es.query.Cursor = next
	}
}
