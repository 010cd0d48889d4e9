package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/telemetry"
)

// reloader holds what reloads need between them. mu serializes reloads.
type reloader struct {
	path string
	// initial is the config Run was given: its caller's, never closed here.
	initial *config.Config
	// retired are the configs reloads replaced, each closed by its timer
	// once nothing can still use it (see retire).
	retiredMu sync.Mutex
	retired   map[*config.Config]*time.Timer
}

// drainMargin is added to the longest a request or an attempt can hold a
// replaced config before its plugins are closed.
const drainMargin = 5 * time.Second

// initReload remembers the config Run was given and the file reloads read.
func (g *Gateway) initReload(cfg *config.Config) {
	g.reloadState.initial = cfg
	g.reloadState.retired = map[*config.Config]*time.Timer{}
	g.reloadState.path = g.opts.Path
	if g.reloadState.path == "" {
		g.reloadState.path = cfg.File
	}
}

func hashOf(src []byte) string {
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:])
}

// notifySIGHUP starts catching SIGHUP (before the gateway says it is
// ready, so that a SIGHUP never kills it); watchSIGHUP handles them.
func notifySIGHUP() chan os.Signal {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	return sig
}

// watchSIGHUP reloads on each signal on sig until ctx is done, then stops
// catching them.
func (g *Gateway) watchSIGHUP(ctx context.Context, sig chan os.Signal) {
	defer signal.Stop(sig)
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
			g.reload(ctx) // it logs what it did
		}
	}
}

// reload reads the config file again and, when its bytes or a file its
// file() calls read changed and it compiles, publishes it: a new snapshot built beside the running one, which
// requests already routed keep using. On errors the running config stays
// and the error is an *admin.ReloadError with the diagnostics. Settings only
// a restart applies (listen, admin_listen, storage, workers) keep their
// running values and are named in RestartNeeded. Reloads are serialized.
func (g *Gateway) reload(ctx context.Context) (admin.ReloadResult, error) {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	st := &g.reloadState
	cur := g.current.Load()

	src, err := os.ReadFile(st.path)
	if err != nil {
		diags := hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read config file",
			Detail:   fmt.Sprintf("%s: %v", st.path, err),
		}}
		return admin.ReloadResult{}, g.refuse(diags, nil)
	}
	// The files file() read (secrets) are read again on every reload: a
	// rotated secret file is a change even when config.hcl is not.
	files := cur.ChangedFiles()
	sameBytes := hashOf(src) == cur.Hash
	if sameBytes && len(files) == 0 {
		g.countReload(ctx, telemetry.ReloadUnchanged)
		g.log.Info("config reload: file unchanged", "config_hash", cur.Hash)
		return admin.ReloadResult{ConfigHash: cur.Hash, RestartNeeded: []string{}}, nil
	}

	l := &config.Loader{}
	if g.opts.NewLoader != nil {
		l = g.opts.NewLoader()
	}
	next, diags := l.LoadBytes(src, st.path)
	if diags.HasErrors() {
		next.Close() // what a partial build provisioned
		return admin.ReloadResult{}, g.refuse(diags, l.Files())
	}
	for _, d := range diags { // warnings
		g.log.Warn("config reload: "+diagLine(d), "summary", d.Summary)
	}

	restart := keepRestartOnly(cur, next)
	if d := exposedAdmin(next); d != nil {
		next.Close()
		return admin.ReloadResult{}, g.refuse(hcl.Diagnostics{d}, l.Files())
	}
	changes := config.Diff(cur, next)
	if len(files) > 0 {
		if slices.Equal(changes, []string{"none"}) {
			changes = nil
		}
		for _, f := range files {
			changes = append(changes, "secret file "+f+" changed")
		}
	}
	g.current.Store(next)
	g.engine.Update(next.Destinations)
	g.alerts.Update(next)
	delivery.Unorder(ctx, g.store, next, g.log.With("component", "delivery"))
	g.retire(cur)
	g.countReload(ctx, telemetry.ReloadOK)

	args := []any{"config_hash", next.Hash, "changes", strings.Join(changes, ", ")}
	if len(restart) > 0 {
		args = append(args, "restart_needed", strings.Join(restart, ", "))
		g.log.Warn("config reloaded; changes to "+strings.Join(restart, ", ")+" need a restart (the running values are kept)", args...)
	} else if sameBytes {
		g.log.Info("config reloaded: a secret file changed", args...)
	} else {
		g.log.Info("config reloaded", args...)
	}
	return admin.ReloadResult{Reloaded: true, ConfigHash: next.Hash, RestartNeeded: restart, Changes: changes}, nil
}

// refuse logs every diagnostic of a refused reload and returns the error.
func (g *Gateway) refuse(diags hcl.Diagnostics, files map[string]*hcl.File) error {
	g.countReload(context.Background(), telemetry.ReloadError)
	var b bytes.Buffer
	config.WriteDiagnostics(&b, diags, files)
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			g.log.Error("config reload refused; the running config is kept: " + diagLine(d))
		}
	}
	return &admin.ReloadError{Diagnostics: diags, Text: b.String()}
}

// countReload counts a reload in hookgate_config_reloads_total.
func (g *Gateway) countReload(ctx context.Context, result string) {
	if g.metrics != nil {
		g.metrics.CountReload(ctx, result)
	}
}

// retire closes the plugins of old, a config a reload replaced, once
// nothing can still use it: requests routed with it end within the ingest
// server's WriteTimeout, and attempts started with it within their
// destination's timeout. The config Run was given is its caller's to close.
func (g *Gateway) retire(old *config.Config) {
	st := &g.reloadState
	if old == st.initial {
		return
	}
	wait := ingestWriteTimeout
	for _, d := range old.Destinations {
		wait = max(wait, d.Timeout)
	}
	st.retiredMu.Lock()
	defer st.retiredMu.Unlock()
	st.retired[old] = time.AfterFunc(wait+drainMargin, func() {
		st.retiredMu.Lock()
		_, ok := st.retired[old]
		delete(st.retired, old)
		st.retiredMu.Unlock()
		if ok {
			g.closeConfig(old)
		}
	})
}

// closeRetired closes, at shutdown, the replaced configs still waiting
// and the running one when a reload loaded it.
func (g *Gateway) closeRetired() {
	st := &g.reloadState
	st.retiredMu.Lock()
	for old, t := range st.retired {
		if t.Stop() {
			g.closeConfig(old)
		}
		delete(st.retired, old)
	}
	st.retiredMu.Unlock()
	if cur := g.current.Load(); cur != st.initial {
		g.closeConfig(cur)
	}
}

func (g *Gateway) closeConfig(c *config.Config) {
	if err := c.Close(); err != nil {
		g.log.Warn("close a replaced config's plugins", "config_hash", c.Hash, "error", err)
	}
}

// diagLine is d on one line: file:line:col: summary: detail.
func diagLine(d *hcl.Diagnostic) string {
	var b strings.Builder
	if d.Subject != nil {
		fmt.Fprintf(&b, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
	}
	b.WriteString(d.Summary)
	if d.Detail != "" {
		b.WriteString(": " + d.Detail)
	}
	return b.String()
}

// keepRestartOnly copies into next the running values of the settings only
// a restart applies (listen addresses, workers, telemetry, storage but its
// retention), and returns the names of those that differ.
func keepRestartOnly(cur, next *config.Config) []string {
	restart := []string{}
	if next.Gateway.Listen != cur.Gateway.Listen {
		restart = append(restart, "listen")
		next.Gateway.Listen = cur.Gateway.Listen
	}
	if next.Gateway.AdminListen != cur.Gateway.AdminListen {
		restart = append(restart, "admin_listen")
		next.Gateway.AdminListen = cur.Gateway.AdminListen
	}
	if next.Gateway.Workers != cur.Gateway.Workers {
		restart = append(restart, "workers")
		next.Gateway.Workers = cur.Gateway.Workers
	}
	if next.Gateway.MaxInFlight != cur.Gateway.MaxInFlight {
		restart = append(restart, "max_in_flight")
		next.Gateway.MaxInFlight = cur.Gateway.MaxInFlight
	}
	// The tracer provider is built once, at start.
	if next.Telemetry != cur.Telemetry {
		restart = append(restart, "telemetry")
		next.Telemetry = cur.Telemetry
	}
	cs, ns := cur.Storage, next.Storage
	if ns.Kind != cs.Kind || ns.Path != cs.Path || ns.URL.Reveal() != cs.URL.Reveal() || ns.Prefix != cs.Prefix {
		restart = append(restart, "storage")
		retention := ns.Retention // the cleanup reads it from the config: it applies now
		next.Storage = cs
		next.Storage.Retention = retention
	}
	return restart
}

// exposedAdmin checks, on next with the running restart-only settings
// kept, the config's rule that an admin server without admin_token listens
// on loopback only: the file's own admin_listen may be loopback while the
// running one, kept until a restart, is not. It returns the diagnostic
// refusing such a reload, placed on the file's gateway block, or nil.
func exposedAdmin(next *config.Config) *hcl.Diagnostic {
	addr := next.Gateway.AdminListen
	if !next.Gateway.AdminToken.Empty() || loopbackListen(addr) {
		return nil
	}
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Admin API exposed without a token",
		Detail: fmt.Sprintf("The running admin server listens on %q, which other machines can reach, and keeps that address until a restart; "+
			"this config has no admin_token, so the admin API would be open. Keep admin_token set, or restart hookgate to move admin_listen to loopback first.", addr),
	}
	d.Subject = next.GatewayRange()
	return d
}

// loopbackListen reports whether a listen address (host:port) only
// listens on loopback, as the config's own check of admin_listen does: an
// empty host or 0.0.0.0 listens everywhere.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
