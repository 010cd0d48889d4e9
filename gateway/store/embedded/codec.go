package embedded

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hookgate/hookgate/gateway/store"
)

// Delivery and attempt records are written in a small binary encoding:
// they are decoded on every Claim and decoded and re-encoded on every
// Complete, where JSON (its reflection and its RFC 3339 times) was the
// largest CPU cost of the store after the commits themselves. Records of
// files written before it are JSON objects; their first byte, '{', tells
// them apart, and they are read as such and rewritten in binary at their
// next change.
//
// The encoding: a format byte, then each field in a fixed order: strings
// as a uvarint length and their bytes, times as a varint of unix
// nanoseconds (0 for the zero time), integers as varints.
const (
	deliveryFormat byte = 0x01
	attemptFormat  byte = 0x01
	eventFormat    byte = 0x01
)

var errShort = errors.New("record ends early")

// encodeDelivery encodes d's record, without its body (see bucketBodies).
func encodeDelivery(d *store.Delivery) ([]byte, error) {
	b := make([]byte, 0, 128+len(d.ID)+len(d.EventID)+len(d.LastError)+len(d.TraceParent))
	b = append(b, deliveryFormat)
	for _, s := range [...]string{d.ID, d.EventID, d.Source, d.EventType, d.Route, d.Destination,
		string(d.Status), d.LastError, d.DeadReason, d.TraceParent} {
		b = appendString(b, s)
	}
	for _, t := range [...]time.Time{d.CreatedAt, d.UpdatedAt, d.NextAttemptAt} {
		b = appendTime(b, t)
	}
	b = binary.AppendVarint(b, int64(d.Attempts))
	b = binary.AppendVarint(b, int64(d.LastStatus))
	return b, nil
}

// decodeDelivery decodes a delivery record, binary or (older) JSON.
func decodeDelivery(v []byte, d *store.Delivery) error {
	if len(v) > 0 && v[0] == '{' {
		return json.Unmarshal(v, d)
	}
	r := reader{b: v}
	if f := r.byte(); f != deliveryFormat {
		return fmt.Errorf("delivery record format %#x", f)
	}
	for _, p := range [...]*string{&d.ID, &d.EventID, &d.Source, &d.EventType, &d.Route, &d.Destination,
		(*string)(&d.Status), &d.LastError, &d.DeadReason, &d.TraceParent} {
		*p = r.string()
	}
	for _, p := range [...]*time.Time{&d.CreatedAt, &d.UpdatedAt, &d.NextAttemptAt} {
		*p = r.time()
	}
	d.Attempts = int(r.varint())
	d.LastStatus = int(r.varint())
	return r.done()
}

// encodeAttempt encodes an attempt record.
func encodeAttempt(a *store.Attempt) []byte {
	b := make([]byte, 0, 32+len(a.Error)+len(a.Response))
	b = append(b, attemptFormat)
	b = binary.AppendVarint(b, int64(a.N))
	b = appendTime(b, a.At)
	b = binary.AppendVarint(b, int64(a.StatusCode))
	b = binary.AppendVarint(b, int64(a.Latency))
	b = appendString(b, a.Error)
	b = appendString(b, a.Response)
	return b
}

// decodeAttempt decodes an attempt record, binary or (older) JSON.
func decodeAttempt(v []byte, a *store.Attempt) error {
	if len(v) > 0 && v[0] == '{' {
		return json.Unmarshal(v, a)
	}
	r := reader{b: v}
	if f := r.byte(); f != attemptFormat {
		return fmt.Errorf("attempt record format %#x", f)
	}
	a.N = int(r.varint())
	a.At = r.time()
	a.StatusCode = int(r.varint())
	a.Latency = time.Duration(r.varint())
	a.Error = r.string()
	a.Response = r.string()
	return r.done()
}

// encodeEvent encodes an event record: the strings, ReceivedAt, the
// headers (sorted by name), the delivery ids, then the body as is. JSON
// wrote the body in base64 (a third larger) and was most of Accept's own
// CPU.
func encodeEvent(e *store.Event) []byte {
	n := 64 + len(e.ID) + len(e.Source) + len(e.EventType) + len(e.DedupeKey) + len(e.TraceParent) + len(e.ConfigHash) + len(e.Body)
	names := make([]string, 0, len(e.Headers))
	for k, v := range e.Headers {
		names = append(names, k)
		n += len(k) + len(v) + 4
	}
	slices.Sort(names)
	for _, id := range e.DeliveryIDs {
		n += len(id) + 2
	}
	b := make([]byte, 0, n)
	b = append(b, eventFormat)
	for _, s := range [...]string{e.ID, e.Source, e.EventType, e.DedupeKey, e.TraceParent, e.ConfigHash} {
		b = appendString(b, s)
	}
	b = appendTime(b, e.ReceivedAt)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, k := range names {
		b = appendString(b, k)
		b = appendString(b, e.Headers[k])
	}
	b = binary.AppendUvarint(b, uint64(len(e.DeliveryIDs)))
	for _, id := range e.DeliveryIDs {
		b = appendString(b, id)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Body)))
	return append(b, e.Body...)
}

// decodeEvent decodes an event record, binary or (older) JSON. The body is
// copied out of v.
func decodeEvent(v []byte, e *store.Event) error {
	if len(v) > 0 && v[0] == '{' {
		return json.Unmarshal(v, e)
	}
	r := reader{b: v}
	if f := r.byte(); f != eventFormat {
		return fmt.Errorf("event record format %#x", f)
	}
	for _, p := range [...]*string{&e.ID, &e.Source, &e.EventType, &e.DedupeKey, &e.TraceParent, &e.ConfigHash} {
		*p = r.string()
	}
	e.ReceivedAt = r.time()
	if n := r.count(); n > 0 {
		e.Headers = make(map[string]string, n)
		for range n {
			k := r.string()
			e.Headers[k] = r.string()
		}
	}
	if n := r.count(); n > 0 {
		e.DeliveryIDs = make([]string, n)
		for i := range e.DeliveryIDs {
			e.DeliveryIDs[i] = r.string()
		}
	}
	e.Body = []byte(r.string())
	return r.done()
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

// reader decodes a record; the first error sticks and done reports it.
type reader struct {
	b   []byte
	err error
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.err = errShort
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a uvarint count of items that take at least one byte each.
func (r *reader) count() int {
	if r.err != nil {
		return 0
	}
	l, n := binary.Uvarint(r.b)
	if n <= 0 || l > uint64(len(r.b)-n) {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return int(l)
}

func (r *reader) string() string {
	if r.err != nil {
		return ""
	}
	l, n := binary.Uvarint(r.b)
	if n <= 0 || l > uint64(len(r.b)-n) {
		r.err = errShort
		return ""
	}
	s := string(r.b[n : n+int(l)])
	r.b = r.b[n+int(l):]
	return s
}

func (r *reader) time() time.Time {
	n := r.varint()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d bytes after the record", len(r.b))
	}
	return r.err
}
