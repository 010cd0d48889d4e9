package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/hookgate/hookgate/secret"
)

// OTLPEndpoint is a parsed telemetry.otlp_endpoint.
type OTLPEndpoint struct {
	// GRPC is true for OTLP over gRPC (host:port, grpc://, grpcs://), false
	// for OTLP over HTTP (http://, https://).
	GRPC bool
	// TLS is true for grpcs:// and https://.
	TLS bool
	// Target is host:port for gRPC, the full URL (path defaulting to
	// /v1/traces) for HTTP.
	Target string
}

// ParseOTLPEndpoint parses an otlp_endpoint: `host:port` or `grpc://host:port`
// (gRPC without TLS, as Jaeger all-in-one takes it), `grpcs://host:port`,
// or an `http://` or `https://` URL. The loader checks it, so `validate`
// reports a bad one with its range; the gateway maps it to telemetry's
// exporter.
func ParseOTLPEndpoint(endpoint string) (OTLPEndpoint, error) {
	scheme, rest, hasScheme := strings.Cut(endpoint, "://")
	if !hasScheme {
		scheme, rest = "grpc", endpoint
	}
	switch s := strings.ToLower(scheme); s {
	case "grpc", "grpcs":
		if rest == "" || strings.ContainsAny(rest, "/?#@") || !strings.Contains(rest, ":") {
			return OTLPEndpoint{}, fmt.Errorf("want host:port for OTLP over gRPC, such as \"127.0.0.1:4317\"")
		}
		return OTLPEndpoint{GRPC: true, TLS: s == "grpcs", Target: rest}, nil
	case "http", "https":
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" {
			return OTLPEndpoint{}, fmt.Errorf("not a valid URL; OTLP over HTTP wants one such as \"http://127.0.0.1:4318\"")
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/v1/traces"
		}
		return OTLPEndpoint{TLS: s == "https", Target: u.String()}, nil
	default:
		if !plainScheme(scheme) {
			// Not a scheme at all: it may hold user info, which is not shown.
			return OTLPEndpoint{}, fmt.Errorf("the scheme is not one of grpc, grpcs, http, https")
		}
		return OTLPEndpoint{}, fmt.Errorf("scheme %q is not one of grpc, grpcs, http, https", scheme)
	}
}

// plainScheme reports whether s looks like a URL scheme (RFC 3986: a letter,
// then letters, digits, +, - and .).
func plainScheme(s string) bool {
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return s != ""
}

// shownEndpoint is an otlp_endpoint as diagnostics show it: quoted, without
// user info, query values and fragment, where credentials would be; one
// that cannot be parsed as a URL and may hold them is not shown.
func shownEndpoint(e string) string {
	if scheme, _, ok := strings.Cut(e, "://"); ok && plainScheme(scheme) {
		return strconv.Quote(secret.RedactURL(e))
	}
	if strings.ContainsAny(e, "@?#") {
		return "The value given"
	}
	return strconv.Quote(e)
}
