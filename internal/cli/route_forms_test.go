package cli

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

const routeProvidersCfg = `
source "twilio" {
  path = "/in/twilio"
  verify "twilio" {
    secret = "twilio-token"
    url    = "https://hooks.example.com/in/twilio"
  }
}
source "slack" {
  path = "/in/slack"
  verify "slack" {
    secret = "slack-secret"
  }
}
destination "d" { url = "https://d.example.com/hooks" }
route "r" {
  sources      = ["twilio", "slack"]
  destinations = ["d"]
}
`

// `hookgate route` takes what `send` takes for a source that posts forms
// (its fields as a JSON object; or the form itself) and reports the JSON
// event ingest would store; for Slack it reports the url_verification
// answer.
func TestRouteFormsAndChallenges(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config.hcl", routeProvidersCfg)
	m := hmac.New(sha1.New, []byte("twilio-token"))
	m.Write([]byte("https://hooks.example.com/in/twilio" + "Bodyhi there" + "MessageSidSM1"))
	sig := base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, file := range []string{`{"MessageSid": "SM1", "Body": "hi there"}`, `MessageSid=SM1&Body=hi+there`} {
		path := writeFile(t, dir, "twilio.txt", file)
		code, out, errOut := run(t, "", "route", "-config", cfg, "-source", "twilio", "-H", "X-Twilio-Signature: "+sig, path)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", file, code, errOut)
		}
		var rep struct {
			Status int
			Verify struct{ OK bool }
			Routes []struct {
				Destinations []struct {
					Body json.RawMessage `json:"body"`
				} `json:"destinations"`
			}
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%s: %v\n%s", file, err, out)
		}
		if rep.Status != 202 || !rep.Verify.OK || len(rep.Routes) != 1 || len(rep.Routes[0].Destinations) != 1 {
			t.Fatalf("%s: %s", file, out)
		}
		var body map[string]any
		if err := json.Unmarshal(rep.Routes[0].Destinations[0].Body, &body); err != nil || body["Body"] != "hi there" || body["MessageSid"] != "SM1" {
			t.Errorf("%s: delivered %s, want the fields as JSON", file, rep.Routes[0].Destinations[0].Body)
		}
	}

	challenge := `{"type":"url_verification","challenge":"c-123"}`
	path := writeFile(t, dir, "slack.json", challenge)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte("slack-secret"))
	mac.Write([]byte("v0:" + ts + ":" + challenge))
	code, out, errOut := run(t, "", "route", "-config", cfg, "-source", "slack",
		"-H", "X-Slack-Request-Timestamp: "+ts, "-H", "X-Slack-Signature: v0="+hex.EncodeToString(mac.Sum(nil)), "-timestamp", ts, path)
	if code != 0 || !strings.Contains(out, `"status": 200`) || !strings.Contains(out, `c-123`) {
		t.Errorf("slack url_verification: exit %d: %s %s", code, out, errOut)
	}
}
