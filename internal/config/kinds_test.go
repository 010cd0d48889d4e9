package config_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDestinationKindsLoad: each kind block of SPEC's example loads, with
// its target known and no secret in it.
func TestDestinationKindsLoad(t *testing.T) {
	src := `
destination "events_bus" {
  nats {
    url     = "nats://127.0.0.1:4222"
    subject = "creator.events"
  }
}
destination "warehouse_topic" {
  kafka {
    brokers = ["127.0.0.1:9092"]
    topic   = "creator-events"
    key     = "identifier"
  }
}
destination "crm_queue" {
  rabbitmq {
    url         = env("AMQP_URL")
    exchange    = "creator"
    routing_key = "events"
  }
}
destination "audit_stream" {
  redis_stream {
    url    = env("AUDIT_REDIS_URL")
    stream = "hookgate:audit"
    maxlen = 1000000
  }
}
`
	cfg, diags := loader(map[string]string{
		"AMQP_URL":        "amqp://hook:s3cr3t-amqp@127.0.0.1:5672/vh",
		"AUDIT_REDIS_URL": "redis://:s3cr3t-redis@127.0.0.1:6379/2",
	}).LoadBytes([]byte(src), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	want := map[string]string{
		"events_bus":      "nats nats://127.0.0.1:4222 creator.events",
		"warehouse_topic": "kafka 127.0.0.1:9092 creator-events",
		"crm_queue":       "rabbitmq amqp://redacted@127.0.0.1:5672/vh creator events",
		"audit_stream":    "redis_stream redis://redacted@127.0.0.1:6379/2 hookgate:audit",
	}
	for name, shown := range want {
		d := cfg.Destination(name)
		if d.Deliverer == nil || d.KindKey == "" {
			t.Errorf("%s: no deliverer", name)
			continue
		}
		if got := d.Shown(); got != shown {
			t.Errorf("%s shown as %q, want %q", name, got, shown)
		}
		if strings.Contains(d.Shown(), "s3cr3t") || strings.Contains(d.Target.Server, "s3cr3t") {
			t.Errorf("%s shows its password", name)
		}
	}
	if k := cfg.Destination("warehouse_topic").Key; k == nil || k.Source() != "identifier" {
		t.Errorf("kafka key = %v, want the expression identifier", k)
	}
	// The same settings give the same key: a reload keeps the connection.
	again, _ := loader(map[string]string{
		"AMQP_URL":        "amqp://hook:s3cr3t-amqp@127.0.0.1:5672/vh",
		"AUDIT_REDIS_URL": "redis://:other@127.0.0.1:6379/2",
	}).LoadBytes([]byte(src), "config.hcl")
	if again.Destination("crm_queue").KindKey != cfg.Destination("crm_queue").KindKey {
		t.Error("the same rabbitmq settings gave another key")
	}
	if again.Destination("audit_stream").KindKey == cfg.Destination("audit_stream").KindKey {
		t.Error("another redis password gave the same key")
	}
}

// TestDestinationKindDiagnostics: a destination with both url and a kind,
// neither, two kinds, a missing subject or topic, or a bad broker URL is
// refused at the right place, without showing a password.
func TestDestinationKindDiagnostics(t *testing.T) {
	cases := []struct {
		name, body, want string
		line             int
	}{
		{"both", `  url = "https://x.example.com/h"
  nats {
    url     = "nats://127.0.0.1:4222"
    subject = "s"
  }`, "Both url and a kind block", 3},
		{"neither", `  timeout = "5s"`, "Destination without url", 1},
		{"two kinds", `  nats {
    url     = "nats://127.0.0.1:4222"
    subject = "s"
  }
  redis_stream {
    url    = "redis://127.0.0.1:6379"
    stream = "s"
  }`, "More than one kind block", 6},
		{"missing subject", `  nats {
    url = "nats://127.0.0.1:4222"
  }`, `Missing required argument`, 2},
		{"missing topic", `  kafka {
    brokers = ["127.0.0.1:9092"]
  }`, `Missing required argument`, 2},
		{"bad nats scheme", `  nats {
    url     = "http://user:pw-secret@127.0.0.1:4222"
    subject = "s"
  }`, `Invalid nats destination; The URL's scheme must be "nats" or "tls", not "http"`, 3},
		{"bad redis url", `  redis_stream {
    url    = "127.0.0.1:6379"
    stream = "s"
  }`, "Invalid redis_stream destination; The value given is not an absolute URL", 3},
		{"wildcard subject", `  nats {
    url     = "nats://127.0.0.1:4222"
    subject = "events.>"
  }`, "not a subject to publish to", 4},
		{"bad kafka key", `  kafka {
    brokers = ["127.0.0.1:9092"]
    topic   = "t"
    key     = "identifier +"
  }`, "Invalid key", 5},
		{"bad broker", `  kafka {
    brokers = ["kafka://127.0.0.1:9092"]
    topic   = "t"
  }`, "not a broker address", 3},
		{"empty routing key", `  rabbitmq {
    url         = "amqp://127.0.0.1:5672/"
    routing_key = ""
  }`, "must not be empty", 4},
		{"unknown attribute", `  nats {
    url     = "nats://127.0.0.1:4222"
    subject = "s"
    topic   = "t"
  }`, "Unsupported argument", 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "destination \"d\" {\n" + c.body + "\n}\n"
			_, diags := loader(nil).LoadBytes([]byte(src), "config.hcl")
			if !diags.HasErrors() {
				t.Fatal("loaded")
			}
			msg := diags.Error()
			if !strings.Contains(msg, c.want) {
				t.Fatalf("diagnostics %q do not say %q", msg, c.want)
			}
			if !strings.Contains(msg, "config.hcl:"+strconv.Itoa(c.line)+",") {
				t.Errorf("diagnostics %q are not at line %d", msg, c.line)
			}
			if strings.Contains(msg, "pw-secret") {
				t.Errorf("diagnostics show the password: %q", msg)
			}
		})
	}
}

// TestDestinationsDocLoads: every config of docs/destinations.md loads
// (env() names given broker URLs), so the configs to copy cannot rot.
func TestDestinationsDocLoads(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "destinations.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```hcl\n(.*?)```").FindAllStringSubmatch(string(raw), -1)
	if len(blocks) < 5 {
		t.Fatalf("found %d configs in docs/destinations.md", len(blocks))
	}
	env := map[string]string{
		"NATS_URL":        "nats://127.0.0.1:4222",
		"AMQP_URL":        "amqp://user:pass@127.0.0.1:5672/vh",
		"AUDIT_REDIS_URL": "redis://:pass@127.0.0.1:6379/0",
	}
	for _, b := range blocks {
		if _, diags := loader(env).LoadBytes([]byte(b[1]), "destinations.md"); diags.HasErrors() {
			t.Errorf("this config of docs/destinations.md does not load: %s\n%s", diags.Error(), b[1])
		}
	}
}

// TestKafkaKeyTypeChecked: a key expression is type-checked like a filter
// against the schemas of the events a typed route sends as received; a
// route with a transform (whose body has no schema) is not held to them.
func TestKafkaKeyTypeChecked(t *testing.T) {
	dest := func(key string) string {
		return `
destination "topic" {
  kafka {
    brokers = ["127.0.0.1:9092"]
    topic   = "creator-events"
    key     = "` + key + `"
  }
}
`
	}
	route := `
route "r" {
  source       = "ylytic"
  destinations = ["topic"]
}
`
	if _, diags := loader(nil).LoadBytes([]byte(base+dest("identifier")+route), "config.hcl"); diags.HasErrors() {
		t.Fatalf("a key over a declared field: %s", diags.Error())
	}
	_, diags := loader(nil).LoadBytes([]byte(base+dest("identifer")+route), "config.hcl")
	msg := diags.Error()
	if !diags.HasErrors() || !strings.Contains(msg, `Invalid key`) || !strings.Contains(msg, `"identifier"`) ||
		!strings.Contains(msg, "config.hcl:"+strconv.Itoa(baseLines+6)+",") || !strings.Contains(msg, `route "r"`) {
		t.Fatalf("a misspelt field in the key: %s", msg)
	}
	if _, diags := loader(nil).LoadBytes([]byte(base+dest("data")+route), "config.hcl"); !diags.HasErrors() {
		t.Fatal("an object as the key loaded")
	}
	transformed := strings.Replace(route, `destinations`, `transform    = "{creator: identifier}"
  destinations`, 1)
	if _, diags := loader(nil).LoadBytes([]byte(base+dest("creator")+transformed), "config.hcl"); diags.HasErrors() {
		t.Fatalf("a key over a transformed body: %s", diags.Error())
	}
}

// TestNATSClusterURL: several comma-separated server URLs load, each is
// checked, and the password of any never shows.
func TestNATSClusterURL(t *testing.T) {
	src := func(url string) string {
		return `destination "d" {
  nats {
    url     = "` + url + `"
    subject = "s"
  }
}
`
	}
	cfg, diags := loader(nil).LoadBytes([]byte(src("nats://a:pw-one@127.0.0.1:4222, nats://a:pw-two@127.0.0.1:4223")), "config.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if shown := cfg.Destination("d").Shown(); strings.Contains(shown, "pw-") || shown != "nats nats://redacted@127.0.0.1:4222 s" {
		t.Errorf("shown as %q", shown)
	}
	_, diags = loader(nil).LoadBytes([]byte(src("nats://127.0.0.1:4222,http://b:pw-three@127.0.0.1:80")), "config.hcl")
	if !diags.HasErrors() || strings.Contains(diags.Error(), "pw-three") {
		t.Errorf("a second URL of the wrong scheme: %v", diags)
	}
}
