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

// held returns the end of id's lease, 0 when it has none.
func (t *leaseTable) held(id string) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.until[id]
}

// end removes id's lease once the write that ended it is committed, if it
// is still the lease held (untilN, from held before the write) when the
// write began: a write that finished the delivery must not end a lease a
// later claim took after a requeue. With untilN 0 (no lease when the write
// began) it removes whatever lease there is.
//
// Requeues (Retry, Replay) end no lease: they change finished deliveries,
// which hold none, and the claim that may follow them at once holds one
// that must stand.
func (t *leaseTable) end(id string, untilN uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if u, ok := t.until[id]; ok && (untilN == 0 || u == untilN) {
		delete(t.until, id)
	}
}

// take leases ids (id → lease end, unix nanos) before the write that
// stores them; nil takes nothing.
func (t *leaseTable) take(leases map[string]uint64) {
	if len(leases) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, u := range leases {
		t.until[id] = u
	}
}

// drop removes the leases take took, when the write stored nothing.
func (t *leaseTable) drop(leases map[string]uint64) {
	for id, u := range leases {
		t.end(id, u)
	}
}
