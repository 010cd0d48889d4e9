package api

import (
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/hookgate/hookgate/internal/store"
)

// Encode writes v as the admin API writes its answers: one line of JSON,
// with <, > and & as they are (not escaped for HTML).
func Encode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// DeliveryOf is d as the API shows it; withBody adds its body, attempts
// (when any) its attempt log.
func DeliveryOf(d *store.Delivery, attempts []store.Attempt, withBody bool) Delivery {
	v := Delivery{
		ID: d.ID, EventID: d.EventID, Source: d.Source, EventType: d.EventType,
		Route: d.Route, Destination: d.Destination, Status: string(d.Status),
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, NextAttemptAt: d.NextAttemptAt,
		Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError, DeadReason: d.DeadReason,
		TraceParent: d.TraceParent, ReplayOf: d.ReplayOf, Key: d.Key, KeyBlocks: d.KeyBlocks,
		TraceID: TraceID(d.TraceParent),
	}
	if withBody {
		v.Body = RawJSON(d.Body)
	}
	for _, a := range attempts {
		v.AttemptLog = append(v.AttemptLog, AttemptOf(a))
	}
	return v
}

// AttemptOf is a as the API shows it.
func AttemptOf(a store.Attempt) Attempt {
	return Attempt{N: a.N, At: a.At, StatusCode: a.StatusCode, Latency: a.Latency,
		Error: a.Error, Response: a.Response, LatencyMS: Millis(a.Latency)}
}

// EventOf is ev as GET /api/events/{id} shows it, with the views of its
// deliveries still stored (never null).
func EventOf(ev *store.Event, deliveries []Delivery) Event {
	if deliveries == nil {
		deliveries = []Delivery{}
	}
	return Event{
		ID: ev.ID, Source: ev.Source, EventType: ev.EventType, ReceivedAt: ev.ReceivedAt,
		Headers: ev.Headers, DedupeKey: ev.DedupeKey, TraceParent: ev.TraceParent,
		ConfigHash: ev.ConfigHash, DeliveryIDs: ev.DeliveryIDs, ReplayOf: ev.ReplayOf,
		TraceID: TraceID(ev.TraceParent), Body: RawJSON(ev.Body), Deliveries: deliveries,
	}
}

// ReceivedEventOf is ev as received, as the search lists it and the
// export writes it (headers and deliveries never null).
func ReceivedEventOf(ev *store.Event) ReceivedEvent {
	h := ev.Headers
	if h == nil {
		h = map[string]string{}
	}
	ds := ev.DeliveryIDs
	if ds == nil {
		ds = []string{}
	}
	return ReceivedEvent{ID: ev.ID, Source: ev.Source, EventType: ev.EventType, ReceivedAt: ev.ReceivedAt,
		Headers: h, Body: RawJSON(ev.Body), Deliveries: ds, ReplayOf: ev.ReplayOf}
}

// StatsOf is st, the store's figures over the requested window, as the
// API shows them (without the fixed windows, which WindowOf fills).
func StatsOf(st store.DestinationStats) DestinationStats {
	return DestinationStats{
		Destination: st.Destination, Pending: st.Pending, Retrying: st.Retrying,
		Delivered: st.Delivered, Dead: st.Dead, Attempts: st.Attempts,
		RetryAttempts: st.RetryAttempts, Succeeded: st.Succeeded, SuccessRate: st.SuccessRate,
		MeanLatency: st.MeanLatency, P99Latency: st.P99Latency,
		MeanMS: Millis(st.MeanLatency), P99MS: Millis(st.P99Latency),
	}
}

// WindowOf is the attempt figures of st, one fixed window's.
func WindowOf(st store.DestinationStats) Window {
	return Window{
		Attempts: st.Attempts, RetryAttempts: st.RetryAttempts, Succeeded: st.Succeeded,
		SuccessRate: st.SuccessRate, MeanMS: Millis(st.MeanLatency), P99MS: Millis(st.P99Latency),
	}
}

// BlockedOf is the answer listing destination's blocked keys (never
// null).
func BlockedOf(destination string, keys []store.BlockedKey) Blocked {
	out := Blocked{Destination: destination, Blocked: make([]BlockedKey, 0, len(keys))}
	for _, k := range keys {
		out.Blocked = append(out.Blocked, BlockedKey{Key: k.Key, DeliveryID: k.DeliveryID, Route: k.Route, Since: k.Since, Waiting: k.Waiting})
	}
	return out
}

// RawJSON returns b as raw JSON, or as a JSON string when it is not JSON.
func RawJSON(b []byte) json.RawMessage {
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}

// Millis is d in milliseconds, to the microsecond.
func Millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// TraceID returns the trace id of a W3C traceparent
// (version-traceid-parentid-flags): its 32 hex digits, or "" when tp is not
// one.
func TraceID(tp string) string {
	parts := strings.Split(tp, "-")
	if len(parts) < 4 || len(parts[1]) != 32 || parts[1] == strings.Repeat("0", 32) {
		return ""
	}
	for _, c := range parts[1] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return ""
		}
	}
	return parts[1]
}
