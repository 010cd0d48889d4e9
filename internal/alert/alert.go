// Package alert raises hookgate's operational alerts (SPEC, Destination
// health): the alert blocks of the config watch for dead deliveries, open
// breakers, bursts of 401s (verify_failures) and of 422s (schema_rejects),
// and each condition, when it arises and when it clears, becomes a delivery
// to an ordinary destination: stored like any other, so it is signed,
// retried and traced by the delivery engine.
//
// The delivery engine and ingest report what they see (Dead, Delivered,
// Breaker, Refused); a Manager keeps the conditions, at most one alert per
// alert block, kind and subject per the block's `every`, and a resolving
// alert once a condition clears. An alert destination's own dead
// deliveries and breaker never raise alerts (no loops).
package alert

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// Source is the source of the events alerts are stored as; RoutePrefix
// starts their deliveries' route ("@alert:NAME").
const (
	Source      = "@alert"
	RoutePrefix = "@alert:"
)

// Tick is how often a Manager re-counts its windows, sends what its
// `every` held back, and resolves what cleared.
const Tick = time.Second

// Store is where alerts are stored for delivery; store.Store has it.
type Store interface {
	Accept(ctx context.Context, ev *store.Event, ds []*store.Delivery, dd *store.Dedupe) (string, error)
}

// Body is an alert's JSON body.
type Body struct {
	// Alert is the kind: dead, breaker_open, verify_failures, schema_rejects.
	Alert string `json:"alert"`
	// Name is the alert block's name.
	Name string `json:"name"`
	// Subject is the destination (dead, breaker_open) or the source.
	Subject string `json:"subject"`
	// Count is how many times it happened since it arose (for the
	// windowed kinds: within the last 5 minutes).
	Count     int       `json:"count"`
	FirstAt   time.Time `json:"first_at"`
	LastAt    time.Time `json:"last_at"`
	LastError string    `json:"last_error,omitempty"`
	// Resolved is true on the alert that says the condition cleared.
	Resolved bool `json:"resolved"`
}

// Manager keeps the conditions and sends the alerts. Its methods are safe
// for concurrent use; a nil *Manager ignores everything.
type Manager struct {
	st     Store
	notify func(destination string)
	now    func() time.Time
	log    *slog.Logger

	mu     sync.Mutex
	alerts []*config.Alert
	// quiet are the alert destinations: nothing about them raises alerts.
	quiet map[string]bool
	conds map[condKey]*condition
	// hits are the recent 401s and 422s per source, for the windowed kinds.
	hits map[condKey][]hit
}

type condKey struct{ kind, subject string }

type hit struct {
	at  time.Time
	err string
}

// condition is one kind and subject, firing or not.
type condition struct {
	firing          bool
	count           int
	firstAt, lastAt time.Time
	lastErr         string
	// per alert block: what was sent of this condition.
	sent map[string]*sentState
}

type sentState struct {
	at        time.Time // the last firing alert sent
	count     int       // its count
	announced bool      // a firing alert went out since it arose
}

// Options configure a Manager.
type Options struct {
	// Notify wakes the delivery engine for an alert's destination. May
	// be nil.
	Notify func(destination string)
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// New returns a manager storing alerts in st, for cfg's alert blocks.
func New(st Store, cfg *config.Config, opts Options) *Manager {
	m := &Manager{st: st, notify: opts.Notify, now: opts.Now, log: opts.Logger,
		conds: map[condKey]*condition{}, hits: map[condKey][]hit{}}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.Update(cfg)
	return m
}

// Update takes the alert blocks of a reloaded config. Conditions carry
// over; an alert block that is gone sends nothing more.
func (m *Manager) Update(cfg *config.Config) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.alerts = nil
	m.quiet = map[string]bool{}
	if cfg == nil {
		return
	}
	m.alerts = cfg.Alerts
	for _, a := range cfg.Alerts {
		if a.Destination != nil {
			m.quiet[a.Destination.Name] = true
		}
	}
}

// Run re-counts windows, sends held-back alerts and resolves cleared
// conditions every Tick until ctx is done.
func (m *Manager) Run(ctx context.Context) {
	if m == nil {
		return
	}
	t := time.NewTicker(Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.tick(ctx)
		}
	}
}

// Dead reports a delivery to destination dead-lettered for reason.
func (m *Manager) Dead(destination, reason string) {
	m.raise(config.AlertDead, destination, reason, 1)
}

// Delivered reports a delivered attempt to destination: it clears the
// destination's dead condition.
func (m *Manager) Delivered(destination string) {
	m.clear(config.AlertDead, destination)
}

// Breaker reports a destination's breaker opened (open) or closed.
func (m *Manager) Breaker(destination string, open bool, lastErr string) {
	if open {
		m.raise(config.AlertBreakerOpen, destination, lastErr, 1)
	} else {
		m.clear(config.AlertBreakerOpen, destination)
	}
}

// Refused reports ingest's answer status to a request on source: 401s
// count towards verify_failures, 422s towards schema_rejects.
func (m *Manager) Refused(source string, status int, reason string) {
	if m == nil {
		return
	}
	var kind string
	switch status {
	case 401:
		kind = config.AlertVerifyFailures
	case 422:
		kind = config.AlertSchemaRejects
	default:
		return
	}
	now := m.now()
	m.mu.Lock()
	watched, threshold := m.watchedLocked(kind)
	if !watched {
		m.mu.Unlock()
		return
	}
	k := condKey{kind, source}
	hs := append(trim(m.hits[k], now), hit{now, reason})
	m.hits[k] = hs
	m.mu.Unlock()
	if len(hs) > threshold {
		m.raise(kind, source, reason, 0)
	}
}

// watchedLocked reports whether some alert block watches kind, and the
// lowest threshold among them.
func (m *Manager) watchedLocked(kind string) (bool, int) {
	found, threshold := false, 0
	for _, a := range m.alerts {
		if a.Watches(kind) {
			if !found || a.Threshold < threshold {
				threshold = a.Threshold
			}
			found = true
		}
	}
	return found, threshold
}

// trim drops hits older than the window.
func trim(hs []hit, now time.Time) []hit {
	i := 0
	for i < len(hs) && now.Sub(hs[i].at) > config.AlertWindow {
		i++
	}
	return hs[i:]
}

// raise records an occurrence of kind on subject (n: how many; 0 for a
// windowed kind, whose count is its window's) and sends what is due.
func (m *Manager) raise(kind, subject, errText string, n int) {
	if m == nil {
		return
	}
	now := m.now()
	m.mu.Lock()
	if (kind == config.AlertDead || kind == config.AlertBreakerOpen) && m.quiet[subject] {
		m.mu.Unlock()
		return
	}
	if watched, _ := m.watchedLocked(kind); !watched {
		m.mu.Unlock()
		return
	}
	k := condKey{kind, subject}
	c := m.conds[k]
	if c == nil {
		c = &condition{sent: map[string]*sentState{}}
		m.conds[k] = c
	}
	arising := !c.firing
	if arising {
		c.firing, c.count, c.firstAt = true, 0, now
	}
	if n == 0 {
		// A windowed kind: its count is the window's, from its first hit.
		hs := m.hits[k]
		c.count = len(hs)
		if arising && len(hs) > 0 {
			c.firstAt = hs[0].at
		}
	} else {
		c.count += n
	}
	c.lastAt, c.lastErr = now, errText
	out := m.dueLocked(k, c, now)
	m.mu.Unlock()
	m.send(out)
}

// clear ends kind's condition on subject: each alert block that announced
// it sends a resolving alert.
func (m *Manager) clear(kind, subject string) {
	if m == nil {
		return
	}
	now := m.now()
	m.mu.Lock()
	k := condKey{kind, subject}
	c := m.conds[k]
	if c == nil || !c.firing {
		m.mu.Unlock()
		return
	}
	out := m.resolveLocked(k, c, now)
	m.mu.Unlock()
	m.send(out)
}

// outgoing is an alert to store.
type outgoing struct {
	alert *config.Alert
	body  Body
}

// dueLocked returns the firing alerts c is due for: for each block
// watching its kind, one when none was sent within every and something
// happened since the last.
func (m *Manager) dueLocked(k condKey, c *condition, now time.Time) []outgoing {
	var out []outgoing
	for _, a := range m.alerts {
		if !a.Watches(k.kind) || a.Destination == nil {
			continue
		}
		s := c.sent[a.Name]
		if s == nil {
			s = &sentState{}
			c.sent[a.Name] = s
		}
		if s.announced && (now.Sub(s.at) < a.Every || s.count == c.count) {
			continue
		}
		if !s.announced && !s.at.IsZero() && now.Sub(s.at) < a.Every {
			continue // a resolve and a new rise within every: held back
		}
		s.at, s.count, s.announced = now, c.count, true
		out = append(out, outgoing{a, m.bodyLocked(a, k, c, false)})
	}
	return out
}

// resolveLocked ends c and returns the resolving alerts of the blocks that
// announced it.
func (m *Manager) resolveLocked(k condKey, c *condition, now time.Time) []outgoing {
	var out []outgoing
	for _, a := range m.alerts {
		s := c.sent[a.Name]
		if s == nil || !s.announced || a.Destination == nil {
			continue
		}
		s.announced = false
		out = append(out, outgoing{a, m.bodyLocked(a, k, c, true)})
	}
	c.firing = false
	return out
}

func (m *Manager) bodyLocked(a *config.Alert, k condKey, c *condition, resolved bool) Body {
	return Body{Alert: k.kind, Name: a.Name, Subject: k.subject, Count: c.count,
		FirstAt: c.firstAt.UTC(), LastAt: c.lastAt.UTC(), LastError: c.lastErr, Resolved: resolved}
}

// tick re-counts the windowed kinds (resolving those back under their
// threshold) and sends what every held back.
func (m *Manager) tick(ctx context.Context) {
	now := m.now()
	var out []outgoing
	m.mu.Lock()
	for k, hs := range m.hits {
		hs = trim(hs, now)
		if len(hs) == 0 {
			delete(m.hits, k)
		} else {
			m.hits[k] = hs
		}
		_, threshold := m.watchedLocked(k.kind)
		if c := m.conds[k]; c != nil && c.firing {
			c.count = len(hs)
			if len(hs) <= threshold {
				out = append(out, m.resolveLocked(k, c, now)...)
			}
		}
	}
	for k, c := range m.conds {
		if c.firing {
			out = append(out, m.dueLocked(k, c, now)...)
		} else if now.Sub(c.lastAt) > 24*time.Hour {
			delete(m.conds, k)
		}
	}
	m.mu.Unlock()
	m.sendCtx(ctx, out)
}

func (m *Manager) send(out []outgoing) {
	if len(out) == 0 {
		return
	}
	m.sendCtx(context.Background(), out)
}

// sendTimeout bounds the storing of one alert.
const sendTimeout = 10 * time.Second

// sendCtx stores each alert as an event with one delivery to its block's
// destination, and wakes the engine for it. An alert the store refuses is
// logged (the store being down is what the gateway's other signals say).
func (m *Manager) sendCtx(ctx context.Context, out []outgoing) {
	for _, o := range out {
		body, err := json.Marshal(o.body)
		if err != nil {
			continue
		}
		now := m.now()
		ev := &store.Event{
			ID: ids.New(ids.Event, now), Source: Source, EventType: o.body.Alert, ReceivedAt: now,
			Body: body, TraceParent: newTraceParent(),
		}
		d := &store.Delivery{
			ID: ids.New(ids.Delivery, now), Route: RoutePrefix + o.alert.Name, Destination: o.alert.Destination.Name,
			Body: body, Status: store.Pending, CreatedAt: now, UpdatedAt: now, NextAttemptAt: now,
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		_, err = m.st.Accept(sctx, ev, []*store.Delivery{d}, nil)
		cancel()
		log := m.log.With("alert", o.alert.Name, "kind", o.body.Alert, "subject", o.body.Subject, "resolved", o.body.Resolved)
		if err != nil {
			log.Error("store an alert", "error", err)
			continue
		}
		log.Info("alert", "count", o.body.Count, "destination", d.Destination, "delivery_id", d.ID)
		if m.notify != nil {
			m.notify(d.Destination)
		}
	}
}

// newTraceParent returns a fresh sampled W3C traceparent: an alert's
// delivery attempts join a trace of their own.
func newTraceParent() string {
	var b [24]byte
	rand.Read(b[:])
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-01"
}
