// Package delivery sends deliveries to destinations: it builds each outbound
// request (body, headers, signature; request.go) and runs the Engine that
// claims due deliveries from the store, one loop per destination, and
// records each attempt's outcome: delivered, retrying by the destination's
// schedule, or dead (engine.go, attempt.go). Each destination has its own
// HTTP client, concurrency cap, rate limit and SSRF guard (ssrf.go).
//
// It must not parse config files nor evaluate routes; it takes a compiled
// *config.Destination and the exact body a route produced, as stored.
package delivery

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/hookgate/hookgate/internal/buildinfo"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/plugins"
)

// NewRequest builds the exact request an attempt of delivery id to d sends:
// POST of body with Content-Type, User-Agent, the destination's headers and,
// when d is signed, its signature headers computed for timestamp ts. The same
// id is used on every attempt of one delivery, so receivers can deduplicate.
func NewRequest(ctx context.Context, d *config.Destination, id string, ts time.Time, body []byte) (*http.Request, error) {
	u, err := parseURL(d.URL)
	if err != nil {
		return nil, err
	}
	// The URL is parsed once per destination URL, not per attempt; the
	// request gets its own copy, as NewRequestWithContext would make.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	uc := *u
	req.URL, req.Host = &uc, u.Host
	req.Header = Headers(d, id, ts, body)
	return req, nil
}

// parsedURLs caches destination URLs parsed for requests: parsing one on
// every attempt showed in CPU profiles under load. Keys are the
// configs' URLs, so the map holds as many entries as distinct URLs were
// ever configured.
var parsedURLs sync.Map // string → *url.URL (never modified)

// parseURL parses a destination URL as http.NewRequest does, once per URL.
func parseURL(raw string) (*url.URL, error) {
	if u, ok := parsedURLs.Load(raw); ok {
		return u.(*url.URL), nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	parsedURLs.Store(raw, u)
	return u, nil
}

// Headers returns the headers of an attempt of delivery id to d (see
// NewRequest). The destination's own headers cannot override Content-Type,
// User-Agent or the signature.
func Headers(d *config.Destination, id string, ts time.Time, body []byte) http.Header {
	h := make(http.Header, len(d.Headers)+6)
	for k, v := range d.Headers {
		h[k] = append([]string(nil), v...)
	}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", buildinfo.UserAgent())
	// Every delivery carries its id, whatever the signer, so receivers can
	// drop repeats (delivery is at least once).
	h.Set("Webhook-Id", id)
	if d.Signer != nil {
		d.Signer.Sign(h, plugins.Message{ID: id, Timestamp: ts, Body: body})
	}
	return h
}
