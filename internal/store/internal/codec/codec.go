// Package codec is the small binary record encoding both stores write:
// strings as a uvarint length and their bytes, times as a varint of unix
// nanoseconds (0 for the zero time), integers as varints, each record
// starting with a format byte. It replaced JSON, whose reflection, RFC 3339
// times and base64 bodies were the stores' largest CPU cost after their
// writes. A record's first byte tells it from an older JSON one ('{').
package codec

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hookgate/hookgate/internal/store"
)

// EventFormat is the first byte of an event record.
const EventFormat byte = 0x01

// ErrShort: a record ends before its last field.
var ErrShort = errors.New("record ends early")

// EncodeEvent encodes an event record: the strings, ReceivedAt, the
// headers (sorted by name), the delivery ids, then the body as is. JSON
// wrote the body in base64 (a third larger) and was most of Accept's own
// CPU.
func EncodeEvent(e *store.Event) []byte {
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
	b = append(b, EventFormat)
	for _, s := range [...]string{e.ID, e.Source, e.EventType, e.DedupeKey, e.TraceParent, e.ConfigHash} {
		b = AppendString(b, s)
	}
	b = AppendTime(b, e.ReceivedAt)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, k := range names {
		b = AppendString(b, k)
		b = AppendString(b, e.Headers[k])
	}
	b = binary.AppendUvarint(b, uint64(len(e.DeliveryIDs)))
	for _, id := range e.DeliveryIDs {
		b = AppendString(b, id)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Body)))
	b = append(b, e.Body...)
	if e.ReplayOf != "" {
		// Optional fields follow the body; records without them are
		// those of earlier versions, read alike.
		b = AppendString(b, e.ReplayOf)
	}
	return b
}

// DecodeEvent decodes an event record, binary or (older) JSON. The body is
// copied out of v.
func DecodeEvent(v []byte, e *store.Event) error {
	if len(v) > 0 && v[0] == '{' {
		return json.Unmarshal(v, e)
	}
	r := Reader{B: v}
	if f := r.Byte(); f != EventFormat {
		return fmt.Errorf("event record format %#x", f)
	}
	for _, p := range [...]*string{&e.ID, &e.Source, &e.EventType, &e.DedupeKey, &e.TraceParent, &e.ConfigHash} {
		*p = r.String()
	}
	e.ReceivedAt = r.Time()
	if n := r.Count(); n > 0 {
		e.Headers = make(map[string]string, n)
		for range n {
			k := r.String()
			e.Headers[k] = r.String()
		}
	}
	if n := r.Count(); n > 0 {
		e.DeliveryIDs = make([]string, n)
		for i := range e.DeliveryIDs {
			e.DeliveryIDs[i] = r.String()
		}
	}
	e.Body = []byte(r.String())
	e.ReplayOf = r.Optional()
	return r.Done()
}

// AppendString appends s, length first.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendTime appends t as unix nanoseconds (0: the zero time).
func AppendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

// Reader decodes a record; the first error sticks and Done reports it.
type Reader struct {
	B   []byte
	err error
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if len(r.B) == 0 {
		r.err = ErrShort
		return 0
	}
	c := r.B[0]
	r.B = r.B[1:]
	return c
}

// Varint reads a varint.
func (r *Reader) Varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.B)
	if n <= 0 {
		r.err = ErrShort
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Count reads a uvarint count of items that take at least one byte each.
func (r *Reader) Count() int {
	if r.err != nil {
		return 0
	}
	l, n := binary.Uvarint(r.B)
	if n <= 0 || l > uint64(len(r.B)-n) {
		r.err = ErrShort
		return 0
	}
	r.B = r.B[n:]
	return int(l)
}

// String reads a string.
func (r *Reader) String() string {
	if r.err != nil {
		return ""
	}
	l, n := binary.Uvarint(r.B)
	if n <= 0 || l > uint64(len(r.B)-n) {
		r.err = ErrShort
		return ""
	}
	s := string(r.B[n : n+int(l)])
	r.B = r.B[n+int(l):]
	return s
}

// Time reads a time (UTC).
func (r *Reader) Time() time.Time {
	n := r.Varint()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Optional reads a string field that records gained after their first
// version: at the end, written only when not empty, so a record without
// it reads as "" and an empty one written is an error.
func (r *Reader) Optional() string {
	if r.err != nil || len(r.B) == 0 {
		return ""
	}
	s := r.String()
	if s == "" && r.err == nil {
		r.err = errors.New("an empty optional field")
	}
	return s
}

// Done reports the first error, or bytes left after the record.
func (r *Reader) Done() error {
	if r.err == nil && len(r.B) != 0 {
		r.err = fmt.Errorf("%d bytes after the record", len(r.B))
	}
	return r.err
}
