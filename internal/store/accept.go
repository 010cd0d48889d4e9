package store

import (
	"fmt"
	"time"
)

// Accepted is what a store keeps of one Accept: copies of the event and
// its deliveries with the contract's defaults applied (PrepareAccept).
type Accepted struct {
	// Event has its ReceivedAt set and lists its deliveries' ids.
	Event Event
	// Deliveries are pending, with no attempts, and carry the event's id
	// (and its source, event type and traceparent where their own are
	// empty); each is created at the event's ReceivedAt unless it says
	// otherwise, updated at its creation and due at it unless it says
	// otherwise. LeaseUntil is kept as given.
	Deliveries []Delivery
	// Dedupe is dd when it applies (a key and a positive window), else
	// nil; its window counts from ReceivedAt.
	Dedupe *Dedupe
}

// NameCheck validates an id or a name that becomes part of a store's keys;
// what names it in the error, and emptyOK allows "". Each store has its
// own (which bytes its keys cannot hold); errors wrap ErrInvalid.
type NameCheck func(what, v string, emptyOK bool) error

// PrepareAccept validates an Accept's arguments as both stores do and
// applies the contract's defaults (see Store.Accept): it is the one place
// that says what an accepted event and its deliveries look like. It does
// not modify ev or ds. A zero ev.ReceivedAt becomes now.
func PrepareAccept(ev *Event, ds []*Delivery, dd *Dedupe, now time.Time, check NameCheck) (*Accepted, error) {
	if ev == nil {
		return nil, fmt.Errorf("%w: nil event", ErrInvalid)
	}
	if err := check("event id", ev.ID, false); err != nil {
		return nil, err
	}
	if err := check("source", ev.Source, true); err != nil {
		return nil, err
	}
	a := &Accepted{Event: *ev, Deliveries: make([]Delivery, len(ds))}
	e := &a.Event
	if e.ReceivedAt.IsZero() {
		e.ReceivedAt = now
	}
	e.DeliveryIDs = make([]string, 0, len(ds))
	for i, d := range ds {
		if d == nil {
			return nil, fmt.Errorf("%w: delivery %d is nil", ErrInvalid, i)
		}
		if err := check("delivery id", d.ID, false); err != nil {
			return nil, err
		}
		if err := check("destination", d.Destination, false); err != nil {
			return nil, fmt.Errorf("delivery %s: %w", d.ID, err)
		}
		for _, id := range e.DeliveryIDs {
			if id == d.ID {
				return nil, fmt.Errorf("%w: delivery %s given twice", ErrInvalid, d.ID)
			}
		}
		e.DeliveryIDs = append(e.DeliveryIDs, d.ID)
		c := &a.Deliveries[i]
		*c = *d
		c.EventID = ev.ID
		if c.Source == "" {
			c.Source = ev.Source
		}
		if c.EventType == "" {
			c.EventType = ev.EventType
		}
		if c.TraceParent == "" {
			c.TraceParent = ev.TraceParent
		}
		c.Status = Pending
		if c.CreatedAt.IsZero() {
			c.CreatedAt = e.ReceivedAt
		}
		if c.UpdatedAt.IsZero() {
			c.UpdatedAt = c.CreatedAt
		}
		if c.NextAttemptAt.IsZero() {
			c.NextAttemptAt = c.CreatedAt
		}
		c.Attempts, c.LastStatus, c.LastError, c.DeadReason = 0, 0, "", ""
	}
	if len(ds) == 0 {
		e.DeliveryIDs = nil
	}
	if dd != nil && dd.Key != "" && dd.Window > 0 {
		a.Dedupe = dd
	}
	return a, nil
}
