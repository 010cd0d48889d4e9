package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/hookgate/hookgate/internal/store"
)

// The dashboard's destination page (its blocked ordering keys) and the
// discard action.

// orderingPages adds the routes to the dashboard's mux.
func (d *dash) orderingPages(ui *http.ServeMux) {
	ui.Handle("GET /destinations/{name}", d.page(d.destination))
	ui.Handle("POST /deliveries/{id}/discard", d.action(d.discard))
}

func (d *dash) destination(w http.ResponseWriter, r *http.Request, s session) {
	name := r.PathValue("name")
	cfg := d.s.Current()
	if cfg.Destination(name) == nil {
		d.fail(w, r, s, http.StatusNotFound, "There is no destination named "+strconv.Quote(name)+".")
		return
	}
	ordered := false
	for _, rt := range cfg.Routes {
		for _, dst := range rt.Destinations {
			ordered = ordered || rt.Ordering != nil && dst.Name == name
		}
	}
	var blocked []store.BlockedKey
	if o := d.s.orderer(); o != nil {
		var err error
		if blocked, err = o.Blocked(r.Context(), name, 0); err != nil {
			d.storeFail(w, r, s, err)
			return
		}
		ordered = ordered || len(blocked) > 0
	}
	d.render(w, r, s, http.StatusOK, "destination", pageData{Title: "Destination " + name, Nav: "overview", Data: map[string]any{
		"Name": name, "Ordered": ordered, "Blocked": blocked,
	}})
}

func (d *dash) discard(w http.ResponseWriter, r *http.Request, s session) {
	o := d.s.orderer()
	if o == nil {
		d.fail(w, r, s, http.StatusNotImplemented, "This store does not discard deliveries.")
		return
	}
	id := r.PathValue("id")
	dl, _, err := d.s.Store.Delivery(r.Context(), id)
	if err == nil {
		err = o.Discard(r.Context(), id, d.s.now())
	}
	if errors.Is(err, store.ErrConflict) {
		d.fail(w, r, s, http.StatusConflict, "The delivery was delivered, or is being attempted now.")
		return
	}
	if err != nil {
		d.storeFail(w, r, s, err)
		return
	}
	d.s.notify(dl.Destination)
	http.Redirect(w, r, "/destinations/"+url.PathEscape(dl.Destination)+"?done=discarded", http.StatusSeeOther)
}
