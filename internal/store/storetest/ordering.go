package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/store"
)

// orderingTests are the ordered-delivery subtests (store.Orderer and the
// line rules inside Accept, Complete, Retry, Replay, Abandon, Cleanup).
var orderingTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"OrderedOneAtATime", testOrderedOneAtATime},
	{"OrderedSkip", testOrderedSkip},
	{"OrderedBlock", testOrderedBlock},
	{"OrderedDiscard", testOrderedDiscard},
	{"OrderedReplayJoinsEnd", testOrderedReplayJoinsEnd},
	{"OrderedUnorder", testOrderedUnorder},
	{"OrderedAbandon", testOrderedAbandon},
	{"OrderedCleanupKeepsBlockedHead", testOrderedCleanup},
	{"OrderedClaimConcurrent", testOrderedClaimConcurrent},
}

// orderer returns s as a store.Orderer, failing the test when it is not.
func orderer(t *testing.T, s store.Store) store.Orderer {
	t.Helper()
	o, ok := s.(store.Orderer)
	if !ok {
		t.Fatalf("%T does not implement store.Orderer", s)
	}
	return o
}

// acceptKeyed accepts an event at when with one delivery to dest by route,
// ordered by key.
func acceptKeyed(tb testing.TB, s store.Store, when time.Time, dest, route, key string, blocks bool) *store.Delivery {
	tb.Helper()
	f := newFixture(when, "shop", "creator.updated", target{route: route, dest: dest})
	f.ds[0].Key, f.ds[0].KeyBlocks = key, blocks
	mustAccept(tb, s, f)
	return f.ds[0]
}

// line accepts n deliveries of key to dest, one second apart from when.
func line(tb testing.TB, s store.Store, when time.Time, dest, key string, blocks bool, n int) []*store.Delivery {
	tb.Helper()
	out := make([]*store.Delivery, n)
	for i := range n {
		out[i] = acceptKeyed(tb, s, when.Add(time.Duration(i)*time.Second), dest, "r", key, blocks)
	}
	return out
}

func complete(tb testing.TB, s store.Store, id string, st store.Status, when time.Time, next time.Time) {
	tb.Helper()
	mustComplete(tb, s, id, store.Outcome{
		Attempt:       store.Attempt{At: when, StatusCode: map[store.Status]int{store.Delivered: 200, store.Retrying: 500, store.Dead: 410}[st]},
		Status:        st,
		NextAttemptAt: next,
		DeadReason:    map[bool]string{true: "HTTP 410 Gone"}[st == store.Dead],
	})
}

func testOrderedOneAtATime(t *testing.T, s store.Store) {
	k1 := line(t, s, at(0), "a", "creator-1", false, 3)
	k2 := line(t, s, at(500*time.Millisecond), "a", "creator-2", false, 2)
	free := acceptKeyed(t, s, at(time.Second), "a", "r2", "", false)

	d, _ := mustDelivery(t, s, k1[1].ID)
	if d.Key != "creator-1" || d.Status != store.Pending {
		t.Fatalf("stored delivery: key %q status %s, want creator-1 pending", d.Key, d.Status)
	}
	// Only each line's head is due, next to unordered deliveries.
	wantIDs(t, "Claim at t0+10s", sorted(claimIDs(t, s, "a", at(10*time.Second), 10, time.Minute)),
		sorted([]string{k1[0].ID, k2[0].ID, free.ID}))
	// A retrying head holds back its key only.
	complete(t, s, k1[0].ID, store.Retrying, at(11*time.Second), at(time.Minute))
	complete(t, s, k2[0].ID, store.Delivered, at(11*time.Second), time.Time{})
	wantIDs(t, "Claim at t0+20s", claimIDs(t, s, "a", at(20*time.Second), 10, time.Minute), []string{k2[1].ID})
	wantIDs(t, "Claim at t0+1m", claimIDs(t, s, "a", at(time.Minute), 10, time.Minute), []string{k1[0].ID})
	complete(t, s, k1[0].ID, store.Delivered, at(time.Minute), time.Time{})
	wantIDs(t, "Claim after the head is delivered", claimIDs(t, s, "a", at(time.Minute), 10, time.Minute), []string{k1[1].ID})
	// Released without an attempt, the head is due again, and still alone.
	if err := s.Release(context.Background(), []*store.Delivery{k1[1]}); err != nil {
		t.Fatalf("Release: %v", err)
	}
	wantIDs(t, "Claim after Release", claimIDs(t, s, "a", at(time.Minute), 10, time.Minute), []string{k1[1].ID})
	complete(t, s, k1[1].ID, store.Delivered, at(time.Minute), time.Time{})
	wantIDs(t, "Claim of the last", claimIDs(t, s, "a", at(time.Minute), 10, time.Minute), []string{k1[2].ID})
	testOrderedAcceptLeased(t, s)
}

// testOrderedAcceptLeased: ordered deliveries given a LeaseUntil. A head
// may be stored leased (then Accept keeps its LeaseUntil and no Claim has
// it) or not (Accept clears its LeaseUntil and Claim has it); one that
// waits in its line is never leased and its LeaseUntil is cleared.
func testOrderedAcceptLeased(t *testing.T, s store.Store) {
	t.Helper()
	var ds []*store.Delivery
	for i := range 3 {
		f := newFixture(at(2*time.Minute+time.Duration(i)*time.Second), "shop", "creator.updated",
			target{route: "r", dest: "b"}, target{route: "r", dest: "b"})
		for _, d := range f.ds {
			d.LeaseUntil = at(time.Hour)
		}
		f.ds[0].Key, f.ds[1].Key = "creator-9", "creator-"+string(rune('A'+i))
		mustAccept(t, s, f)
		ds = append(ds, f.ds...)
	}
	// ds: 9#1 A#1 9#2 B#1 9#3 C#1: 9#2 and 9#3 wait.
	for _, i := range []int{2, 4} {
		if !ds[i].LeaseUntil.IsZero() {
			t.Errorf("Accept kept the lease of %s, which waits in its line", ds[i].ID)
		}
	}
	var claimable []string
	for _, i := range []int{0, 1, 3, 5} {
		if ds[i].LeaseUntil.IsZero() {
			claimable = append(claimable, ds[i].ID)
		}
	}
	wantIDs(t, "Claim after Accept of leased ordered deliveries", sorted(claimIDs(t, s, "b", at(2*time.Minute+10*time.Second), 10, time.Minute)), sorted(claimable))
	// The head, completed by whoever held it, lets the next one go.
	complete(t, s, ds[0].ID, store.Delivered, at(3*time.Minute), time.Time{})
	wantIDs(t, "Claim after the leased head is delivered", claimIDs(t, s, "b", at(3*time.Minute), 10, time.Minute), []string{ds[2].ID})
}

func testOrderedSkip(t *testing.T, s store.Store) {
	k := line(t, s, at(0), "a", "k", false, 3)
	kill(t, s, k[0], at(time.Minute))
	wantIDs(t, "Claim after the head died (skip)", claimIDs(t, s, "a", at(time.Minute), 10, time.Minute), []string{k[1].ID})
	if got := blocked(t, s, "a"); len(got) != 0 {
		t.Errorf("Blocked = %+v, want none", got)
	}
}

func blocked(t *testing.T, s store.Store, dest string) []store.BlockedKey {
	t.Helper()
	got, err := orderer(t, s).Blocked(context.Background(), dest, 0)
	if err != nil {
		t.Fatalf("Blocked(%s): %v", dest, err)
	}
	return got
}

func testOrderedBlock(t *testing.T, s store.Store) {
	ctx := context.Background()
	k := line(t, s, at(0), "a", "k", true, 3)
	kill(t, s, k[0], at(time.Minute))
	other := line(t, s, at(0), "a", "other", true, 1)
	wantIDs(t, "Claim while k is blocked", claimIDs(t, s, "a", at(time.Minute), 10, time.Minute), []string{other[0].ID})
	complete(t, s, other[0].ID, store.Delivered, at(time.Minute), time.Time{})
	got := blocked(t, s, "a")
	if len(got) != 1 || got[0].Key != "k" || got[0].DeliveryID != k[0].ID || got[0].Route != "r" || got[0].Waiting != 2 {
		t.Fatalf("Blocked = %+v, want k held by %s with 2 waiting", got, k[0].ID)
	}
	wantTime(t, "Blocked since", got[0].Since, at(time.Minute))
	// Replaying the dead head: it goes first, and delivered, it releases
	// the key.
	if err := s.Retry(ctx, k[0].ID, at(2*time.Minute)); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if got := blocked(t, s, "a"); len(got) != 0 {
		t.Errorf("Blocked after Retry = %+v, want none", got)
	}
	wantIDs(t, "Claim after Retry", claimIDs(t, s, "a", at(2*time.Minute), 10, time.Minute), []string{k[0].ID})
	// Dead again: blocked again.
	complete(t, s, k[0].ID, store.Dead, at(2*time.Minute), time.Time{})
	if got := blocked(t, s, "a"); len(got) != 1 {
		t.Fatalf("Blocked after a second death = %+v, want k", got)
	}
	if n, err := s.Replay(ctx, store.ReplayQuery{Destination: "a"}, at(3*time.Minute)); err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v; want 1", n, err)
	}
	wantIDs(t, "Claim after Replay", claimIDs(t, s, "a", at(3*time.Minute), 10, time.Minute), []string{k[0].ID})
	complete(t, s, k[0].ID, store.Delivered, at(3*time.Minute), time.Time{})
	wantIDs(t, "Claim after the replayed head is delivered", claimIDs(t, s, "a", at(3*time.Minute), 10, time.Minute), []string{k[1].ID})
}

func testOrderedDiscard(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := orderer(t, s)
	k := line(t, s, at(0), "a", "k", true, 4)
	kill(t, s, k[0], at(time.Minute))
	wantIDs(t, "Claim while blocked", claimIDs(t, s, "a", at(time.Minute), 10, time.Minute), nil)
	// Discarding a waiting delivery takes it out of the line.
	if err := o.Discard(ctx, k[2].ID, at(time.Minute)); err != nil {
		t.Fatalf("Discard(waiting): %v", err)
	}
	d := wantStatus(t, s, k[2].ID, store.Dead)
	if d.DeadReason != store.DiscardedReason {
		t.Errorf("discarded DeadReason = %q, want %q", d.DeadReason, store.DiscardedReason)
	}
	// Discarding the blocked head releases the key; it stays dead.
	if err := o.Discard(ctx, k[0].ID, at(2*time.Minute)); err != nil {
		t.Fatalf("Discard(blocked head): %v", err)
	}
	wantStatus(t, s, k[0].ID, store.Dead)
	if got := blocked(t, s, "a"); len(got) != 0 {
		t.Errorf("Blocked after Discard = %+v, want none", got)
	}
	wantIDs(t, "Claim after Discard", claimIDs(t, s, "a", at(2*time.Minute), 10, time.Minute), []string{k[1].ID})
	// Leased: a conflict.
	wantErr(t, "Discard(leased)", o.Discard(ctx, k[1].ID, at(2*time.Minute)), store.ErrConflict)
	complete(t, s, k[1].ID, store.Delivered, at(2*time.Minute), time.Time{})
	wantErr(t, "Discard(delivered)", o.Discard(ctx, k[1].ID, at(2*time.Minute)), store.ErrConflict)
	wantErr(t, "Discard(unknown)", o.Discard(ctx, "dlv_nope", at(2*time.Minute)), store.ErrNotFound)
	// k[2] was discarded: k[3] is next.
	wantIDs(t, "Claim of the last", claimIDs(t, s, "a", at(2*time.Minute), 10, time.Minute), []string{k[3].ID})
}

func testOrderedReplayJoinsEnd(t *testing.T, s store.Store) {
	ctx := context.Background()
	k := line(t, s, at(0), "a", "k", false, 3)
	kill(t, s, k[0], at(time.Minute)) // skip: k[1] goes on
	wantIDs(t, "Claim", claimIDs(t, s, "a", at(time.Minute), 10, time.Minute), []string{k[1].ID})
	// Replayed while k[1] is in flight: it waits, at the end of the line.
	if err := s.Retry(ctx, k[0].ID, at(time.Minute)); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	wantIDs(t, "Claim while the head is in flight", claimIDs(t, s, "a", at(time.Minute), 10, time.Minute), nil)
	complete(t, s, k[1].ID, store.Delivered, at(time.Minute), time.Time{})
	wantIDs(t, "Claim", claimIDs(t, s, "a", at(time.Minute), 10, time.Minute), []string{k[2].ID})
	complete(t, s, k[2].ID, store.Delivered, at(time.Minute), time.Time{})
	wantIDs(t, "Claim of the replayed one", claimIDs(t, s, "a", at(time.Minute), 10, time.Minute), []string{k[0].ID})
}

func testOrderedUnorder(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := orderer(t, s)
	blockedLine := line(t, s, at(0), "a", "b", true, 2)
	kill(t, s, blockedLine[0], at(time.Minute))
	kept := make([]*store.Delivery, 2)
	for i := range kept {
		kept[i] = acceptKeyed(t, s, at(time.Duration(i)*time.Second), "a", "keep", "c", false)
	}
	freed := line(t, s, at(0), "a", "c2", false, 3)
	n, err := o.Unorder(ctx, "a", func(route string) bool { return route == "keep" })
	if err != nil {
		t.Fatalf("Unorder: %v", err)
	}
	if n != 5 {
		t.Errorf("Unorder = %d, want 5 (2 of the blocked line, 3 of c2)", n)
	}
	if got := blocked(t, s, "a"); len(got) != 0 {
		t.Errorf("Blocked after Unorder = %+v, want none", got)
	}
	wantIDs(t, "Claim after Unorder", sorted(claimIDs(t, s, "a", at(time.Minute), 10, time.Minute)),
		sorted([]string{blockedLine[1].ID, kept[0].ID, freed[0].ID, freed[1].ID, freed[2].ID}))
	wantStatus(t, s, blockedLine[0].ID, store.Dead)
}

func testOrderedAbandon(t *testing.T, s store.Store) {
	ctx := context.Background()
	k := line(t, s, at(0), "a", "k", true, 3)
	n, err := s.Abandon(ctx, "a", "destination removed", at(time.Minute))
	if err != nil || n != 3 {
		t.Fatalf("Abandon = %d, %v; want 3", n, err)
	}
	for _, d := range k {
		wantStatus(t, s, d.ID, store.Dead)
	}
	if got := blocked(t, s, "a"); len(got) != 0 {
		t.Errorf("Blocked after Abandon = %+v, want none", got)
	}
	// Replayed, they form the line again, in replay order.
	if n, err := s.Replay(ctx, store.ReplayQuery{Destination: "a"}, at(2*time.Minute)); err != nil || n != 3 {
		t.Fatalf("Replay = %d, %v; want 3", n, err)
	}
	got := claimIDs(t, s, "a", at(2*time.Minute), 10, time.Minute)
	if len(got) != 1 {
		t.Fatalf("Claim after Replay = %v, want one head", got)
	}
}

func testOrderedCleanup(t *testing.T, s store.Store) {
	ctx := context.Background()
	k := line(t, s, at(0), "a", "k", true, 2)
	kill(t, s, k[0], at(time.Minute))
	if _, err := s.Cleanup(ctx, at(time.Hour), at(time.Hour)); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	wantStatus(t, s, k[0].ID, store.Dead)
	if got := blocked(t, s, "a"); len(got) != 1 {
		t.Fatalf("Blocked after Cleanup = %+v, want the key still blocked", got)
	}
	if err := orderer(t, s).Discard(ctx, k[0].ID, at(time.Hour)); err != nil {
		t.Fatalf("Discard: %v", err)
	}
	if _, err := s.Cleanup(ctx, at(2*time.Hour), at(2*time.Hour)); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if _, _, err := s.Delivery(ctx, k[0].ID); err == nil {
		t.Error("a discarded head is kept by Cleanup")
	}
	wantIDs(t, "Claim", claimIDs(t, s, "a", at(2*time.Hour), 10, time.Minute), []string{k[1].ID})
}

// testOrderedClaimConcurrent has claimers race over many keys, each
// completing what it claims as delivered or retrying at once: no two
// deliveries of one key are ever leased at the same time, and every key's
// deliveries are delivered in acceptance order.
func testOrderedClaimConcurrent(t *testing.T, s store.Store) {
	const keys, per = 8, 6
	var order [keys][]string
	for i := range per {
		for k := range keys {
			d := acceptKeyed(t, s, at(time.Duration(i*keys+k)*time.Millisecond), "a", "r", string(rune('A'+k)), false)
			order[k] = append(order[k], d.ID)
		}
	}
	var (
		mu        sync.Mutex
		inFlight  = map[string]string{} // key → id
		delivered [keys][]string
		failures  = map[string]int{}
		wg        sync.WaitGroup
	)
	now := at(time.Hour)
	for range 4 {
		wg.Go(func() {
			for range 400 {
				ds, err := s.Claim(context.Background(), "a", now, 3, time.Hour)
				if err != nil {
					t.Errorf("Claim: %v", err)
					return
				}
				mu.Lock()
				done := 0
				for k := range delivered {
					done += len(delivered[k])
				}
				for _, d := range ds {
					if other, busy := inFlight[d.Key]; busy {
						t.Errorf("key %s: %s claimed while %s is in flight", d.Key, d.ID, other)
					}
					inFlight[d.Key] = d.ID
				}
				mu.Unlock()
				if len(ds) == 0 && done == keys*per {
					return
				}
				for _, d := range ds {
					mu.Lock()
					fail := failures[d.ID] < 1 && d.ID[len(d.ID)-1]%2 == 0
					failures[d.ID]++
					delete(inFlight, d.Key)
					if !fail {
						k := int(d.Key[0] - 'A')
						delivered[k] = append(delivered[k], d.ID)
					}
					mu.Unlock()
					st := store.Delivered
					if fail {
						st = store.Retrying
					}
					complete(t, s, d.ID, st, now, now)
				}
			}
		})
	}
	wg.Wait()
	for k := range keys {
		if !slices.Equal(delivered[k], order[k]) {
			t.Errorf("key %c delivered %v, want %v", 'A'+k, delivered[k], order[k])
		}
	}
}
