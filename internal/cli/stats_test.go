package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/api"
)

func TestStatsCommand(t *testing.T) {
	f := newAdminFixture(t)
	auth := []string{"-admin", f.url, "-token", testAdminToken}

	code, out, errOut := runAdmin(t, nil, append([]string{"stats", "-since", "1h"}, auth...)...)
	if code != 0 {
		t.Fatalf("stats: exit %d, stderr:\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("stats: want a header, two rows and the window:\n%s", out)
	}
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "DESTINATION DELIVERED RETRYING DEAD SUCCESS MEAN P99 RETRIES" {
		t.Errorf("header = %q", lines[0])
	}
	// billing: one dead delivery, one failed first attempt of 42ms.
	if got := strings.Join(strings.Fields(lines[1]), " "); got != "billing 0 0 1 0.0% 42ms 42ms 0" {
		t.Errorf("billing row = %q", got)
	}
	// orders: two pending deliveries, no attempts.
	if got := strings.Join(strings.Fields(lines[2]), " "); got != "orders 0 0 0 - - - 0" {
		t.Errorf("orders row = %q", got)
	}
	if !strings.HasPrefix(lines[3], "attempts since ") {
		t.Errorf("window line = %q", lines[3])
	}

	code, out, errOut = runAdmin(t, nil, append([]string{"stats", "-json"}, auth...)...)
	var ans api.Stats
	if code != 0 || json.Unmarshal([]byte(out), &ans) != nil || len(ans.Destinations) != 2 || ans.Since.IsZero() {
		t.Fatalf("stats -json: exit %d, stderr %q:\n%s", code, errOut, out)
	}
	if b := ans.Destinations[0]; b.Destination != "billing" || b.Dead != 1 || b.Attempts != 1 || b.MeanMS != 42 || b.P99MS != 42 {
		t.Errorf("stats -json billing = %+v", b)
	}

	code, _, errOut = runAdmin(t, nil, append([]string{"stats", "-since", "soon"}, auth...)...)
	if code != 1 || !strings.Contains(errOut, "hookgate stats: 400 Bad Request: since must be") {
		t.Errorf("bad -since: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runAdmin(t, nil, "stats", "-admin", f.url, "-token", "wrong")
	if code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("wrong token: exit %d, stderr %q", code, errOut)
	}
}
