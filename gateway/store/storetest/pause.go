package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/store"
)

// testPauses: a pause is kept until resumed, keeps its first time, is
// independent per destination, and a name no store can key is refused.
func testPauses(t *testing.T, s store.Store) {
	ctx := context.Background()
	if p, err := s.Paused(ctx); err != nil || len(p) != 0 {
		t.Fatalf("a new store: Paused = %v, %v; want none", p, err)
	}
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	if err := s.Pause(ctx, "crm", at); err != nil {
		t.Fatal(err)
	}
	if err := s.Pause(ctx, "crm", at.Add(time.Hour)); err != nil {
		t.Fatalf("pausing a paused destination: %v", err)
	}
	if err := s.Pause(ctx, "warehouse", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	p, err := s.Paused(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 2 || !p["crm"].At.Equal(at) || !p["warehouse"].At.Equal(at.Add(time.Minute)) {
		t.Fatalf("Paused = %v, want crm at %s (its first pause) and warehouse", p, at)
	}
	if err := s.Resume(ctx, "crm"); err != nil {
		t.Fatal(err)
	}
	if err := s.Resume(ctx, "crm"); err != nil {
		t.Fatalf("resuming a destination not paused: %v", err)
	}
	if err := s.Resume(ctx, "never_paused"); err != nil {
		t.Fatalf("resuming a destination never paused: %v", err)
	}
	p, err = s.Paused(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p["crm"]; ok || len(p) != 1 {
		t.Fatalf("after resuming crm: Paused = %v, want warehouse only", p)
	}
	for _, bad := range []string{"", "a{b}", "nul\x00"} {
		if err := s.Pause(ctx, bad, at); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Pause(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}
