package embedded

import "sync"

// leaseTable holds the leases of claimed deliveries: delivery id → the
// lease's end (unix nanos). They live in memory, not in the file, so a
// Claim is a read transaction and costs no commit. That keeps the store's
// contract because one process owns the file (bbolt's file lock) and a
// lease only has to outlive its holder's process, which it does: when the
// process ends, its leases end with it, and every delivery they held is
// due again at the next Open, as a durable lease would be after Open's
// recovery.
//
// A leased delivery keeps its due key at its NextAttemptAt; Claim skips it
// until its lease ends and NextDue reports the lease's end instead.
//
// mu also orders Claim against the writes that end leases: Claim reads
// the file while holding it, and a lease is removed only after the write
// that ended it is committed, so a Claim never pairs a snapshot from
// before a Complete with the table from after it.
type leaseTable struct {
	mu    sync.Mutex
	until map[string]uint64
}

// end removes the leases of ids, once the writes that ended them are
// committed.
func (t *leaseTable) end(ids ...string) {
	t.mu.Lock()
	for _, id := range ids {
		delete(t.until, id)
	}
	t.mu.Unlock()
}
