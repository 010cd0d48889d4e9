package cli

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/plan"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"
)

const (
	ylyticConfig = "../../examples/ylytic/config.hcl"
	ylyticNew    = "testdata/plan/ylytic_new.hcl"
)

// ylyticEvents writes the Ylytic example's JSON events as `hookgate events
// export` would (fixed ids and times, newest first) and returns the file.
func ylyticEvents(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob("../../examples/ylytic/events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatal("no example events", err)
	}
	var lines []string
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		ev := plan.Event{ID: "evt_" + name, Source: "ylytic", ReceivedAt: at.Add(time.Duration(i) * time.Minute),
			Headers: map[string]string{"content-type": "application/json"}, Body: compact(t, body)}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		lines = append([]string{string(b)}, lines...)
	}
	path := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func compact(t *testing.T, b []byte) json.RawMessage {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return out
}

// TestPlanGolden: the Ylytic example's events under a new config that adds
// a route, removes one, changes a transform and tightens a schema; and the
// exit codes: 0 unchanged, 2 changed, 1 on an error, 2 for usage.
func TestPlanGolden(t *testing.T) {
	events := ylyticEvents(t)
	bad := filepath.Join(t.TempDir(), "bad.ndjson")
	os.WriteFile(bad, []byte(`{"id":"evt_1","source":"ylytic","body":{}}`+"\n{not json\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"changes", []string{"plan", "-config", ylyticNew, "-against", ylyticConfig, "-events", events}, 2},
		{"changes_json", []string{"plan", "-config", ylyticNew, "-against", ylyticConfig, "-events", events, "-json"}, 2},
		{"unchanged", []string{"plan", "-config", ylyticConfig, "-against", ylyticConfig, "-events", events}, 0},
		{"broken_new", []string{"plan", "-config", "testdata/broken.hcl", "-against", ylyticConfig, "-events", events}, 1},
		{"bad_events", []string{"plan", "-config", ylyticNew, "-against", ylyticConfig, "-events", bad}, 1},
		{"usage", []string{"plan", "-config", ylyticNew}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			got := out
			if errOut != "" {
				got += "--- stderr\n" + strings.ReplaceAll(errOut, filepath.Dir(bad), "TMP")
			}
			golden(t, filepath.Join("plan", tt.name), got)
		})
	}
}

// TestPlanSince reads the events from a running admin API (-since), with
// the default -against from $HOOKGATE_CONFIG.
func TestPlanSince(t *testing.T) {
	now := time.Now()
	l := &config.Loader{LookupEnv: func(string) (string, bool) { return "", false }}
	cfg, diags := l.Load(ylyticConfig)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	t.Cleanup(func() { cfg.Close() })
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for i, name := range []string{"creator_insights_tiktok", "campaign_insights", "creator_insights_1p_success"} {
		body, err := os.ReadFile("../../examples/ylytic/events/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		at := now.Add(time.Duration(i-10) * time.Minute)
		ev := &store.Event{ID: fixedID("evt", at, uint64(i)), Source: "ylytic", ReceivedAt: at, Body: body}
		if _, err := st.Accept(context.Background(), ev, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// One from long ago, which -since leaves out.
	old := now.Add(-48 * time.Hour)
	if _, err := st.Accept(context.Background(), &store.Event{ID: fixedID("evt", old, 9), Source: "ylytic", ReceivedAt: old,
		Body: []byte(`{"type":"campaign_insights","campaign_id":"c","campaign_name":"n","brand_name":"Old"}`)}, nil, nil); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&admin.Server{Current: func() *config.Config { return cfg }, Store: st}).Handler())
	t.Cleanup(srv.Close)

	var out, errb strings.Builder
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, LookupEnv: func(k string) (string, bool) {
		if k == "HOOKGATE_CONFIG" {
			return ylyticConfig, true
		}
		return "", false
	}}
	code := Main(context.Background(), []string{"plan", "-config", ylyticNew, "-since", "1h", "-admin", srv.URL, "-json"}, env)
	if code != 2 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	var rep plan.Report
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Events != 3 || rep.Unchanged != 1 || rep.Changed != 1 || rep.Bodies != 1 || rep.Rejected != 1 {
		t.Errorf("report %+v", rep)
	}
	if len(rep.Rejections) != 1 || rep.Rejections[0].Fields[0].Path != "brand_name" {
		t.Errorf("rejections %+v", rep.Rejections)
	}

	// A gateway that is not there is an error (1), not "no changes".
	code = Main(context.Background(), []string{"plan", "-config", ylyticNew, "-since", "1h", "-admin", "http://127.0.0.1:1"}, env)
	if code != 1 {
		t.Errorf("without a gateway: exit %d", code)
	}
}
