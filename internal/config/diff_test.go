package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/config"
)

// TestDiff: what a reload reports as changed, block by block, from the
// running config to the new one.
func TestDiff(t *testing.T) {
	const route = "\nroute \"all\" {\n  source = \"ylytic\"\n  destinations = [\"tiktok_team\"]\n}\n"
	const pager = "\ndestination \"oncall\" {\n  url = \"https://chat.example.com/hooks\"\n}\nalert \"pager\" {\n  on = [\"dead\"]\n  destination = \"oncall\"\n}\n"
	cases := []struct {
		name     string
		old, new string
		want     []string
	}{
		{name: "same text", old: base + route, new: base + route, want: []string{"none"}},
		{name: "only outside blocks", old: base + route, new: "# a comment\n\n" + route + "\n\n" + base, want: []string{"none"}},
		{name: "route added", old: base, new: base + route, want: []string{"route all added"}},
		{name: "route removed", old: base + route, new: base, want: []string{"route all removed"}},
		{name: "route changed", old: base + route, new: base + strings.Replace(route, "]\n", ", \"tiktok_team\"]\n", 1), want: []string{"route all changed"}},
		{name: "a comment inside a block", old: base + route, new: base + strings.Replace(route, "{\n", "{\n  # who gets it\n", 1), want: []string{"route all changed"}},
		{name: "destination changed", old: base, new: strings.Replace(base, "tiktok.example.com", "tiktok.example.org", 1), want: []string{"destination tiktok_team changed"}},
		{name: "source renamed", old: base, new: strings.Replace(base, `source "ylytic"`, `source "ylytic2"`, 1), want: []string{"source ylytic2 added", "source ylytic removed"}},
		{name: "alert and its destination added", old: base, new: base + pager, want: []string{"destination oncall added", "alert pager added"}},
		{name: "alert removed, its destination kept", old: base + pager, new: base + pager[:strings.Index(pager, "alert")], want: []string{"alert pager removed"}},
		{name: "gateway added", old: base, new: base + "gateway {\n  workers = 4\n}\n", want: []string{"gateway changed"}},
		{name: "storage and telemetry", old: base + "storage \"embedded\" {\n  path = \"a.db\"\n}\n", new: base + "storage \"embedded\" {\n  path = \"b.db\"\n}\ntelemetry {\n  service_name = \"x\"\n}\n", want: []string{"storage changed", "telemetry changed"}},
		{name: "schema changed", old: base, new: strings.Replace(base, `"tiktok", "facebook"`, `"tiktok", "facebook", "x"`, 1), want: []string{"schema changed"}},
		{
			name: "in order: sources, destinations, routes, alerts, then the rest",
			old:  base + route,
			new:  "gateway {\n  workers = 4\n}\n" + strings.Replace(base, "tiktok.example.com", "tiktok.example.org", 1) + pager + "\nsource \"other\" {\n  path = \"/in/other\"\n}\n",
			want: []string{"source other added", "destination tiktok_team changed", "destination oncall added", "route all removed", "alert pager added", "gateway changed"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := config.Diff(mustLoad(t, tc.old), mustLoad(t, tc.new)); !slices.Equal(got, tc.want) {
				t.Errorf("Diff = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDiffWithoutText: a config built in code has no text to compare, so
// only additions and removals are told.
func TestDiffWithoutText(t *testing.T) {
	loaded := mustLoad(t, base)
	built := &config.Config{
		Sources:      []*config.Source{{Name: "ylytic"}},
		Destinations: []*config.Destination{{Name: "tiktok_team"}, {Name: "crm"}},
	}
	if got, want := config.Diff(loaded, built), []string{"destination crm added"}; !slices.Equal(got, want) {
		t.Errorf("Diff(loaded, built) = %q, want %q", got, want)
	}
	if got, want := config.Diff(built, loaded), []string{"destination crm removed"}; !slices.Equal(got, want) {
		t.Errorf("Diff(built, loaded) = %q, want %q", got, want)
	}
	changed := mustLoad(t, strings.Replace(base, "tiktok.example.com", "tiktok.example.org", 1))
	if got := config.Diff(&config.Config{Sources: built.Sources, Destinations: built.Destinations[:1]}, changed); !slices.Equal(got, []string{"none"}) {
		t.Errorf("Diff without the running text = %q, want none (a change cannot be seen)", got)
	}
}

// TestGatewayRange: the gateway block's header, for diagnostics about the
// block as a whole; nil without one.
func TestGatewayRange(t *testing.T) {
	if r := mustLoad(t, base).GatewayRange(); r != nil {
		t.Errorf("GatewayRange without a gateway block = %v, want nil", r)
	}
	r := mustLoad(t, base+"\ngateway {\n  workers = 4\n}\n").GatewayRange()
	if r == nil || r.Filename != "config.hcl" || r.Start.Line != baseLines+2 || r.Start.Column != 1 {
		t.Errorf("GatewayRange = %v, want config.hcl line %d col 1", r, baseLines+2)
	}
}
