package store

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Errors a store returns that are not about its availability.
var (
	// ErrInvalid: the caller's argument is not acceptable (an empty id, a
	// name too long for a key).
	ErrInvalid = errors.New("invalid argument")
	// ErrCorrupt: a stored record does not decode.
	ErrCorrupt = errors.New("corrupt record")
)

// Wrap prefixes err with the store operation op and marks every failure
// that is not the caller's (a bad argument, a missing record, a duplicate, a
// conflict, a cancelled context) or a corrupt record as ErrUnavailable: the
// store is down, full, failing or closed, and ingest answers 503. Both
// stores classify their errors with it, so they agree.
func Wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrDuplicate),
		errors.Is(err, ErrConflict), errors.Is(err, ErrInvalid),
		errors.Is(err, ErrCorrupt), errors.Is(err, context.Canceled),
		errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("store: %s: %w", op, err)
	}
	return fmt.Errorf("store: %s: %w: %w", op, ErrUnavailable, err)
}

// Corrupt reports that the record what did not decode.
func Corrupt(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrCorrupt, what, err)
}

// Truncate cuts s to at most n bytes without splitting a UTF-8 sequence
// (an attempt's response prefix).
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for i := 0; i < utf8.UTFMax && len(s) > 0; i++ {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}
