package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hookgate/hookgate/internal/store"
)

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 3, "hel"},
		{"héllo", 2, "h"}, // é is two bytes: not split
		{"h☕", 3, "h"},    // ☕ is three bytes
		{"h☕", 4, "h☕"},
	}
	for _, tc := range tests {
		if got := store.Truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// TestWrap: the caller's errors and corrupt records keep their kind; every
// other failure is ErrUnavailable (ingest answers 503); nil stays nil.
func TestWrap(t *testing.T) {
	if store.Wrap("op", nil) != nil {
		t.Error("Wrap(nil) is not nil")
	}
	for _, err := range []error{store.ErrNotFound, store.ErrDuplicate, store.ErrConflict, store.ErrInvalid,
		store.Corrupt("delivery", errors.New("bad")), context.Canceled, context.DeadlineExceeded} {
		if w := store.Wrap("op", err); !errors.Is(w, err) || errors.Is(w, store.ErrUnavailable) {
			t.Errorf("Wrap(%v) = %v: want it kept, not unavailable", err, w)
		}
	}
	down := fmt.Errorf("dial tcp: connection refused")
	if w := store.Wrap("accept", down); !errors.Is(w, store.ErrUnavailable) || !errors.Is(w, down) {
		t.Errorf("Wrap(%v) = %v: want unavailable, wrapping the cause", down, w)
	}
}
