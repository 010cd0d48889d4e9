package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/internal/config"
	_ "github.com/hookgate/hookgate/plugins/standard"
)

// base is a small valid config the broken cases append to.
const base = `
schema "creator_insights" {
  field "type" {
    type = "string"
    enum = ["creator_insights"]
  }
  field "status" {
    type = "string"
    enum = ["success", "failed"]
  }
  field "connector" {
    type = "string"
    enum = ["instagram", "youtube", "tiktok", "facebook"]
  }
  field "identifier" { type = "string" }
  field "data" {
    type = "object"
    optional = true
    field "followers" { type = "integer" }
  }
}
source "ylytic" {
  path       = "/in/ylytic"
  event_type = "type"
  schemas    = { creator_insights = "creator_insights" }
  verify "none" {}
}
destination "tiktok_team" {
  url = "https://tiktok.example.com/hooks"
}
`

// baseLines is how many lines base has, so cases can state lines of their own.
var baseLines = strings.Count(base, "\n")

func loader(env map[string]string) *config.Loader {
	return &config.Loader{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
}

func mustLoad(tb testing.TB, src string) *config.Config {
	tb.Helper()
	cfg, diags := loader(nil).LoadBytes([]byte(src), "config.hcl")
	if diags.HasErrors() {
		tb.Fatalf("load: %s", diags.Error())
	}
	return cfg
}

func TestBrokenConfigs(t *testing.T) {
	// Each case is base plus an addition (or a whole file when standalone);
	// line is the line of the addition that the diagnostic must point at
	// (1 is the addition's first line).
	cases := []struct {
		name       string
		src        string
		standalone bool
		summary    string
		detail     string // a part of the detail
		line       int
	}{
		{name: "syntax error", src: "route \"x\" {\n  source = \n}", summary: "Invalid expression", line: 2},
		{name: "unknown top-level block", src: "destinaton \"x\" {\n}", summary: "Unsupported block type", detail: `Did you mean "destination"?`, line: 1},
		{name: "unknown attribute", src: "route \"r\" {\n  source = \"ylytic\"\n  destinatons = [\"tiktok_team\"]\n}", summary: "Unsupported argument", detail: `Did you mean "destinations"?`, line: 3},
		{name: "missing required attribute", src: "route \"r\" {\n  source = \"ylytic\"\n}", summary: "Missing required argument", detail: "destinations", line: 1},
		{name: "unknown source in route", src: "route \"r\" {\n  source = \"ylytc\"\n  destinations = [\"tiktok_team\"]\n}", summary: "Unknown source", detail: `Did you mean "ylytic"?`, line: 2},
		{name: "unknown destination in route", src: "route \"r\" {\n  source = \"ylytic\"\n  destinations = [\"tiktok_team\", \"tiktok_tem\"]\n}", summary: "Unknown destination", detail: `Did you mean "tiktok_team"?`, line: 3},
		{name: "unknown event in route", src: "route \"r\" {\n  source = \"ylytic\"\n  events = [\"creator_insight\"]\n  destinations = [\"tiktok_team\"]\n}", summary: "Unknown event type", detail: `Did you mean "creator_insights"?`, line: 3},
		{name: "unknown schema in source", src: "source \"s2\" {\n  path = \"/in/s2\"\n  event_type = \"type\"\n  schemas = { a = \"creator_insight\" }\n  verify \"none\" {}\n}", summary: "Unknown schema", detail: `Did you mean "creator_insights"?`, line: 4},
		{name: "both source and sources", src: "route \"r\" {\n  source = \"ylytic\"\n  sources = [\"ylytic\"]\n  destinations = [\"tiktok_team\"]\n}", summary: "Both source and sources", line: 3},
		{name: "route without source", src: "route \"r\" {\n  destinations = [\"tiktok_team\"]\n}", summary: "Route without a source", line: 1},
		{name: "route with empty destinations", src: "route \"r\" {\n  source = \"ylytic\"\n  destinations = []\n}", summary: "Route without destinations", line: 3},
		{name: "duplicate destination", src: "destination \"tiktok_team\" {\n  url = \"https://x.example.com\"\n}", summary: `Duplicate destination "tiktok_team"`, detail: "Previous definition was at config.hcl:", line: 1},
		{name: "duplicate source", src: "source \"ylytic\" {\n  path = \"/in/other\"\n}", summary: `Duplicate source "ylytic"`, line: 1},
		{name: "duplicate route", src: "route \"r\" {\n  source = \"ylytic\"\n  destinations = [\"tiktok_team\"]\n}\nroute \"r\" {\n  source = \"ylytic\"\n  destinations = [\"tiktok_team\"]\n}", summary: `Duplicate route "r"`, line: 5},
		{name: "duplicate schema", src: "schema \"creator_insights\" {\n}", summary: `Duplicate schema "creator_insights"`, line: 1},
		{name: "duplicate field", src: "schema \"s\" {\n  field \"a\" { type = \"string\" }\n  field \"a\" { type = \"string\" }\n}", summary: `Duplicate field "a"`, line: 3},
		{name: "duplicate source path", src: "source \"other\" {\n  path = \"/in/ylytic\"\n  verify \"none\" {}\n}", summary: "Duplicate source path", line: 2},
		{name: "path without slash", src: "source \"other\" {\n  path = \"in/other\"\n  verify \"none\" {}\n}", summary: "Invalid path", line: 2},
		{name: "invalid name", src: "destination \"9lives\" {\n  url = \"https://x.example.com\"\n}", summary: "Invalid destination name", line: 1},
		{name: "bad field type", src: "schema \"s\" {\n  field \"a\" { type = \"strng\" }\n}", summary: "Invalid type", detail: `"strng" is not one of`, line: 2},
		{name: "enum type mismatch", src: "schema \"s\" {\n  field \"a\" {\n    type = \"integer\"\n    enum = [\"x\"]\n  }\n}", summary: "Invalid enum", line: 4},
		{name: "nested field in string", src: "schema \"s\" {\n  field \"a\" {\n    type = \"string\"\n    field \"b\" { type = \"string\" }\n  }\n}", summary: "Nested field in a non-object field", line: 4},
		{name: "bad duration", src: "destination \"d2\" {\n  url = \"https://x.example.com\"\n  timeout = \"5 seconds\"\n}", summary: "Invalid timeout", detail: "not a duration", line: 3},
		{name: "bad retry schedule", src: "destination \"d2\" {\n  url = \"https://x.example.com\"\n  retry {\n    schedule = [\"1m\", \"soon\"]\n  }\n}", summary: "Invalid schedule", line: 4},
		{name: "bad jitter", src: "destination \"d2\" {\n  url = \"https://x.example.com\"\n  retry {\n    jitter = \"10\"\n  }\n}", summary: "Invalid jitter", detail: "percentage", line: 4},
		{name: "bad rate", src: "destination \"d2\" {\n  url = \"https://x.example.com\"\n  rate_limit = \"fifty per second\"\n}", summary: "Invalid rate_limit", detail: "not a rate", line: 3},
		{name: "bad size", src: "gateway {\n  max_body = \"1 megabyte\"\n}", summary: "Invalid max_body", detail: "not a size", line: 2},
		{name: "bad url scheme", src: "destination \"d2\" {\n  url = \"ftp://x.example.com\"\n}", summary: "Invalid url", line: 2},
		{name: "relative url", src: "destination \"d2\" {\n  url = \"/hooks\"\n}", summary: "Invalid url", line: 2},
		{name: "exposed admin without token", src: "gateway {\n  admin_listen = \"0.0.0.0:8081\"\n}", summary: "Admin API exposed without a token", line: 2},
		{name: "bad listen address", src: "gateway {\n  listen = \"localhost\"\n}", summary: "Invalid listen", line: 2},
		{name: "two gateway blocks", src: "gateway {\n}\ngateway {\n}", summary: "Duplicate gateway block", line: 3},
		{name: "unknown storage kind", src: "storage \"rediss\" {\n}", summary: "Unknown storage kind", detail: `Did you mean "redis"?`, line: 1},
		{name: "redis without url", src: "storage \"redis\" {\n  prefix = \"x\"\n}", summary: "Missing required argument", line: 1},
		{name: "sample ratio out of range", src: "telemetry {\n  sample_ratio = 2\n}", summary: "Invalid sample_ratio", line: 2},
		{name: "otlp endpoint without a port", src: "telemetry {\n  otlp_endpoint = \"jaeger\"\n}", summary: "Invalid otlp_endpoint", line: 2},
		{name: "otlp endpoint with an unknown scheme", src: "telemetry {\n  otlp_endpoint = \"udp://127.0.0.1:6831\"\n}", summary: "Invalid otlp_endpoint", line: 2},
		{name: "unknown verify plugin", src: "source \"s2\" {\n  path = \"/in/s2\"\n  verify \"hmacc\" {\n    secret = \"x\"\n  }\n}", summary: "Unknown verify plugin", detail: `Did you mean "hmac"?`, line: 3},
		{name: "unknown sign plugin", src: "destination \"d2\" {\n  url = \"https://x.example.com\"\n  sign \"standard_webhook\" {\n    secret = \"x\"\n  }\n}", summary: "Unknown sign plugin", detail: `Did you mean "standard_webhooks"?`, line: 3},
		{name: "wrong attribute in plugin", src: "source \"s2\" {\n  path = \"/in/s2\"\n  verify \"hmac\" {\n    secret = \"x\"\n    algorithim = \"sha256\"\n  }\n}", summary: "Unsupported argument", detail: `Did you mean "algorithm"?`, line: 5},
		{name: "bad plugin enum", src: "source \"s2\" {\n  path = \"/in/s2\"\n  verify \"hmac\" {\n    secret = \"x\"\n    algorithm = \"md5\"\n  }\n}", summary: "Invalid algorithm", line: 5},
		{name: "verify with secret and secrets", src: "source \"s2\" {\n  path = \"/in/s2\"\n  verify \"hmac\" {\n    secret = \"k1\"\n    secrets = [\"k2\", \"k1\"]\n  }\n}", summary: `Invalid verify "hmac"`, detail: "either secret or secrets, not both", line: 5},
		{name: "verify with neither secret nor secrets", src: "source \"s2\" {\n  path = \"/in/s2\"\n  verify \"standard_webhooks\" {\n    tolerance = \"5m\"\n  }\n}", summary: `Invalid verify "standard_webhooks"`, detail: "secrets = [new, old]", line: 3},
		{name: "verify secrets with an empty one", src: "source \"s2\" {\n  path = \"/in/s2\"\n  verify \"hmac\" {\n    secrets = [\"k2\", \"\"]\n  }\n}", summary: `Invalid verify "hmac"`, detail: "secret at index 1 (counting from 0) must not be empty", line: 4},
		{name: "verify secrets not a list", src: "source \"s2\" {\n  path = \"/in/s2\"\n  verify \"hmac\" {\n    secrets = { a = \"k2\" }\n  }\n}", summary: "Invalid secrets", line: 4},
		{name: "plugin missing secret", src: "destination \"d2\" {\n  url = \"https://x.example.com\"\n  sign \"standard_webhooks\" {\n  }\n}", summary: "Missing required argument", detail: "secret", line: 3},
		{name: "unset env without default", src: "destination \"d2\" {\n  url = \"https://x.example.com\"\n  sign \"standard_webhooks\" {\n    secret = env(\"HOOKGATE_TEST_UNSET\")\n  }\n}", summary: "Invalid function argument", detail: "HOOKGATE_TEST_UNSET is not set", line: 4},
		{name: "missing file", src: "destination \"d2\" {\n  url = \"https://x.example.com\"\n  sign \"hmac\" {\n    secret = file(\"no-such-secret.txt\")\n  }\n}", summary: "Invalid function argument", detail: "cannot read", line: 4},
		{name: "filter on undeclared field", src: "route \"r\" {\n  source = \"ylytic\"\n  filter = \"conector == 'tiktok'\"\n  destinations = [\"tiktok_team\"]\n}", summary: "Invalid filter", detail: `"connector"`, line: 3},
		{name: "filter comparing string with number", src: "route \"r\" {\n  source = \"ylytic\"\n  filter = \"connector == 3\"\n  destinations = [\"tiktok_team\"]\n}", summary: "Invalid filter", line: 3},
		{name: "filter literal outside enum", src: "route \"r\" {\n  source = \"ylytic\"\n  filter = \"connector == 'tiktk'\"\n  destinations = [\"tiktok_team\"]\n}", summary: "Invalid filter", detail: "tiktk", line: 3},
		{name: "filter not boolean", src: "route \"r\" {\n  source = \"ylytic\"\n  filter = \"identifier\"\n  destinations = [\"tiktok_team\"]\n}", summary: "Invalid filter", line: 3},
		{name: "filter syntax error", src: "route \"r\" {\n  source = \"ylytic\"\n  filter = \"connector == \"\n  destinations = [\"tiktok_team\"]\n}", summary: "Invalid filter", line: 3},
		{name: "filter written without quotes", src: "route \"r\" {\n  source = \"ylytic\"\n  filter = connector == \"tiktok\"\n  destinations = [\"tiktok_team\"]\n}", summary: "Variables not allowed", detail: "expr-lang expression written inside a string", line: 3},
		{name: "transform on undeclared nested field", src: "route \"r\" {\n  source = \"ylytic\"\n  transform = \"{f: data.follower}\"\n  destinations = [\"tiktok_team\"]\n}", summary: "Invalid transform", line: 3},
		{name: "empty filter", src: "route \"r\" {\n  source = \"ylytic\"\n  filter = \"  \"\n  destinations = [\"tiktok_team\"]\n}", summary: "Empty filter", line: 3},
		{name: "schemas without event_type", src: "source \"s2\" {\n  path = \"/in/s2\"\n  schemas = { a = \"creator_insights\" }\n  verify \"none\" {}\n}", summary: "Schemas without event_type", line: 3},
		{name: "challenge syntax error", src: "source \"s2\" {\n  path = \"/in/s2\"\n  verify \"none\" {}\n  challenge {\n    when = \"$headers['x'] ==\"\n    respond = \"{}\"\n  }\n}", summary: "Invalid when", line: 5},
		{name: "duplicate verify block", src: "source \"s2\" {\n  path = \"/in/s2\"\n  verify \"none\" {}\n  verify \"none\" {}\n}", summary: "Duplicate verify block", line: 4},
		{name: "unknown unknown_events", src: "source \"s2\" {\n  path = \"/in/s2\"\n  event_type = \"type\"\n  schemas = { creator_insights = \"creator_insights\" }\n  unknown_events = \"drop\"\n  verify \"none\" {}\n}", summary: "Invalid unknown_events", line: 5},
		{name: "header map not strings", src: "destination \"d2\" {\n  url = \"https://x.example.com\"\n  headers = { \"X-A\" = { b = 1 } }\n}", summary: "Invalid headers", line: 3},
		{name: "workers zero", src: "gateway {\n  workers = 0\n}", summary: "Invalid workers", line: 2},
		{name: "max_in_flight zero", src: "gateway {\n  max_in_flight = 0\n}", summary: "Invalid max_in_flight", line: 2},
		{name: "respond with a non-2xx status", src: "source \"s2\" {\n  path = \"/in/s2\"\n  verify \"none\" {}\n  respond {\n    status = 500\n  }\n}", summary: "Invalid status", line: 5},
		{name: "unknown content type", src: "source \"s2\" {\n  path = \"/in/s2\"\n  content_types = [\"text/xml\"]\n  verify \"none\" {}\n}", summary: "Unknown content type", line: 3},
		{name: "empty content_types", src: "source \"s2\" {\n  path = \"/in/s2\"\n  content_types = []\n  verify \"none\" {}\n}", summary: "Invalid content_types", line: 3},
		{name: "header value with a line break", src: "destination \"d2\" {\n  url = \"https://x.example.com\"\n  headers = {\n    \"X-A\" = \"a\\r\\nX-Injected: 1\"\n  }\n}", summary: "Invalid header value", detail: `"X-A"`, line: 4},
		{name: "header value with a NUL", src: "destination \"d2\" {\n  url = \"https://x.example.com\"\n  headers = { \"X-A\" = \"a\\u0000b\" }\n}", summary: "Invalid header value", line: 3},
		{name: "header name with a line break", src: "destination \"d2\" {\n  url = \"https://x.example.com\"\n  headers = {\n    \"X-A\" = \"1\"\n    \"X-B\\r\\nX-C\" = \"2\"\n  }\n}", summary: "Invalid header name", line: 5},
		{name: "retry delay beyond the cap", src: "destination \"d2\" {\n  url = \"https://x.example.com\"\n  retry {\n    schedule = [\n      \"1m\",\n      \"2562047h\",\n    ]\n  }\n}", summary: "Invalid schedule", detail: "168h", line: 6},
		{name: "retry delay zero", src: "destination \"d2\" {\n  url = \"https://x.example.com\"\n  retry {\n    schedule = [\n      \"1m\",\n      \"0s\",\n    ]\n  }\n}", summary: "Invalid schedule", line: 6},
		{name: "jitter not a number", src: "destination \"d2\" {\n  url = \"https://x.example.com\"\n  retry {\n    jitter = \"NaN%\"\n  }\n}", summary: "Invalid jitter", line: 4},
		{name: "zero retention", src: "storage \"embedded\" {\n  path = \"x.db\"\n  retention = \"0s\"\n}", summary: "Invalid retention", line: 3},
		{name: "zero redis retention", src: "storage \"redis\" {\n  url = \"redis://127.0.0.1:6379/0\"\n  retention = \"0s\"\n}", summary: "Invalid retention", line: 3},
		{name: "negative retention", src: "storage \"embedded\" {\n  path = \"x.db\"\n  retention = \"-1h\"\n}", summary: "Invalid retention", line: 3},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d broken configs", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, offset := base+tc.src, baseLines
			if tc.standalone {
				src, offset = tc.src, 0
			}
			cfg, diags := loader(nil).LoadBytes([]byte(src), "config.hcl")
			if cfg != nil || !diags.HasErrors() {
				t.Fatalf("loaded without error; diagnostics: %v", diags)
			}
			var found *hcl.Diagnostic
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Summary == tc.summary {
					found = d
					break
				}
			}
			if found == nil {
				t.Fatalf("no %q diagnostic; got:\n%s", tc.summary, diagList(diags))
			}
			if !strings.Contains(found.Detail, tc.detail) {
				t.Errorf("detail %q does not contain %q", found.Detail, tc.detail)
			}
			if found.Subject == nil {
				t.Fatalf("diagnostic has no range")
			}
			if got := found.Subject.Start.Line - offset; got != tc.line {
				t.Errorf("diagnostic at line %d of the addition, want %d:\n%s", got, tc.line, diagList(diags))
			}
		})
	}
}

func diagList(diags hcl.Diagnostics) string {
	var b strings.Builder
	config.WriteDiagnostics(&b, diags, nil)
	return b.String()
}

func TestExprErrorPointsAtTheCharacter(t *testing.T) {
	src := base + "route \"r\" {\n  source = \"ylytic\"\n  filter = \"status == 'success' && conector == 'tiktok'\"\n  destinations = [\"tiktok_team\"]\n}\n"
	_, diags := loader(nil).LoadBytes([]byte(src), "config.hcl")
	if !diags.HasErrors() {
		t.Fatal("no error")
	}
	d := diags[0]
	// `  filter = "` is 12 characters, so the expression starts at column 13;
	// conector is its 24th character.
	if want := 13 + 24 - 1; d.Subject.Start.Column != want {
		t.Fatalf("column %d, want %d (%s)", d.Subject.Start.Column, want, d.Error())
	}
}

func TestValidConfigCompiles(t *testing.T) {
	cfg := mustLoad(t, base+`
gateway {
  admin_listen = "0.0.0.0:8081"
  admin_token  = env("ADMIN", "t0ken")
}
destination "slow" {
  url             = "http://127.0.0.1:9000/slow"
  timeout         = "2s"
  max_concurrency = 4
  rate_limit      = "120/m"
  allow_private   = true
  headers         = { "X-Team" = "slow" }
  sign "standard_webhooks" { secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }
  retry {
    schedule = ["1s", "2s"]
    jitter   = "0%"
  }
}
route "tiktok" {
  source       = "ylytic"
  events       = ["creator_insights"]
  filter       = "connector == 'tiktok' && status == 'success' && (data == nil || data.followers > 1000)"
  transform    = "{creator: identifier, platform: connector}"
  destinations = ["tiktok_team", "slow"]
}
route "off" {
  sources      = ["ylytic"]
  enabled      = false
  destinations = ["tiktok_team"]
}
`)
	if cfg.Gateway.AdminToken.Reveal() != "t0ken" || cfg.Gateway.Listen != "127.0.0.1:8080" || cfg.Gateway.Workers != 64 || cfg.Gateway.MaxBody != 1<<20 {
		t.Errorf("gateway: %+v", cfg.Gateway)
	}
	if cfg.Storage.Kind != "embedded" || !strings.HasSuffix(cfg.Storage.Path, "data/hookgate.db") || cfg.Storage.Retention != 72*time.Hour {
		t.Errorf("storage: %+v", cfg.Storage)
	}
	d := cfg.Destination("slow")
	if d.Timeout != 2*time.Second || d.MaxConcurrency != 4 || d.RatePerSecond != 2 || !d.AllowPrivate || d.Headers.Get("X-Team") != "slow" || d.Signer == nil {
		t.Errorf("destination: %+v", d)
	}
	if len(d.Retry.Schedule) != 2 || d.Retry.Schedule[1] != 2*time.Second || d.Retry.Jitter != 0 {
		t.Errorf("retry: %+v", d.Retry)
	}
	def := cfg.Destination("tiktok_team")
	if def.Timeout != 10*time.Second || len(def.Retry.Schedule) != 5 || def.Retry.Schedule[4] != 4*time.Hour || def.Retry.Jitter != 0.1 || def.MaxConcurrency != 16 {
		t.Errorf("defaults: %+v", def)
	}
	r := cfg.Route("tiktok")
	if !r.Typed || r.Filter == nil || r.Transform == nil || len(r.Destinations) != 2 {
		t.Errorf("route: %+v", r)
	}
	src := cfg.Source("ylytic")
	if len(src.Routes) != 1 || src.Routes[0] != r {
		t.Errorf("the disabled route must not be among the source's routes: %v", src.Routes)
	}
	if cfg.SourceByPath("/in/ylytic") != src || len(cfg.Hash) != 64 {
		t.Error("source by path or hash")
	}
}

func TestUntypedRouteStaysDynamic(t *testing.T) {
	cfg := mustLoad(t, `
source "raw" {
  path = "/in/raw"
  verify "none" {}
}
destination "d" { url = "https://d.example.com" }
route "r" {
  source       = "raw"
  filter       = "anything.goes == 'here' || $headers['x-a'] == '1'"
  destinations = ["d"]
}
`)
	if cfg.Route("r").Typed {
		t.Fatal("a route over a source without schemas must be dynamically typed")
	}
}

func TestWarnings(t *testing.T) {
	_, diags := loader(nil).LoadBytes([]byte(`
source "raw" { path = "/in/raw" }
destination "unused" { url = "https://d.example.com" }
`), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var summaries []string
	for _, d := range diags {
		summaries = append(summaries, d.Summary)
	}
	got := strings.Join(summaries, "; ")
	if !strings.Contains(got, "Source accepts unsigned webhooks") || !strings.Contains(got, "Unused destination") {
		t.Fatalf("warnings: %s", got)
	}
}

func TestSecretsStayOutOfDiagnostics(t *testing.T) {
	const secretValue = "s3cr3t-never-print-me"
	_, diags := loader(map[string]string{"SECRET": secretValue}).LoadBytes([]byte(base+`
storage "redis" { url = env("SECRET") }
destination "d2" {
  url = "https://x.example.com"
  sign "standard_webhooks" { secret = "whsec_!!!${env("SECRET")}" }
}
`), "config.hcl")
	if !diags.HasErrors() {
		t.Fatal("expected errors")
	}
	if out := diagList(diags); strings.Contains(out, secretValue) {
		t.Fatalf("a diagnostic shows the secret:\n%s", out)
	}
}

// TestParseOTLPEndpoint: the endpoint forms the telemetry block takes.
func TestParseOTLPEndpoint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want config.OTLPEndpoint
	}{
		{"127.0.0.1:4317", config.OTLPEndpoint{GRPC: true, Target: "127.0.0.1:4317"}},
		{"grpc://jaeger:4317", config.OTLPEndpoint{GRPC: true, Target: "jaeger:4317"}},
		{"grpcs://otel.example.com:443", config.OTLPEndpoint{GRPC: true, TLS: true, Target: "otel.example.com:443"}},
		{"http://127.0.0.1:4318", config.OTLPEndpoint{Target: "http://127.0.0.1:4318/v1/traces"}},
		{"https://otel.example.com/custom/path", config.OTLPEndpoint{TLS: true, Target: "https://otel.example.com/custom/path"}},
	} {
		got, err := config.ParseOTLPEndpoint(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseOTLPEndpoint(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"jaeger", "grpc://", "127.0.0.1:4317/v1", "http://", "udp://127.0.0.1:6831"} {
		if _, err := config.ParseOTLPEndpoint(bad); err == nil {
			t.Errorf("ParseOTLPEndpoint(%q) accepted it", bad)
		}
	}
}

// TestDestinationURLFromEnvIsSecret: a URL given through env() or file()
// may be its own credential (Slack-style): it is marked, shown without its
// path, and a diagnostic about it does not print it; a literal URL is not.
func TestDestinationURLFromEnvIsSecret(t *testing.T) {
	const token = "T0/B0/s3cr3tP4th"
	src := base + `
destination "alerts" {
  url = env("ALERTS_URL")
}
destination "audit" {
  url = "https://audit.example.com/${env("AUDIT_PATH", "in")}"
}
`
	cfg, diags := loader(map[string]string{"ALERTS_URL": "https://hooks.slack.com/services/" + token}).LoadBytes([]byte(src), "config.hcl")
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	for _, c := range []struct {
		name   string
		secret bool
		shown  string
	}{
		{"alerts", true, "https://hooks.slack.com/[redacted]"},
		{"audit", true, "https://audit.example.com/[redacted]"},
		{"tiktok_team", false, "https://tiktok.example.com/hooks"},
	} {
		d := cfg.Destination(c.name)
		if d == nil {
			t.Fatalf("no destination %s", c.name)
		}
		if d.URLSecret != c.secret || d.ShownURL() != c.shown {
			t.Errorf("%s: URLSecret %t, ShownURL %q; want %t, %q", c.name, d.URLSecret, d.ShownURL(), c.secret, c.shown)
		}
	}

	_, diags = loader(map[string]string{"ALERTS_URL": "hooks.slack.com/services/" + token}).LoadBytes([]byte(src), "config.hcl")
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Invalid url") {
		t.Fatalf("a relative URL from env loaded: %v", diags)
	}
	if strings.Contains(diags.Error(), token) {
		t.Errorf("the diagnostic shows the secret URL: %s", diags.Error())
	}
}

// TestHeaderDiagnosticsPointAtTheEntry: a bad header name or value is
// reported at that entry of the map (the key for a name, the value for a
// value), and a value, which may be a credential, is never shown.
func TestHeaderDiagnosticsPointAtTheEntry(t *testing.T) {
	const tokenValue = "t0ken-never-print-me"
	src := base + "destination \"d2\" {\n  url = \"https://x.example.com\"\n  headers = {\n    \"X-Ok\" = \"fine\"\n    \"Authorization\" = \"Bearer ${env(\"TOKEN\")}\\r\\nX-Injected: 1\"\n    \"Bad Name\" = \"v\"\n  }\n}\n"
	_, diags := loader(map[string]string{"TOKEN": tokenValue}).LoadBytes([]byte(src), "config.hcl")
	want := map[string]hcl.Pos{
		"Invalid header value": {Line: baseLines + 5, Column: 23},
		"Invalid header name":  {Line: baseLines + 6, Column: 5},
	}
	for _, d := range diags {
		pos, ok := want[d.Summary]
		if !ok {
			continue
		}
		delete(want, d.Summary)
		if d.Subject == nil || d.Subject.Start.Line != pos.Line || d.Subject.Start.Column != pos.Column {
			t.Errorf("%s at %v, want %d:%d", d.Summary, d.Subject, pos.Line, pos.Column)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing diagnostics %v; got:\n%s", want, diagList(diags))
	}
	if out := diagList(diags); strings.Contains(out, tokenValue) {
		t.Errorf("a diagnostic shows the header's value:\n%s", out)
	}
}

// TestRetryDelayCap: the longest delay a schedule may hold loads; one beyond
// it is refused at its own element.
func TestRetryDelayCap(t *testing.T) {
	cfg := mustLoad(t, base+`
destination "d2" {
  url = "https://x.example.com"
  retry { schedule = ["1m", "168h"] }
}
`)
	if got := cfg.Destination("d2").Retry.Schedule[1]; got != config.MaxRetryDelay {
		t.Errorf("schedule[1] = %s, want %s", got, config.MaxRetryDelay)
	}
	_, diags := loader(nil).LoadBytes([]byte(base+`
destination "d2" {
  url = "https://x.example.com"
  retry { schedule = ["1m", "168h1s"] }
}
`), "config.hcl")
	if !diags.HasErrors() {
		t.Fatal("a delay beyond the cap loaded")
	}
	d := diags[0]
	// `  retry { schedule = ["1m", ` is 28 characters.
	if d.Summary != "Invalid schedule" || d.Subject == nil || d.Subject.Start.Column != 29 || d.Subject.End.Column != 37 {
		t.Errorf("diagnostic %s at %v, want Invalid schedule at columns 29-37", d.Error(), d.Subject)
	}
}

// TestOTLPEndpointCredentialsStayOutOfDiagnostics: a refused otlp_endpoint
// is shown without its user info and query values.
func TestOTLPEndpointCredentialsStayOutOfDiagnostics(t *testing.T) {
	for _, ep := range []string{
		"ftp://user:pa55word@otel.example.com:4318/v1/traces?token=t0k3n",
		"grpc://user:pa55word@otel.example.com:4317",
		"https://user:pa55word@%zz:4318?token=t0k3n",
		"user:pa55word@otel.example.com://x?token=t0k3n",
		"pa55word@otel.example.com",
	} {
		t.Run(ep, func(t *testing.T) {
			_, diags := loader(nil).LoadBytes([]byte(base+"telemetry {\n  otlp_endpoint = \""+ep+"\"\n}\n"), "config.hcl")
			if !diags.HasErrors() {
				t.Fatal("loaded")
			}
			out := diagList(diags)
			if !strings.Contains(out, "Invalid otlp_endpoint") {
				t.Fatalf("no Invalid otlp_endpoint diagnostic:\n%s", out)
			}
			for _, s := range []string{"pa55word", "t0k3n"} {
				if strings.Contains(out, s) {
					t.Errorf("a diagnostic shows %q:\n%s", s, out)
				}
			}
		})
	}
}

// TestConfigSizeCap: a file larger than MaxConfigSize is refused before it
// is parsed.
func TestConfigSizeCap(t *testing.T) {
	src := base + "# " + strings.Repeat("x", config.MaxConfigSize) + "\n"
	cfg, diags := loader(nil).LoadBytes([]byte(src), "config.hcl")
	if cfg != nil || !diags.HasErrors() || diags[0].Summary != "Config file too large" {
		t.Fatalf("loaded %v; diagnostics:\n%s", cfg != nil, diagList(diags))
	}
}
