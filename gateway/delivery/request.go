// Package delivery sends deliveries to destinations: it builds each outbound
// request (body, headers, signature) and, from the pipeline issue on, runs
// the per-destination queues, retries and dead-lettering.
//
// It must not parse config files nor evaluate routes; it takes a compiled
// *config.Destination and the exact body a route produced.
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
	if d.Signer != nil {
		d.Signer.Sign(h, plugins.Message{ID: id, Timestamp: ts, Body: body})
	}
	return h
}
