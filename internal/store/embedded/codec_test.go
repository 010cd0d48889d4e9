package embedded

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store"
)

// TestCodecRoundTrip: every field of a delivery and of an attempt survives
// the binary encoding, zero times stay zero, and a truncated or padded
// record is an error, not a half-filled record.
func TestCodecRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 123456789, time.UTC)
	full := store.Delivery{
		ID: "dlv_1", EventID: "evt_1", Source: "ylytic", EventType: "creator_insights", Route: "r",
		Destination: "team", Status: store.Retrying, CreatedAt: at, UpdatedAt: at.Add(time.Second),
		NextAttemptAt: at.Add(time.Minute), Attempts: 3, LastStatus: 503, LastError: "status 503 ☕\x00",
		DeadReason: "", TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ReplayOf: "dlv_0",
	}
	// Ordered deliveries (format 0x02: the key and on_dead) with and
	// without the optional replay_of after them, as a backfill of an
	// ordered route writes them.
	ordered, orderedReplay := full, full
	ordered.ReplayOf, ordered.Key, ordered.KeyBlocks = "", "creator-42", true
	orderedReplay.Key = "creator-42"
	for _, d := range []store.Delivery{full, {ID: "dlv_2", Status: store.Pending}, ordered, orderedReplay} {
		v, err := encodeDelivery(&d)
		if err != nil {
			t.Fatal(err)
		}
		var got store.Delivery
		if err := decodeDelivery(v, &got); err != nil {
			t.Fatalf("decode %s: %v", d.ID, err)
		}
		if !reflect.DeepEqual(got, d) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, d)
		}
		for _, bad := range [][]byte{v[:len(v)-1], append(v[:len(v):len(v)], 0), {0x7f}, nil} {
			if err := decodeDelivery(bad, &got); err == nil {
				t.Errorf("decoding %q gave no error", bad)
			}
		}
	}
	a := store.Attempt{N: 2, At: at, StatusCode: 500, Latency: 1234 * time.Microsecond, Error: "boom", Response: `{"e":1}`}
	var got store.Attempt
	if err := decodeAttempt(encodeAttempt(&a), &got); err != nil || !reflect.DeepEqual(got, a) {
		t.Errorf("attempt round trip: %+v, %v; want %+v", got, err, a)
	}

	// Records written as JSON by earlier versions still read.
	j, _ := json.Marshal(&full)
	var old store.Delivery
	if err := decodeDelivery(j, &old); err != nil || old.LastError != full.LastError || !old.NextAttemptAt.Equal(full.NextAttemptAt) {
		t.Errorf("JSON delivery: %+v, %v", old, err)
	}
	ja, _ := json.Marshal(&a)
	if err := decodeAttempt(ja, &got); err != nil || !reflect.DeepEqual(got, a) {
		t.Errorf("JSON attempt: %+v, %v", got, err)
	}
}

func BenchmarkDecodeDelivery(b *testing.B) {
	at := time.Now()
	d := store.Delivery{ID: "dlv_01KQ", EventID: "evt_01KQ", Source: "bench", Route: "bench", Destination: "sink",
		Status: store.Pending, CreatedAt: at, UpdatedAt: at, NextAttemptAt: at,
		TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	bin, _ := encodeDelivery(&d)
	js, _ := json.Marshal(&d)
	b.Run("binary", func(b *testing.B) {
		for b.Loop() {
			var x store.Delivery
			if err := decodeDelivery(bin, &x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			var x store.Delivery
			if err := decodeDelivery(js, &x); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestEventCodec: an event survives the binary encoding whole (headers,
// delivery ids, a body that is not UTF-8), a bad record is an error, and
// an event written as JSON by an earlier version still reads.
func TestEventCodec(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 123456789, time.UTC)
	full := store.Event{
		ID: "evt_1", Source: "ylytic", EventType: "creator_insights", ReceivedAt: at,
		Headers: map[string]string{"content-type": "application/json", "x-b": "", "x-a": "1, 2"},
		Body:    []byte("{\"a\":\"\xff\x00\"}"), DedupeKey: "k", TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		ConfigHash: "abc", DeliveryIDs: []string{"dlv_1", "dlv_2"}, ReplayOf: "evt_0",
	}
	for _, e := range []store.Event{full, {ID: "evt_2", Body: []byte{}}} {
		v := encodeEvent(&e)
		var got store.Event
		if err := decodeEvent(v, &got); err != nil {
			t.Fatalf("decode %s: %v", e.ID, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, e)
		}
		for _, bad := range [][]byte{v[:len(v)-1], append(v[:len(v):len(v)], 0), {0x7f}, nil} {
			if err := decodeEvent(bad, &got); err == nil {
				t.Errorf("decoding %q gave no error", bad)
			}
		}
	}
	old, err := json.Marshal(&full)
	if err != nil {
		t.Fatal(err)
	}
	var got store.Event
	if err := decodeEvent(old, &got); err != nil || !reflect.DeepEqual(got, full) {
		t.Errorf("JSON record: %v\n got %+v\nwant %+v", err, got, full)
	}
}

// TestOlderJSONRecords: records written as JSON by versions before the
// binary encoding, spelled out as they were written, still read field by
// field. It pins the JSON tags of store.Event, store.Delivery and
// store.Attempt as a stored format: renaming one (say, to change the
// admin API, which has its own types in internal/api) fails here.
func TestOlderJSONRecords(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var d store.Delivery
	err := decodeDelivery([]byte(`{"id":"dlv_1","event_id":"evt_1","source":"ylytic","event_type":"creator_insights",`+
		`"route":"r","destination":"team","body":"e30=","status":"dead","created_at":"2026-11-23T12:00:00Z",`+
		`"updated_at":"2026-11-23T12:00:01Z","next_attempt_at":"2026-11-23T12:01:00Z","attempts":3,"last_status":410,`+
		`"last_error":"HTTP 410","dead_reason":"gone","traceparent":"00-tp","replay_of":"dlv_0","key":"k","key_blocks":true}`), &d)
	want := store.Delivery{ID: "dlv_1", EventID: "evt_1", Source: "ylytic", EventType: "creator_insights", Route: "r",
		Destination: "team", Body: []byte("{}"), Status: store.Dead, CreatedAt: at, UpdatedAt: at.Add(time.Second),
		NextAttemptAt: at.Add(time.Minute), Attempts: 3, LastStatus: 410, LastError: "HTTP 410", DeadReason: "gone",
		TraceParent: "00-tp", ReplayOf: "dlv_0", Key: "k", KeyBlocks: true}
	if err != nil || !reflect.DeepEqual(d, want) {
		t.Errorf("delivery: %v\n got %+v\nwant %+v", err, d, want)
	}
	var a store.Attempt
	err = decodeAttempt([]byte(`{"n":2,"at":"2026-11-23T12:00:00Z","status_code":500,"latency_ns":1234000,"error":"boom","response":"{}"}`), &a)
	if wantA := (store.Attempt{N: 2, At: at, StatusCode: 500, Latency: 1234 * time.Microsecond, Error: "boom", Response: "{}"}); err != nil || a != wantA {
		t.Errorf("attempt: %v\n got %+v\nwant %+v", err, a, wantA)
	}
	var e store.Event
	err = decodeEvent([]byte(`{"id":"evt_1","source":"ylytic","event_type":"creator_insights","received_at":"2026-11-23T12:00:00Z",`+
		`"headers":{"content-type":"application/json"},"body":"e30=","dedupe_key":"msg_1","traceparent":"00-tp",`+
		`"config_hash":"abc","delivery_ids":["dlv_1"],"replay_of":"evt_0"}`), &e)
	wantE := store.Event{ID: "evt_1", Source: "ylytic", EventType: "creator_insights", ReceivedAt: at,
		Headers: map[string]string{"content-type": "application/json"}, Body: []byte("{}"), DedupeKey: "msg_1",
		TraceParent: "00-tp", ConfigHash: "abc", DeliveryIDs: []string{"dlv_1"}, ReplayOf: "evt_0"}
	if err != nil || !reflect.DeepEqual(e, wantE) {
		t.Errorf("event: %v\n got %+v\nwant %+v", err, e, wantE)
	}
}
