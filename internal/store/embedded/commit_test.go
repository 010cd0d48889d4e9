package embedded

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// queued waits until the committer holds n calls.
func queued(t *testing.T, c *committer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.queue)
		c.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the committer holds %d calls, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// put returns a write of key k that records its transaction's id.
func put(k string, id *int) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		*id = tx.ID()
		return tx.Bucket(bucketMeta).Put([]byte(k), []byte("v"))
	}
}

// TestLazyWriteJoinsEagerCommit: an attempt's outcome waiting to be
// recorded is committed with the next event's write, in one transaction
// (one fsync), not in one of its own.
func TestLazyWriteJoinsEagerCommit(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
	s.commit.delay = time.Hour // only the eager write can commit it
	var lazyTx, eagerTx int
	done := make(chan error, 1)
	go func() { done <- s.writeLazy(put("lazy", &lazyTx)) }()
	queued(t, &s.commit, 1)
	select {
	case err := <-done:
		t.Fatalf("the lazy write committed alone (%v)", err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := s.write(put("eager", &eagerTx)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if lazyTx != eagerTx {
		t.Errorf("lazy write in transaction %d, eager in %d: want one", lazyTx, eagerTx)
	}
}

// TestLazyWriteCommitsAlone: with no other write coming, an outcome is
// still committed, after the lazy delay.
func TestLazyWriteCommitsAlone(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
	var id int
	done := make(chan error, 1)
	go func() { done <- s.writeLazy(put("lazy", &id)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a lone lazy write was not committed within 10s")
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta).Get([]byte("lazy")) == nil {
			t.Error("the lazy write is not in the file")
		}
		return nil
	})
}

// TestCloseCommitsLazyWrites: Close commits the outcomes still waiting
// before it closes the file.
func TestCloseCommitsLazyWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookgate.db")
	s := mustOpen(t, path)
	s.commit.delay = time.Hour
	var id int
	done := make(chan error, 1)
	go func() { done <- s.writeLazy(put("lazy", &id)) }()
	queued(t, &s.commit, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("lazy write at Close: %v", err)
	}
	s = mustOpen(t, path)
	_ = s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta).Get([]byte("lazy")) == nil {
			t.Error("the lazy write queued at Close is not in the file")
		}
		return nil
	})
}
