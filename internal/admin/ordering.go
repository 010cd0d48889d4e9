package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/store"
)

// Ordered delivery's admin routes (SPEC, "Ordered delivery"):
//
//	POST /api/deliveries/{id}/discard    give up on a delivery; a blocked
//	                                     head releases its key
//	GET  /api/destinations/{name}/blocked the destination's blocked keys

// orderingRoutes adds the routes to the API mux.
func (s *Server) orderingRoutes(api *http.ServeMux) {
	api.HandleFunc("POST /api/deliveries/{id}/discard", s.discardDelivery)
	api.HandleFunc("GET /api/destinations/{name}/blocked", s.blockedKeys)
}

// orderer is the store as a store.Orderer, or nil (a store that does not
// order: the routes answer 501).
func (s *Server) orderer() store.Orderer {
	o, _ := s.Store.(store.Orderer)
	return o
}

func (s *Server) discardDelivery(w http.ResponseWriter, r *http.Request) {
	o := s.orderer()
	if o == nil {
		writeError(w, http.StatusNotImplemented, "this store does not discard deliveries")
		return
	}
	id := r.PathValue("id")
	d, _, err := s.Store.Delivery(r.Context(), id)
	if err == nil {
		err = o.Discard(r.Context(), id, s.now())
	}
	switch {
	case errors.Is(err, store.ErrConflict) && d != nil && d.Status == store.Delivered:
		writeError(w, http.StatusConflict, "the delivery was delivered; there is nothing to discard")
		return
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "the delivery is being attempted now; discard it once the attempt is recorded")
		return
	case err != nil:
		s.storeError(w, err)
		return
	}
	if d.Key != "" {
		s.notify(d.Destination) // the key's next delivery is due
	}
	s.logger().Info("delivery discarded", "delivery_id", id, "destination", d.Destination, "key", d.Key)
	writeJSON(w, http.StatusOK, api.Discarded{ID: id, Status: string(store.Dead), Discarded: true})
}

func (s *Server) blockedKeys(w http.ResponseWriter, r *http.Request) {
	o := s.orderer()
	if o == nil {
		writeError(w, http.StatusNotImplemented, "this store does not order deliveries")
		return
	}
	name := r.PathValue("name")
	if s.Current().Destination(name) == nil {
		writeError(w, http.StatusNotFound, "no destination named "+strconv.Quote(name))
		return
	}
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			writeError(w, http.StatusBadRequest, "limit must be a number from 1 to 1000")
			return
		}
		limit = n
	}
	bs, err := o.Blocked(r.Context(), name, limit)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.BlockedOf(name, bs))
}
