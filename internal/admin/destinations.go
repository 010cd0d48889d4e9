package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/store"
)

// Health is what the destinations routes need of the delivery engine:
// each destination's state and concurrency, and a prompt re-read of the
// paused set after a pause or resume. *delivery.Engine has it.
type Health interface {
	Health() []delivery.DestinationHealth
	RefreshPauses(ctx context.Context) error
}

// destinationRoutes adds GET /api/destinations and the pause and resume
// routes to api.
func (s *Server) destinationRoutes(api *http.ServeMux) {
	api.HandleFunc("GET /api/destinations", s.listDestinations)
	api.HandleFunc("POST /api/destinations/{name}/pause", s.pauseDestination)
	api.HandleFunc("POST /api/destinations/{name}/resume", s.resumeDestination)
}

// destinations returns every destination of the running config with its
// state: the engine's (breaker, concurrency), and paused when the store
// says so (a pause made on another instance shows at once).
func (s *Server) destinations(ctx context.Context) ([]api.Destination, error) {
	cfg := s.Current()
	health := map[string]delivery.DestinationHealth{}
	if s.Health != nil {
		for _, h := range s.Health.Health() {
			health[h.Name] = h
		}
	}
	var paused map[string]store.Pause
	if p, ok := s.Store.(store.Pauses); ok {
		var err error
		if paused, err = p.Paused(ctx); err != nil {
			return nil, err
		}
	}
	out := make([]api.Destination, 0, len(cfg.Destinations))
	for _, d := range cfg.Destinations {
		v := api.Destination{Name: d.Name, State: string(delivery.Closed),
			MaxConcurrency: max(d.MaxConcurrency, 1), Adaptive: d.AdaptiveConcurrency}
		if d.Kind == "" {
			v.URL = d.ShownURL()
		} else {
			v.Kind, v.Target = d.Kind, d.Shown()
		}
		v.Concurrency = v.MaxConcurrency
		if h, ok := health[d.Name]; ok {
			v.State, v.Concurrency, v.InFlight = string(h.State), h.Concurrency, h.InFlight
		}
		if d.Breaker != nil {
			v.Breaker = &api.Breaker{Failures: d.Breaker.Failures, Cooldown: d.Breaker.Cooldown.String()}
		}
		if p, ok := paused[d.Name]; ok {
			at := p.At
			v.State, v.PausedAt = string(delivery.Paused), &at
		} else if v.State == string(delivery.Paused) {
			v.State = string(delivery.Closed) // resumed on another instance; this one learns it within a poll
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *Server) listDestinations(w http.ResponseWriter, r *http.Request) {
	ds, err := s.destinations(r.Context())
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.Destinations{Destinations: ds})
}

func (s *Server) pauseDestination(w http.ResponseWriter, r *http.Request) {
	s.setPause(w, r, true)
}

func (s *Server) resumeDestination(w http.ResponseWriter, r *http.Request) {
	s.setPause(w, r, false)
}

// errNoPauses: the store keeps no pauses.
var errNoPauses = errors.New("this store cannot pause destinations")

// setPause pauses or resumes the destination named in the path, in the
// store (so every instance and a restart see it), and has the engine
// apply it at once. It answers the destination as GET /api/destinations
// shows it.
func (s *Server) setPause(w http.ResponseWriter, r *http.Request, pause bool) {
	v, err := s.pause(r.Context(), r.PathValue("name"), pause)
	switch {
	case errors.Is(err, errNoPauses):
		writeError(w, http.StatusNotImplemented, err.Error())
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("no destination %q in the running config", r.PathValue("name")))
	case err != nil:
		s.storeError(w, err)
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

// pause pauses or resumes destination name and returns its view.
func (s *Server) pause(ctx context.Context, name string, pause bool) (*api.Destination, error) {
	if s.Current().Destination(name) == nil {
		return nil, store.ErrNotFound
	}
	p, ok := s.Store.(store.Pauses)
	if !ok {
		return nil, errNoPauses
	}
	var err error
	if pause {
		err = p.Pause(ctx, name, s.now())
	} else {
		err = p.Resume(ctx, name)
	}
	if err != nil {
		return nil, err
	}
	action := "resumed"
	if pause {
		action = "paused"
	}
	s.logger().Info("destination "+action, "destination", name)
	if s.Health != nil {
		if err := s.Health.RefreshPauses(ctx); err != nil {
			// The engine reads the pauses every poll anyway.
			s.logger().Warn("apply the pause now; the engine applies it within a poll", "destination", name, "error", err)
		}
	}
	if !pause {
		s.notify(name)
	}
	ds, err := s.destinations(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		if ds[i].Name == name {
			return &ds[i], nil
		}
	}
	return nil, store.ErrNotFound
}
