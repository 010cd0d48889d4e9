package embedded

import (
	"context"
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestPingAfterDiskFull: once a commit failed for a full disk, Ping fails
// (so /readyz does) for fullHold even though its own few bytes could
// still be written, then goes back to its write. The end-to-end
// TestFaultDiskFull fills a real tmpfs.
func TestPingAfterDiskFull(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping on a roomy disk: %v", err)
	}
	s.commit.noSpace.Store(time.Now().UnixNano())
	if err := s.Ping(ctx); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("ping just after a commit found the disk full: %v, want ENOSPC", err)
	}
	s.commit.noSpace.Store(time.Now().Add(-fullHold - time.Second).UnixNano())
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping %s after the last full-disk failure: %v", fullHold, err)
	}
}
