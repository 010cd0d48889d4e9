package gateway

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchSettle is how long the config file must be quiet before a change
// is reloaded: editors write a file in several steps (truncate, write,
// rename over it), and only the last state should be compiled.
const watchSettle = 200 * time.Millisecond

// startWatch starts watching the config file for -watch: it watches the
// file's folder, not the file, so that an editor replacing the file by a
// rename (vim, most IDEs, `kubectl` ConfigMap updates) is seen too. The
// returned function runs the watch until ctx is done.
func (g *Gateway) startWatch() (func(ctx context.Context), error) {
	path, err := filepath.Abs(g.reloadState.path)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", g.reloadState.path, err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	if err := w.Add(filepath.Dir(path)); err != nil {
		w.Close()
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	return func(ctx context.Context) {
		defer w.Close()
		g.watch(ctx, w, path)
	}, nil
}

// watch reloads once the file at path has settled after each change,
// until ctx is done. A reload of unchanged bytes (a touch, a save without
// edits) does nothing, as with SIGHUP.
func (g *Gateway) watch(ctx context.Context, w *fsnotify.Watcher, path string) {
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if filepath.Clean(ev.Name) != path || !ev.Has(fsnotify.Write|fsnotify.Create|fsnotify.Rename|fsnotify.Chmod) {
				continue
			}
			settle.Reset(watchSettle)
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			g.log.Warn("config watch", "error", err)
		case <-settle.C:
			g.log.Info("config file changed; reloading", "path", path)
			g.reload(ctx) // it logs what it did
		}
	}
}
