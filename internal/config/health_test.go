package config_test

import (
	"strings"
	"testing"
	"time"
)

func TestBreakerAndAdaptiveCompile(t *testing.T) {
	cfg := mustLoad(t, base+`
destination "crm" {
  url = "https://crm.example.com/hooks"
  adaptive_concurrency = true
  breaker {
    failures = 3
    cooldown = "2s"
  }
}
destination "plain" {
  url = "https://plain.example.com/hooks"
  breaker {}
}
`)
	crm := cfg.Destination("crm")
	if !crm.AdaptiveConcurrency || crm.Breaker == nil || crm.Breaker.Failures != 3 || crm.Breaker.Cooldown != 2*time.Second {
		t.Errorf("crm: adaptive %v, breaker %+v; want true, {3 2s}", crm.AdaptiveConcurrency, crm.Breaker)
	}
	if b := cfg.Destination("plain").Breaker; b == nil || b.Failures != 20 || b.Cooldown != 30*time.Second {
		t.Errorf("an empty breaker block = %+v, want the defaults {20 30s}", b)
	}
	if d := cfg.Destination("tiktok_team"); d.Breaker != nil || d.AdaptiveConcurrency {
		t.Errorf("a destination without them: breaker %+v, adaptive %v; want none", d.Breaker, d.AdaptiveConcurrency)
	}
}

// TestBrokenHealthSettings: each mistake is a diagnostic at the value at
// fault (file:line:col).
func TestBrokenHealthSettings(t *testing.T) {
	cases := []struct {
		name, src, summary string
		line, col          int // of the addition
	}{
		{"zero failures", "destination \"d2\" {\n  url = \"https://x.example.com\"\n  breaker {\n    failures = 0\n  }\n}", "Invalid failures", 4, 16},
		{"zero cooldown", "destination \"d2\" {\n  url = \"https://x.example.com\"\n  breaker {\n    cooldown = \"0s\"\n  }\n}", "Invalid cooldown", 4, 16},
		{"long cooldown", "destination \"d2\" {\n  url = \"https://x.example.com\"\n  breaker {\n    cooldown = \"25h\"\n  }\n}", "Invalid cooldown", 4, 16},
		{"bad cooldown", "destination \"d2\" {\n  url = \"https://x.example.com\"\n  breaker {\n    cooldown = \"a while\"\n  }\n}", "Invalid cooldown", 4, 16},
		{"unknown breaker attribute", "destination \"d2\" {\n  url = \"https://x.example.com\"\n  breaker {\n    failure = 3\n  }\n}", "Unsupported argument", 4, 5},
		{"two breakers", "destination \"d2\" {\n  url = \"https://x.example.com\"\n  breaker {}\n  breaker {}\n}", "Duplicate breaker block", 4, 3},
		{"adaptive not a bool", "destination \"d2\" {\n  url = \"https://x.example.com\"\n  adaptive_concurrency = \"yes please\"\n}", "Invalid adaptive_concurrency", 3, 26},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := loader(nil).LoadBytes([]byte(base+tc.src), "config.hcl")
			if !diags.HasErrors() {
				t.Fatal("loaded")
			}
			d := diags[0]
			if d.Subject == nil {
				t.Fatalf("%s has no position", d.Error())
			}
			if d.Summary != tc.summary || d.Subject.Filename != "config.hcl" ||
				d.Subject.Start.Line != baseLines+tc.line || d.Subject.Start.Column != tc.col {
				t.Errorf("got %s at %s:%d:%d, want %q at line %d col %d of the addition",
					d.Summary, d.Subject.Filename, d.Subject.Start.Line-baseLines, d.Subject.Start.Column, tc.summary, tc.line, tc.col)
			}
		})
	}
}

func TestAlertCompiles(t *testing.T) {
	cfg := mustLoad(t, base+`
destination "oncall" {
  url = "https://chat.example.com/hooks"
}
alert "pager" {
  on          = ["dead", "verify_failures"]
  destination = "oncall"
  every       = "5m"
  threshold   = 3
}
`)
	if len(cfg.Alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(cfg.Alerts))
	}
	a := cfg.Alerts[0]
	if a.Name != "pager" || a.Destination != cfg.Destination("oncall") || a.Every != 5*time.Minute || a.Threshold != 3 ||
		!a.Watches("dead") || !a.Watches("verify_failures") || a.Watches("breaker_open") {
		t.Errorf("alert %+v", a)
	}
	_, diags := loader(nil).LoadBytes([]byte(base+`
destination "oncall" {
  url = "https://chat.example.com/hooks"
}
alert "pager" {
  on          = ["dead"]
  destination = "oncall"
}
`), "config.hcl")
	for _, d := range diags {
		if d.Summary == "Unused destination" && strings.Contains(d.Detail, "oncall") {
			t.Errorf("a destination only alerts go to is reported unused: %s", d.Error())
		}
	}
}

func TestBrokenAlerts(t *testing.T) {
	const dest = "destination \"oncall\" {\n  url = \"https://chat.example.com/hooks\"\n}\n"
	cases := []struct {
		name, src, summary, detail string
		line, col                  int // of the alert block (line 1 is its first)
	}{
		{"unknown kind", "alert \"a\" {\n  on = [\"dead\", \"breaker_opn\"]\n  destination = \"oncall\"\n}", "Unknown alert kind", `Did you mean "breaker_open"?`, 2, 17},
		{"unknown destination", "alert \"a\" {\n  on = [\"dead\"]\n  destination = \"oncal\"\n}", "Unknown destination", `Did you mean "oncall"?`, 3, 17},
		{"no kinds", "alert \"a\" {\n  on = []\n  destination = \"oncall\"\n}", "Alert without kinds", "", 2, 8},
		{"zero every", "alert \"a\" {\n  on = [\"dead\"]\n  destination = \"oncall\"\n  every = \"0s\"\n}", "Invalid every", "", 4, 11},
		{"missing destination", "alert \"a\" {\n  on = [\"dead\"]\n}", "Missing required argument", "destination", 1, 11},
		{"duplicate", "alert \"a\" {\n  on = [\"dead\"]\n  destination = \"oncall\"\n}\nalert \"a\" {\n  on = [\"dead\"]\n  destination = \"oncall\"\n}", `Duplicate alert "a"`, "", 5, 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := loader(nil).LoadBytes([]byte(base+dest+tc.src), "config.hcl")
			if !diags.HasErrors() {
				t.Fatal("loaded")
			}
			d := diags[0]
			if d.Subject == nil {
				t.Fatalf("%s has no position", d.Error())
			}
			first := baseLines + 3
			if d.Summary != tc.summary || !strings.Contains(d.Detail, tc.detail) ||
				d.Subject.Start.Line != first+tc.line || d.Subject.Start.Column != tc.col {
				t.Errorf("got %s (%s) at line %d col %d of the alert, want %q at %d:%d",
					d.Summary, d.Detail, d.Subject.Start.Line-first, d.Subject.Start.Column, tc.summary, tc.line, tc.col)
			}
		})
	}
}
