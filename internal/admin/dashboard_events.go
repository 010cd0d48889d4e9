package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The dashboard's events page: the event search (the filter language,
// $source, $event, $headers) and a backfill of the matching events
// through the current config, after a confirmation page that shows what
// it would do (a dry run).

// eventRow is one event in the search's table.
type eventRow struct {
	ID, Source, EventType string
	ReceivedAt            time.Time
	Deliveries            int
}

// eventSearchForm is what the search form holds.
type eventSearchForm struct {
	Filter, Since, Until, Source string
	// Cursor continues a listing, or a backfill that matched more events
	// than one call takes (older ones than those it replayed).
	Cursor string
}

func (f eventSearchForm) values() url.Values {
	v := url.Values{"filter": {f.Filter}, "since": {f.Since}, "until": {f.Until}, "source": {f.Source}}
	if f.Cursor != "" {
		v.Set("cursor", f.Cursor)
	}
	return v
}

func formOf(get func(string) string) eventSearchForm {
	return eventSearchForm{Filter: get("filter"), Since: get("since"), Until: get("until"), Source: get("source"), Cursor: get("cursor")}
}

// searchProblem is a bad search as the page says it.
func searchProblem(err error) string {
	var fe *FilterError
	if errors.As(err, &fe) {
		return fmt.Sprintf("The filter does not compile: line %d, column %d: %s.", fe.Line, fe.Column, fe.Msg)
	}
	return "Cannot search that way: " + err.Error() + "."
}

func (d *dash) events(w http.ResponseWriter, r *http.Request, s session) {
	form := formOf(r.URL.Query().Get)
	v := form.values()
	data := map[string]any{"Form": form, "Sources": sourceNames(d), "Searched": r.URL.RawQuery != ""}
	es, err := parseEventSearch(v)
	if err != nil {
		data["Rows"] = []eventRow{}
		d.render(w, r, s, http.StatusBadRequest, "events", pageData{Title: "Events", Nav: "events", Error: searchProblem(err), Data: data})
		return
	}
	es.query.Limit = dashboardPage
	evs, next, err := d.s.searchPage(r.Context(), es)
	if err != nil {
		d.storeFail(w, r, s, err)
		return
	}
	rows := make([]eventRow, 0, len(evs))
	for _, ev := range evs {
		rows = append(rows, eventRow{ID: ev.ID, Source: ev.Source, EventType: ev.EventType, ReceivedAt: ev.ReceivedAt, Deliveries: len(ev.DeliveryIDs)})
	}
	data["Rows"] = rows
	if next != "" {
		nf := form
		nf.Cursor = next
		data["Next"] = "/events?" + nf.values().Encode()
	}
	d.render(w, r, s, http.StatusOK, "events", pageData{Title: "Events", Nav: "events", Data: data})
}

func sourceNames(d *dash) []string {
	var out []string
	for _, src := range d.s.Current().Sources {
		out = append(out, src.Name)
	}
	return out
}

// replayEvents is the events page's Replay button: without confirm, the
// confirmation page with a dry run; with confirm, the backfill, then back
// to the search with a notice. One call takes up to maxBackfill events;
// the notice says when more matched.
func (d *dash) replayEvents(w http.ResponseWriter, r *http.Request, s session) {
	form := formOf(r.PostFormValue)
	es, err := parseEventSearch(form.values())
	if err != nil {
		d.fail(w, r, s, http.StatusBadRequest, searchProblem(err))
		return
	}
	es.query.Limit = maxBackfill
	confirm := r.PostFormValue("confirm") == "1"
	cfg := d.s.Current()
	ans, err := d.s.backfill(r.Context(), cfg, es, "", !confirm, func() { extendWrite(w, r, 0) })
	if err != nil {
		d.storeFail(w, r, s, err)
		return
	}
	if !confirm {
		type destCount struct {
			Name string
			N    int
		}
		var dests []destCount
		for _, name := range destNames(cfg) {
			if n := ans.Destinations[name]; n > 0 {
				dests = append(dests, destCount{name, n})
			}
		}
		d.render(w, r, s, http.StatusOK, "events", pageData{Title: "Replay events?", Nav: "events", Data: map[string]any{
			"Form": form, "Confirm": ans, "Dests": dests, "More": ans.NextCursor != "", "Back": "/events?" + form.values().Encode(),
		}})
		return
	}
	// With more to go, the page comes back at the first event not yet
	// replayed: its Replay button goes on from there.
	form.Cursor = ans.NextCursor
	v := form.values()
	v.Set("done", "backfilled")
	v.Set("n", strconv.Itoa(ans.Replayed))
	v.Set("m", strconv.Itoa(ans.Deliveries))
	if ans.NextCursor != "" {
		v.Set("more", "1")
	}
	http.Redirect(w, r, "/events?"+v.Encode(), http.StatusSeeOther)
}

// backfillNotice is the events page's notice after a backfill.
func backfillNotice(q url.Values) string {
	n, _ := strconv.Atoi(q.Get("n"))
	m, _ := strconv.Atoi(q.Get("m"))
	msg := fmt.Sprintf("Replayed %d events as %d new deliveries through the current config.", n, m)
	if q.Get("more") == "1" {
		msg += fmt.Sprintf(" More than %d events matched: the events below are those not yet replayed; replay again to go on.", maxBackfill)
	}
	return msg
}
