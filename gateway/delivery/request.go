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
	"time"

	"github.com/hookgate/hookgate/gateway/buildinfo"
	"github.com/hookgate/hookgate/gateway/config"
	"github.com/hookgate/hookgate/plugins"
)

// NewRequest builds the exact request an attempt of delivery id to d sends:
// POST of body with Content-Type, User-Agent, the destination's headers and,
// when d is signed, its signature headers computed for timestamp ts. The same
// id is used on every attempt of one delivery, so receivers can deduplicate.
func NewRequest(ctx context.Context, d *config.Destination, id string, ts time.Time, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = Headers(d, id, ts, body)
	return req, nil
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
