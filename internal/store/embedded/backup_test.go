package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// backupTo writes s's backup to a file in a new folder and returns its
// path, checking that size announced what was written.
func backupTo(t *testing.T, s *Store) string {
	t.Helper()
	var buf bytes.Buffer
	announced := int64(-1)
	n, err := s.Backup(t.Context(), &buf, func(size int64) { announced = size })
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if n != int64(buf.Len()) || announced != n {
		t.Fatalf("Backup wrote %d bytes, returned %d, announced %d", buf.Len(), n, announced)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// listAll lists every delivery, page by page.
func listAll(t *testing.T, s *Store) []*store.Delivery {
	t.Helper()
	var out []*store.Delivery
	q := store.Query{Limit: 3}
	for {
		page, err := s.Deliveries(t.Context(), q)
		if err != nil {
			t.Fatalf("Deliveries: %v", err)
		}
		out = append(out, page.Deliveries...)
		if page.NextCursor == "" {
			return out
		}
		q.Cursor = page.NextCursor
	}
}

// TestBackupRestores: a backup of a store with deliveries in every state
// (one of them in flight) opens as a store holding the same events,
// deliveries with their attempts and listings; the delivery in flight is
// due again at once, its lease not being part of the file; the original
// is untouched by the backup and goes on taking writes.
func TestBackupRestores(t *testing.T) {
	ctx := t.Context()
	now := time.Now().Truncate(time.Millisecond)
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
	var evIDs, dlIDs []string
	for i := range 8 {
		at := now.Add(time.Duration(i-10) * time.Second)
		ev := &store.Event{ID: ids.New(ids.Event, at), Source: "shop", EventType: "order.created", ReceivedAt: at,
			Headers: map[string]string{"content-type": "application/json"}, Body: fmt.Appendf(nil, `{"n":%d}`, i)}
		var ds []*store.Delivery
		for _, dest := range []string{"a", "b"} {
			ds = append(ds, &store.Delivery{ID: ids.New(ids.Delivery, at), Route: "r", Destination: dest,
				Body: fmt.Appendf(nil, `{"n":%d,"to":%q}`, i, dest), NextAttemptAt: at})
		}
		if _, err := s.Accept(ctx, ev, ds, nil); err != nil {
			t.Fatal(err)
		}
		evIDs = append(evIDs, ev.ID)
		for _, d := range ds {
			dlIDs = append(dlIDs, d.ID)
		}
	}
	// To a: the first delivered, the second dead, the third retrying after
	// a failed attempt, the fourth claimed and still in flight.
	claimed, err := s.Claim(ctx, "a", now, 4, time.Hour)
	if err != nil || len(claimed) != 4 {
		t.Fatalf("Claim: %d, %v", len(claimed), err)
	}
	outcomes := []store.Outcome{
		{Status: store.Delivered, Attempt: store.Attempt{N: 1, At: now, StatusCode: 200, Latency: 3 * time.Millisecond}},
		{Status: store.Dead, DeadReason: "receiver answered 410", Attempt: store.Attempt{N: 1, At: now, StatusCode: 410}},
		{Status: store.Retrying, NextAttemptAt: now.Add(time.Minute), Attempt: store.Attempt{N: 1, At: now, Error: "connection refused"}},
	}
	for i, o := range outcomes {
		if err := s.Complete(ctx, claimed[i].ID, o); err != nil {
			t.Fatal(err)
		}
	}
	inFlight := claimed[3].ID

	path := backupTo(t, s)
	if err := Verify(path); err != nil {
		t.Fatalf("Verify of the backup: %v", err)
	}
	// The original goes on.
	accept(t, s, now, "a")

	c := mustOpen(t, path)
	for _, id := range evIDs {
		want, err1 := s.Event(ctx, id)
		got, err2 := c.Event(ctx, id)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("event %s: restored %+v (%v), want %+v (%v)", id, got, err2, want, err1)
		}
	}
	for _, id := range dlIDs {
		want, wantAtt, err1 := s.Delivery(ctx, id)
		got, gotAtt, err2 := c.Delivery(ctx, id)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotAtt, wantAtt) {
			t.Errorf("delivery %s: restored %+v %+v (%v), want %+v %+v (%v)", id, got, gotAtt, err2, want, wantAtt, err1)
		}
	}
	listed := listAll(t, c)
	if len(listed) != len(dlIDs) {
		t.Fatalf("the restored store lists %d deliveries, want %d", len(listed), len(dlIDs))
	}
	orig := listAll(t, s)[1:] // less the one accepted after the backup
	if !reflect.DeepEqual(listed, orig) {
		t.Errorf("the restored listing differs from the original's")
	}
	dead, err := c.Deliveries(ctx, store.Query{Status: store.Dead})
	if err != nil || len(dead.Deliveries) != 1 || dead.Deliveries[0].ID != claimed[1].ID {
		t.Errorf("restored dead-letter set: %v, %v", dead.Deliveries, err)
	}
	// In flight at backup time: due again at once in the copy.
	// The four not claimed are due too; the retrying one is not.
	if got := claim(t, c, "a", now, time.Minute); len(got) != 5 || got[0] != inFlight {
		t.Errorf("Claim on the restored store: %v, want the delivery in flight at backup time, %s, and the four pending", got, inFlight)
	}
	if got := claim(t, c, "b", now, time.Minute); len(got) != 8 {
		t.Errorf("Claim b on the restored store: %d deliveries, want 8", len(got))
	}
	st, err := c.Stats(ctx, time.Time{})
	if err != nil || len(st) != 2 || st[0].Delivered != 1 || st[0].Dead != 1 || st[0].Retrying != 1 || st[0].Pending != 5 || st[1].Pending != 8 {
		t.Errorf("restored stats: %+v, %v", st, err)
	}
}

// TestBackupUnderWrites: backups taken while writers accept events are
// each one moment of the store: every event they hold has all its
// deliveries, and every one verifies.
func TestBackupUnderWrites(t *testing.T) {
	ctx := t.Context()
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
	var stop atomic.Bool
	var wg sync.WaitGroup
	var accepted atomic.Int64
	for range 4 {
		wg.Go(func() {
			for i := 0; i < 2000 && !stop.Load(); i++ {
				now := time.Now()
				ev := &store.Event{ID: ids.New(ids.Event, now), Source: "shop", ReceivedAt: now, Body: []byte(`{"pad":"` + strings.Repeat("x", 512) + `"}`)}
				ds := []*store.Delivery{
					{ID: ids.New(ids.Delivery, now), Route: "r", Destination: "a", Body: ev.Body, NextAttemptAt: now},
					{ID: ids.New(ids.Delivery, now), Route: "r", Destination: "b", Body: ev.Body, NextAttemptAt: now},
				}
				if _, err := s.Accept(ctx, ev, ds, nil); err != nil {
					t.Error(err)
					return
				}
				accepted.Add(1)
			}
		})
	}
	defer func() { stop.Store(true); wg.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for accepted.Load() < 200 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	for round := range 3 {
		path := backupTo(t, s)
		if err := Verify(path); err != nil {
			t.Fatalf("round %d: Verify: %v", round, err)
		}
		c := mustOpen(t, path)
		err := c.db.View(func(tx *bolt.Tx) error {
			events, deliveries := 0, tx.Bucket(bucketDeliveries).Stats().KeyN
			err := tx.Bucket(bucketEvents).ForEach(func(k, _ []byte) error {
				events++
				ev, err := c.Event(ctx, string(k))
				if err != nil {
					return err
				}
				for _, id := range ev.DeliveryIDs {
					if tx.Bucket(bucketDeliveries).Get([]byte(id)) == nil {
						return fmt.Errorf("event %s without its delivery %s", ev.ID, id)
					}
				}
				return nil
			})
			if err == nil && deliveries != 2*events {
				err = fmt.Errorf("%d deliveries for %d events", deliveries, events)
			}
			t.Logf("round %d: %d events in the backup", round, events)
			return err
		})
		if err != nil {
			t.Errorf("round %d: %v", round, err)
		}
		_ = c.Close()
	}
}

func TestBackupFailures(t *testing.T) {
	t.Run("closed store", func(t *testing.T) {
		s := mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
		_ = s.Close()
		called := false
		_, err := s.Backup(t.Context(), &bytes.Buffer{}, func(int64) { called = true })
		if !errors.Is(err, store.ErrUnavailable) || called {
			t.Errorf("Backup of a closed store: %v (size called: %t), want ErrUnavailable before any byte", err, called)
		}
	})
	t.Run("writer fails", func(t *testing.T) {
		s := mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
		boom := errors.New("peer went away")
		_, err := s.Backup(t.Context(), &failAfter{n: 4096, err: boom}, nil)
		if !errors.Is(err, boom) || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Backup to a failing writer: %v, want the writer's error, not ErrUnavailable", err)
		}
		if err := s.Ping(t.Context()); err != nil {
			t.Errorf("Ping after a failed backup: %v", err)
		}
	})
	t.Run("context ended", func(t *testing.T) {
		s := mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.Backup(ctx, &bytes.Buffer{}, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("Backup with a cancelled context: %v", err)
		}
	})
}

// failAfter accepts n bytes, then fails with err.
type failAfter struct {
	n   int
	err error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, f.err
	}
	f.n -= len(p)
	return len(p), nil
}

// TestVerify: Verify takes a backup and refuses what is not one, without
// writing to the file.
func TestVerify(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
	for range 50 {
		accept(t, s, time.Now(), "a")
	}
	good := backupTo(t, s)
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := filepath.Join(dir, "plain.db")
	db, err := bolt.Open(plain, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
	_ = db.Close()
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.db"), "no such file"},
		{"empty", write("empty.db", nil), "not a store file"},
		{"an error page", write("html.db", []byte(strings.Repeat("<html>401 Unauthorized</html>\n", 400))), "not a store file"},
		{"cut short", write("cut.db", raw[:len(raw)/2]), "cut short"},
		{"another bbolt file", plain, `not a hookgate store: no bucket "events"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := Verify(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify: %v, want an error with %q", err, tc.want)
			}
		})
	}
	t.Run("good", func(t *testing.T) {
		if err := Verify(good); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		after, err := os.ReadFile(good)
		if err != nil || !bytes.Equal(after, raw) {
			t.Errorf("Verify changed the file")
		}
	})
}
