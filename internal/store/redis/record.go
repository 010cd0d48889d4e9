package redis

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/internal/codec"
)

// deliveryRec is the part of a delivery that never changes: the hash field
// r. The fields that do change are hash fields of their own, which scripts
// update without decoding JSON.
type deliveryRec struct {
	ID          string    `json:"id"`
	EventID     string    `json:"event_id"`
	Source      string    `json:"source"`
	EventType   string    `json:"event_type,omitempty"`
	Route       string    `json:"route"`
	Destination string    `json:"destination"`
	Body        []byte    `json:"body"`
	CreatedAt   time.Time `json:"created_at"`
	TraceParent string    `json:"traceparent,omitempty"`
	ReplayOf    string    `json:"replay_of,omitempty"`
}

// recFormat is the first byte of a binary delivery record (older ones are
// JSON, starting with '{').
const recFormat byte = 0x01

// encode writes r in the stores' binary record encoding (codec): its body
// as is, where JSON wrote it in base64.
func (r *deliveryRec) encode() []byte {
	b := make([]byte, 0, 96+len(r.ID)+len(r.EventID)+len(r.Source)+len(r.EventType)+len(r.Route)+
		len(r.Destination)+len(r.TraceParent)+len(r.Body))
	b = append(b, recFormat)
	for _, s := range [...]string{r.ID, r.EventID, r.Source, r.EventType, r.Route, r.Destination, r.TraceParent} {
		b = codec.AppendString(b, s)
	}
	b = codec.AppendTime(b, r.CreatedAt)
	b = codec.AppendString(b, string(r.Body))
	if r.ReplayOf != "" {
		// Optional, last: records without it read alike.
		b = codec.AppendString(b, r.ReplayOf)
	}
	return b
}

// decode reads a record written by encode, or an older JSON one.
func (r *deliveryRec) decode(v []byte) error {
	if len(v) > 0 && v[0] == '{' {
		return json.Unmarshal(v, r)
	}
	d := codec.Reader{B: v}
	if f := d.Byte(); f != recFormat {
		return fmt.Errorf("delivery record format %#x", f)
	}
	for _, p := range [...]*string{&r.ID, &r.EventID, &r.Source, &r.EventType, &r.Route, &r.Destination, &r.TraceParent} {
		*p = d.String()
	}
	r.CreatedAt = d.Time()
	r.Body = []byte(d.String())
	r.ReplayOf = d.Optional()
	return d.Done()
}

// recordFields are the hash fields a record is read with, in the order of
// the scripts' record() helper.
var recordFields = []string{"r", "st", "up", "nx", "n", "ls", "le", "dr", "ok", "ob"}

// decodeDelivery builds a delivery from its hash fields, given in
// recordFields order (nil for a missing field). A nil r means the delivery
// does not exist.
func decodeDelivery(vals []any) (*store.Delivery, error) {
	if len(vals) != len(recordFields) {
		return nil, corrupt("delivery", fmt.Errorf("%d fields, want %d", len(vals), len(recordFields)))
	}
	str := func(i int) string {
		s, _ := vals[i].(string)
		return s
	}
	if vals[0] == nil {
		return nil, store.ErrNotFound
	}
	var r deliveryRec
	if err := r.decode([]byte(str(0))); err != nil {
		return nil, corrupt("delivery", err)
	}
	d := &store.Delivery{
		ID: r.ID, EventID: r.EventID, Source: r.Source, EventType: r.EventType, Route: r.Route,
		Destination: r.Destination, Body: r.Body, CreatedAt: r.CreatedAt, TraceParent: r.TraceParent, ReplayOf: r.ReplayOf,
		Status:     store.Status(str(1)),
		LastError:  str(6),
		DeadReason: str(7),
		Key:        str(8),
		KeyBlocks:  str(9) == "1",
	}
	var err error
	if d.UpdatedAt, err = parseTime(str(2)); err != nil {
		return nil, corrupt("delivery "+r.ID, err)
	}
	if d.NextAttemptAt, err = parseTime(str(3)); err != nil {
		return nil, corrupt("delivery "+r.ID, err)
	}
	if d.Attempts, err = atoi(str(4)); err != nil {
		return nil, corrupt("delivery "+r.ID, err)
	}
	if d.LastStatus, err = atoi(str(5)); err != nil {
		return nil, corrupt("delivery "+r.ID, err)
	}
	return d, nil
}

// atoi is strconv.Atoi with "" as 0.
func atoi(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.Atoi(s)
}

// eventIndex is the hash field d of an event: its deliveries' ids and
// destinations, which Cleanup needs to find them.
type eventIndex [][2]string

// decodeAttempts decodes an attempts list; N is the position.
func decodeAttempts(vals []string) ([]store.Attempt, error) {
	out := make([]store.Attempt, len(vals))
	for i, v := range vals {
		if err := json.Unmarshal([]byte(v), &out[i]); err != nil {
			return nil, corrupt("attempt", err)
		}
		out[i].N = i + 1
	}
	return out, nil
}
