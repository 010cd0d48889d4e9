package embedded

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/internal/codec"
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
	// orderedFormat is deliveryFormat followed by the ordering key and
	// whether it blocks; only ordered deliveries are written in it.
	orderedFormat byte = 0x02
)

// encodeDelivery encodes d's record, without its body (see bucketBodies).
func encodeDelivery(d *store.Delivery) ([]byte, error) {
	b := make([]byte, 0, 128+len(d.ID)+len(d.EventID)+len(d.LastError)+len(d.TraceParent))
	if d.Key != "" {
		b = append(b, orderedFormat)
	} else {
		b = append(b, deliveryFormat)
	}
	for _, s := range [...]string{d.ID, d.EventID, d.Source, d.EventType, d.Route, d.Destination,
		string(d.Status), d.LastError, d.DeadReason, d.TraceParent} {
		b = codec.AppendString(b, s)
	}
	for _, t := range [...]time.Time{d.CreatedAt, d.UpdatedAt, d.NextAttemptAt} {
		b = codec.AppendTime(b, t)
	}
	b = binary.AppendVarint(b, int64(d.Attempts))
	b = binary.AppendVarint(b, int64(d.LastStatus))
	if d.Key != "" {
		b = codec.AppendString(b, d.Key)
		blocks := int64(0)
		if d.KeyBlocks {
			blocks = 1
		}
		b = binary.AppendVarint(b, blocks)
	}
	if d.ReplayOf != "" {
		// Optional, last: records without it read alike.
		b = codec.AppendString(b, d.ReplayOf)
	}
	return b, nil
}

// decodeDelivery decodes a delivery record, binary or (older) JSON.
func decodeDelivery(v []byte, d *store.Delivery) error {
	if len(v) > 0 && v[0] == '{' {
		return json.Unmarshal(v, d)
	}
	r := codec.Reader{B: v}
	f := r.Byte()
	if f != deliveryFormat && f != orderedFormat {
		return fmt.Errorf("delivery record format %#x", f)
	}
	for _, p := range [...]*string{&d.ID, &d.EventID, &d.Source, &d.EventType, &d.Route, &d.Destination,
		(*string)(&d.Status), &d.LastError, &d.DeadReason, &d.TraceParent} {
		*p = r.String()
	}
	for _, p := range [...]*time.Time{&d.CreatedAt, &d.UpdatedAt, &d.NextAttemptAt} {
		*p = r.Time()
	}
	d.Attempts = int(r.Varint())
	d.LastStatus = int(r.Varint())
	if f == orderedFormat {
		d.Key = r.String()
		d.KeyBlocks = r.Varint() == 1
	}
	d.ReplayOf = r.Optional()
	return r.Done()
}

// encodeAttempt encodes an attempt record.
func encodeAttempt(a *store.Attempt) []byte {
	b := make([]byte, 0, 32+len(a.Error)+len(a.Response))
	b = append(b, attemptFormat)
	b = binary.AppendVarint(b, int64(a.N))
	b = codec.AppendTime(b, a.At)
	b = binary.AppendVarint(b, int64(a.StatusCode))
	b = binary.AppendVarint(b, int64(a.Latency))
	b = codec.AppendString(b, a.Error)
	b = codec.AppendString(b, a.Response)
	return b
}

// decodeAttempt decodes an attempt record, binary or (older) JSON.
func decodeAttempt(v []byte, a *store.Attempt) error {
	if len(v) > 0 && v[0] == '{' {
		return json.Unmarshal(v, a)
	}
	r := codec.Reader{B: v}
	if f := r.Byte(); f != attemptFormat {
		return fmt.Errorf("attempt record format %#x", f)
	}
	a.N = int(r.Varint())
	a.At = r.Time()
	a.StatusCode = int(r.Varint())
	a.Latency = time.Duration(r.Varint())
	a.Error = r.String()
	a.Response = r.String()
	return r.Done()
}

// encodeEvent and decodeEvent are the shared event record encoding.
var (
	encodeEvent = codec.EncodeEvent
	decodeEvent = codec.DecodeEvent
)
