package store

import (
	"fmt"
	"time"
)

// EventQuery selects accepted events for listing, newest first: what
// `hookgate events export`, the event search and a backfill read.
type EventQuery struct {
	Source string    // "" for any
	Since  time.Time // zero for no bound (ReceivedAt >= Since)
	Until  time.Time // zero for no bound (ReceivedAt < Until)
	// Limit is the page size (1..1000; 0 means 50).
	Limit int
	// Cursor continues a previous page: the NextCursor it returned. Its
	// form is the store's own.
	Cursor string
}

// PageSize is the page size q asks for, as Query.PageSize.
func (q *EventQuery) PageSize() int {
	return (&Query{Limit: q.Limit}).PageSize()
}

// Check reports a query no store can answer: Until not after Since.
func (q *EventQuery) Check() error {
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return fmt.Errorf("%w: until %s is not after since %s", ErrInvalid, q.Until.Format(time.RFC3339), q.Since.Format(time.RFC3339))
	}
	return nil
}

// Matches reports whether q's filters select ev.
func (q *EventQuery) Matches(ev *Event) bool {
	switch {
	case q.Source != "" && ev.Source != q.Source,
		!q.Since.IsZero() && ev.ReceivedAt.Before(q.Since),
		!q.Until.IsZero() && !ev.ReceivedAt.Before(q.Until):
		return false
	}
	return true
}

// EventPage is one page of events, newest first. A page may hold fewer
// than the limit (even none) and still carry a NextCursor: a store bounds
// what one call reads. The listing ends when NextCursor is "".
type EventPage struct {
	Events     []*Event
	NextCursor string
}
