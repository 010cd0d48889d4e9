package store

import (
	"context"
	"io"
)

// Backuper is the optional ability of a store to copy itself while it goes
// on serving: GET /api/backup and `hookgate backup` use it. The embedded
// store has it (its file, as of one transaction). The Redis store has not:
// Redis keeps its own persistence (RDB snapshots with BGSAVE, the AOF),
// and those are its backups.
type Backuper interface {
	// Backup writes a consistent snapshot of the whole store, as of one
	// moment, to w, and returns how many bytes it wrote. Writes made while
	// it runs go on and are not in the copy. Before its first byte it
	// calls size (when not nil) with the snapshot's length, which is what
	// it writes when it succeeds, so an HTTP answer can carry a
	// Content-Length. It stops at the first failed write to w or when ctx
	// is done.
	Backup(ctx context.Context, w io.Writer, size func(n int64)) (int64, error)
}
