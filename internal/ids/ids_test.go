package ids

import (
	"sort"
	"strings"
	"testing"
	"time"
)

func TestNewSortsByTimeAndIsUnique(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	var list []string
	for i := 0; i < 1000; i++ {
		id := New(Event, now.Add(time.Duration(i/10)*time.Millisecond))
		if !strings.HasPrefix(id, "evt_") || len(id) != 30 {
			t.Fatalf("bad id %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
		list = append(list, id)
	}
	if !sort.StringsAreSorted(list) {
		t.Fatal("ids made later do not sort later")
	}
}

// TestFloor: ids made before t sort below Floor(t), ids made at or after
// t's millisecond at or above it.
func TestFloor(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	floor := Floor(Event, t0)
	for _, d := range []time.Duration{-time.Hour, -time.Millisecond} {
		if id := New(Event, t0.Add(d)); id >= floor {
			t.Errorf("id made %s before: %s >= floor %s", -d, id, floor)
		}
	}
	for _, d := range []time.Duration{0, 999 * time.Microsecond, time.Millisecond, time.Hour} {
		if id := New(Event, t0.Add(d)); id < floor {
			t.Errorf("id made %s after: %s < floor %s", d, id, floor)
		}
	}
}
