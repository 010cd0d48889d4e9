package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/hookgate/hookgate/internal/store"
)

var _ store.Backuper = (*Store)(nil)

// Backup writes the store's file as of one read transaction to w: a
// consistent snapshot that Open takes as a store file, written while
// ingest and delivery go on (bbolt's readers and its writer do not wait for
// each other). It returns how many bytes it wrote. size is called with the
// snapshot's length before the first byte.
//
// The read transaction lasts as long as w takes the bytes. Meanwhile the
// pages it reads are not reused, so the file may grow by what is written
// during the copy; and should the file outgrow its memory map (which
// doubles up to 1 GiB, then grows by 1 GiB), the write that grows it waits
// for the copy to end. A copy to a slow reader therefore stalls writes at
// worst once, and only at such a step; the admin API's write deadline
// bounds how long a reader that stops reading can hold it.
//
// Leases are not in the file (they live in memory): a store opened on the
// copy finds every delivery that was in flight due again.
func (s *Store) Backup(ctx context.Context, w io.Writer, size func(n int64)) (int64, error) {
	if err := s.usable(ctx); err != nil {
		return 0, s.wrap("backup", err)
	}
	cw := &ctxWriter{ctx: ctx, w: w}
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		if size != nil {
			size(tx.Size())
		}
		var err error
		n, err = tx.WriteTo(cw)
		return err
	})
	switch {
	case err == nil:
		return n, nil
	case cw.err != nil:
		// The reader went away or ctx ended: not the store's failure.
		return n, fmt.Errorf("store: backup: after %d bytes: %w", n, cw.err)
	}
	return n, s.wrap("backup", err)
}

// ctxWriter passes writes to w until ctx is done, and keeps the first
// error that is w's or ctx's, so Backup can tell them from the file's.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
	err error
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.err = c.ctx.Err(); c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.err = err
	return n, err
}

// maxCheckErrors is how many of bbolt's consistency errors Verify reports.
const maxCheckErrors = 5

// Verify checks, without writing to it, that the file at path is a whole
// hookgate store file, such as a backup: bbolt opens it read-only (its meta
// pages' checksums hold), it is as long as its meta page says, bbolt's
// consistency check finds every page reachable or free, every bucket of
// the store is there and its format version is the one this hookgate
// reads. Unlike Open it takes no exclusive lock and recovers nothing, so
// it leaves the file byte for byte as it was.
func Verify(path string) (err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("store: verify %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: lockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return fmt.Errorf("store: verify %s: in use by a running hookgate", path)
	}
	if err != nil {
		return fmt.Errorf("store: verify %s: not a store file: %w", path, err)
	}
	defer func() {
		// bbolt panics on some damage it finds; it is a verdict here.
		if r := recover(); r != nil {
			err = fmt.Errorf("store: verify %s: damaged: %v", path, r)
		}
		if cerr := db.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("store: verify %s: %w", path, cerr)
		}
	}()
	err = db.View(func(tx *bolt.Tx) error {
		// Pages past the end of a cut file are not mapped: reading one
		// would crash, so the length is checked first.
		if fi.Size() < tx.Size() {
			return fmt.Errorf("cut short: %d bytes of %d", fi.Size(), tx.Size())
		}
		var problems []string
		for cerr := range tx.Check() {
			if len(problems) < maxCheckErrors {
				problems = append(problems, cerr.Error())
			}
		}
		if len(problems) > 0 {
			return fmt.Errorf("damaged: %s", strings.Join(problems, "; "))
		}
		for _, name := range allBuckets {
			if bytes.Equal(name, bucketLines) || bytes.Equal(name, bucketBlocked) {
				continue // a file written before ordered delivery; Open adds them
			}
			if tx.Bucket(name) == nil {
				return fmt.Errorf("not a hookgate store: no bucket %q", name)
			}
		}
		if v := tx.Bucket(bucketMeta).Get([]byte("version")); string(v) != formatVersion {
			return fmt.Errorf("file format %q, want %q", v, formatVersion)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: verify %s: %w", path, err)
	}
	return nil
}
