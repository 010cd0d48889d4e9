package config

import (
	"fmt"
	"net/url"
	"strings"
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
// reports a bad one with its range; telemetry builds the exporter from it.
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
		return OTLPEndpoint{}, fmt.Errorf("scheme %q is not one of grpc, grpcs, http, https", scheme)
	}
}
