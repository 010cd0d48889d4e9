package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/hookgate/hookgate/internal/store/embedded"
)

// backupCmd is `hookgate backup -o FILE [-force]`: a consistent snapshot
// of the running gateway's embedded store (GET /api/backup), saved to FILE
// only once it is whole and verified. It is written to a temporary file
// in FILE's folder, synced, checked with embedded.Verify and renamed into
// place, so FILE is never a partial copy; an existing FILE is kept unless
// -force.
func backupCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "backup")
	af := declareAdminFlags(env, fs, 0)
	out := fs.String("o", "", "write the backup to FILE (required); restore it by copying it over storage.path while the gateway is stopped")
	force := fs.Bool("force", false, "replace FILE if it exists")
	if code := parseFlagsOnly(fs, args); code >= 0 {
		return code
	}
	switch *out {
	case "":
		fmt.Fprintln(env.Stderr, "hookgate backup: -o FILE is required")
		fs.Usage()
		return 2
	case "-":
		fmt.Fprintln(env.Stderr, "hookgate backup: -o must name a file: the backup is verified before it is kept")
		return 2
	}
	c := newAdminClient(env, "backup", af)
	if !*force {
		if _, err := os.Lstat(*out); err == nil {
			return c.fail(fmt.Errorf("%s exists; pass -force to replace it", *out))
		}
	}
	resp, cancel, err := c.do(ctx, http.MethodGet, "/api/backup", nil)
	if err != nil {
		return c.fail(err)
	}
	defer cancel()
	defer resp.Body.Close()
	n, err := saveBackup(*out, *force, resp)
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(env.Stdout, "backed up %s (%d bytes) to %s\n", byteSize(n), n, *out)
	return 0
}

// saveBackup writes resp's body to path through a temporary file in the
// same folder: synced, verified as a store file, then renamed over path
// (or, without force, linked to it, which fails when path exists) and the
// folder synced. On any failure the temporary file is removed and path is
// left as it was.
func saveBackup(path string, force bool, resp *http.Response) (n int64, err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.partial")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err = io.Copy(tmp, resp.Body)
	if err != nil {
		return n, fmt.Errorf("download cut short after %d bytes: %w", n, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return n, fmt.Errorf("download cut short: %d bytes of %d", n, resp.ContentLength)
	}
	if err = tmp.Sync(); err != nil {
		return n, err
	}
	if err = tmp.Close(); err != nil {
		return n, err
	}
	if verr := embedded.Verify(tmp.Name()); verr != nil {
		// The temporary file's name means nothing once it is removed.
		err = errors.New(strings.ReplaceAll(verr.Error(), tmp.Name(), "the download"))
		return n, fmt.Errorf("the backup received is not usable, nothing was saved: %w", err)
	}
	if err = place(tmp.Name(), path, force); err != nil {
		return n, err
	}
	// The rename is durable once the folder is synced.
	d, err := os.Open(dir)
	if err != nil {
		return n, err
	}
	defer d.Close()
	return n, d.Sync()
}

// place moves the file tmp to path: a rename with force; otherwise a
// hard link, which refuses an existing path where a rename would replace
// it, then the removal of tmp. On a file system without hard links it
// falls back to checking and renaming.
func place(tmp, path string, force bool) error {
	if force {
		return os.Rename(tmp, path)
	}
	err := os.Link(tmp, path)
	switch {
	case err == nil:
		return os.Remove(tmp)
	case errors.Is(err, os.ErrExist):
		return fmt.Errorf("%s exists; pass -force to replace it", path)
	}
	if _, serr := os.Lstat(path); serr == nil {
		return fmt.Errorf("%s exists; pass -force to replace it", path)
	}
	return os.Rename(tmp, path)
}

// byteSize is n bytes in a unit a person reads at a glance (1024-based).
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
