package embedded

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/storetest"
)

// mustOpen opens a store at path and closes it when the test ends.
func mustOpen(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
	})
}

func BenchmarkAccept(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		return mustOpen(b, filepath.Join(b.TempDir(), "hookgate.db"))
	})
}

// accept stores one event with one delivery to dest, due at when.
func accept(t *testing.T, s *Store, when time.Time, dest string) string {
	t.Helper()
	ev := &store.Event{ID: ids.New(ids.Event, when), Source: "shop", ReceivedAt: when, Body: []byte(`{}`)}
	d := &store.Delivery{ID: ids.New(ids.Delivery, when), Route: "r", Destination: dest, Body: []byte(`{}`), NextAttemptAt: when}
	if _, err := s.Accept(context.Background(), ev, []*store.Delivery{d}, nil); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return d.ID
}

func claim(t *testing.T, s *Store, dest string, now time.Time, lease time.Duration) []string {
	t.Helper()
	ds, err := s.Claim(context.Background(), dest, now, 100, lease)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// TestReopenRecoversLeases is the crash case: a delivery leased for an
// hour by a process that then stopped is due again as soon as the file is
// reopened, not an hour later, and keeps its place in the due order.
func TestReopenRecoversLeases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "hookgate.db")
	now := time.Now()
	s := mustOpen(t, path)
	first := accept(t, s, now.Add(-2*time.Second), "a")
	second := accept(t, s, now.Add(-time.Second), "a")
	later := accept(t, s, now.Add(time.Hour), "a")
	if got := claim(t, s, "a", now.Add(-2*time.Second), time.Hour); len(got) != 1 || got[0] != first {
		t.Fatalf("Claim = %v, want [%s]", got, first)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = mustOpen(t, path)
	got := claim(t, s, "a", now, time.Minute)
	if len(got) != 2 || got[0] != first || got[1] != second {
		t.Errorf("Claim after reopen = %v, want [%s %s]", got, first, second)
	}
	next, ok, err := s.NextDue(context.Background(), "a")
	if err != nil || !ok || !next.Equal(now.Add(time.Minute)) {
		t.Errorf("NextDue = %v, %v, %v; want the new lease's end", next, ok, err)
	}
	if got := claim(t, s, "a", now.Add(time.Hour), time.Minute); len(got) != 3 || got[2] != later {
		t.Errorf("Claim an hour later = %v, want all three, %s last", got, later)
	}
}

func TestSecondOpenFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookgate.db")
	mustOpen(t, path)
	start := time.Now()
	s, err := Open(path, Options{})
	if err == nil {
		_ = s.Close()
		t.Fatal("second Open of a file in use succeeded")
	}
	// A bound on a hang (waiting for the lock forever), not on speed.
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("second Open took %s to fail", took)
	}
	if want := "store: " + path + " is in use by another hookgate"; err.Error() != want {
		t.Errorf("second Open: %q, want %q", err, want)
	}
}

func TestOpenBadPath(t *testing.T) {
	dir := t.TempDir()
	// A directory where the file should be.
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Open(a directory) = %v, want an error naming it", err)
	}
}

func TestWriteFailureIsUnavailable(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
	id := accept(t, s, time.Now(), "a")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	checks := map[string]error{
		"Complete": s.Complete(ctx, id, store.Outcome{Status: store.Delivered}),
		"Retry":    s.Retry(ctx, id, time.Now()),
	}
	_, checks["Claim"] = s.Claim(ctx, "a", time.Now(), 1, time.Minute)
	_, _, checks["Delivery"] = s.Delivery(ctx, id)
	_, checks["Cleanup"] = s.Cleanup(ctx, time.Now(), time.Now())
	for name, err := range checks {
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s on a closed store: %v, want ErrUnavailable", name, err)
		}
	}
}

func TestLongDedupeKey(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
	key := strings.Repeat("k", 100_000)
	now := time.Now()
	dd := &store.Dedupe{Key: key, Window: time.Hour}
	for i, want := range []error{nil, store.ErrDuplicate} {
		ev := &store.Event{ID: ids.New(ids.Event, now), Source: "shop", ReceivedAt: now.Add(time.Duration(i) * time.Second)}
		if _, err := s.Accept(context.Background(), ev, nil, dd); !errors.Is(err, want) {
			t.Errorf("Accept %d with a 100kB dedupe key: %v, want %v", i, err, want)
		}
	}
}

// TestCommitterIsolatesFailure: one failing write in a group neither fails
// nor undoes the others, and its caller gets its own error.
func TestCommitterIsolatesFailure(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		wg.Go(func() {
			errs[i] = s.write(func(tx *bolt.Tx) error {
				if err := tx.Bucket(bucketMeta).Put(fmt.Appendf(nil, "k%d", i), []byte("v")); err != nil {
					return err
				}
				if i == 7 {
					return boom
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case i == 7 && !errors.Is(err, boom):
			t.Errorf("failing write: %v, want boom", err)
		case i != 7 && err != nil:
			t.Errorf("write %d: %v", i, err)
		}
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		for i := range errs {
			if got := tx.Bucket(bucketMeta).Get(fmt.Appendf(nil, "k%d", i)); (got != nil) != (i != 7) {
				t.Errorf("key %d stored: %t", i, got != nil)
			}
		}
		return nil
	})
}

func TestAcceptExistingID(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
	now := time.Now()
	ev := &store.Event{ID: ids.New(ids.Event, now), Source: "shop", ReceivedAt: now}
	d := &store.Delivery{ID: ids.New(ids.Delivery, now), Route: "r", Destination: "a"}
	ctx := context.Background()
	if _, err := s.Accept(ctx, ev, []*store.Delivery{d}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Accept(ctx, ev, []*store.Delivery{d}, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Accept of a stored event id: %v, want ErrConflict", err)
	}
	ev2 := &store.Event{ID: ids.New(ids.Event, now), Source: "shop", ReceivedAt: now}
	if _, err := s.Accept(ctx, ev2, []*store.Delivery{d}, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Accept of a stored delivery id: %v, want ErrConflict", err)
	}
	if _, err := s.Event(ctx, ev2.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refused event stored: %v", err)
	}
}

// TestBodiesApartAndOldRecords: a delivery's record holds no body (it is in
// the bodies bucket, so recording an attempt rewrites a small record); a
// record written before that, with its body inline, still reads whole, and
// its body moves to the bucket at its next change.
func TestBodiesApartAndOldRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookgate.db")
	s := mustOpen(t, path)
	ctx := context.Background()
	now := time.Now()
	body := []byte(`{"n":1,"bytes":"\u00ff"}`)
	ev := &store.Event{ID: ids.New(ids.Event, now), Source: "shop", ReceivedAt: now, Body: []byte(`{}`)}
	d := &store.Delivery{ID: ids.New(ids.Delivery, now), Route: "r", Destination: "a", Body: body}
	if _, err := s.Accept(ctx, ev, []*store.Delivery{d}, nil); err != nil {
		t.Fatal(err)
	}
	raw := func(bucket []byte) []byte {
		var v []byte
		if err := s.db.View(func(tx *bolt.Tx) error {
			v = bytes.Clone(tx.Bucket(bucket).Get([]byte(d.ID)))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if rec := raw(bucketDeliveries); bytes.Contains(rec, []byte(base64.StdEncoding.EncodeToString(body))) {
		t.Errorf("the delivery record holds the body: %s", rec)
	}
	if got := raw(bucketBodies); !bytes.Equal(got, body) {
		t.Errorf("bodies bucket: %q, want %q", got, body)
	}

	// Rewrite it as an older version did: body inline, no bodies entry.
	old := *d
	old.EventID, old.Source, old.Status, old.CreatedAt, old.UpdatedAt, old.NextAttemptAt = ev.ID, "shop", store.Pending, now, now, now
	inline, err := json.Marshal(&old)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketBodies).Delete([]byte(d.ID)); err != nil {
			return err
		}
		return tx.Bucket(bucketDeliveries).Put([]byte(d.ID), inline)
	}); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Delivery(ctx, d.ID)
	if err != nil || !bytes.Equal(got.Body, body) {
		t.Fatalf("old record: body %q, %v; want %q", got.Body, err, body)
	}
	ds, err := s.Claim(ctx, "a", now.Add(time.Second), 1, time.Minute)
	if err != nil || len(ds) != 1 || !bytes.Equal(ds[0].Body, body) {
		t.Fatalf("Claim of the old record: %v, %v", ds, err)
	}
	if err := s.Complete(ctx, d.ID, store.Outcome{Attempt: store.Attempt{StatusCode: 500}, Status: store.Retrying, NextAttemptAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := raw(bucketBodies); !bytes.Equal(got, body) {
		t.Errorf("after Complete, bodies bucket: %q, want the body moved there", got)
	}
	if rec := raw(bucketDeliveries); bytes.Contains(rec, []byte(base64.StdEncoding.EncodeToString(body))) {
		t.Errorf("after Complete, the record still holds the body: %s", rec)
	}
	if got, _, err := s.Delivery(ctx, d.ID); err != nil || !bytes.Equal(got.Body, body) {
		t.Errorf("after Complete: body %q, %v", got.Body, err)
	}
	if n, err := s.Cleanup(ctx, now.Add(48*time.Hour), now.Add(48*time.Hour)); err != nil || n != 0 {
		t.Fatalf("Cleanup of an unfinished event: %d, %v", n, err)
	}
	if ds, err := s.Claim(ctx, "a", now.Add(2*time.Hour), 1, time.Minute); err != nil || len(ds) != 1 {
		t.Fatalf("Claim: %v, %v", ds, err)
	}
	if err := s.Complete(ctx, d.ID, store.Outcome{Attempt: store.Attempt{At: now.Add(2 * time.Hour), StatusCode: 200}, Status: store.Delivered}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Cleanup(ctx, now.Add(48*time.Hour), now.Add(48*time.Hour)); err != nil || n != 1 {
		t.Fatalf("Cleanup of the delivered event: %d, %v; want 1", n, err)
	}
	if got := raw(bucketBodies); got != nil {
		t.Errorf("after Cleanup, the body is still stored: %q", got)
	}
}

// A delivery whose body is its event's (a route without a transform) is
// stored once, and read back, claimed and listed with that body; a
// transformed one keeps its own.
func TestBodyStoredOnce(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	now := time.Now()
	ev := &store.Event{ID: "evt_1", Source: "src", ReceivedAt: now, Body: []byte(`{"a":1}`)}
	ds := []*store.Delivery{
		{ID: "dlv_same", Destination: "d", Route: "r1", Body: []byte(`{"a":1}`)},
		{ID: "dlv_own", Destination: "d", Route: "r2", Body: []byte(`{"b":2}`)},
	}
	if _, err := s.Accept(ctx, ev, ds, nil); err != nil {
		t.Fatal(err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketBodies).Get([]byte("dlv_same")); v != nil {
			t.Errorf("the event's body was written again for dlv_same: %q", v)
		}
		if v := tx.Bucket(bucketBodies).Get([]byte("dlv_own")); string(v) != `{"b":2}` {
			t.Errorf("dlv_own's body = %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range ds {
		d, _, err := s.Delivery(ctx, want.ID)
		if err != nil || string(d.Body) != string(want.Body) {
			t.Errorf("Delivery(%s) body %q, %v; want %q", want.ID, d.Body, err, want.Body)
		}
	}
	claimed, err := s.Claim(ctx, "d", now, 10, time.Minute)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("Claim = %v, %v", claimed, err)
	}
	for _, d := range claimed {
		if string(d.Body) != map[string]string{"dlv_same": `{"a":1}`, "dlv_own": `{"b":2}`}[d.ID] {
			t.Errorf("claimed %s with body %q", d.ID, d.Body)
		}
	}
}
