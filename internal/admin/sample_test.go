package admin

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/rules"
)

func TestSampleValue(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		field *rules.Field
		want  string
	}{
		{"string", &rules.Field{Name: "handle", Type: rules.TypeString}, `"sample-handle"`},
		{"enum", &rules.Field{Name: "c", Type: rules.TypeString, Enum: []any{"tiktok", "youtube"}}, `"tiktok"`},
		{"number enum", &rules.Field{Name: "v", Type: rules.TypeNumber, Enum: []any{2.0, 3.0}}, `2`},
		{"number", &rules.Field{Name: "n", Type: rules.TypeNumber}, `1.5`},
		{"integer", &rules.Field{Name: "n", Type: rules.TypeInteger}, `1`},
		{"boolean", &rules.Field{Name: "b", Type: rules.TypeBoolean}, `true`},
		{"timestamp", &rules.Field{Name: "at", Type: rules.TypeTimestamp}, `"2026-03-01T12:00:00Z"`},
		{"any", &rules.Field{Name: "x", Type: rules.TypeAny}, `"sample"`},
		{"empty object", &rules.Field{Name: "o", Type: rules.TypeObject}, `{}`},
		{"nested object", &rules.Field{Name: "data", Type: rules.TypeObject, Fields: []*rules.Field{
			{Name: "id", Type: rules.TypeString},
			{Name: "deep", Type: rules.TypeObject, Fields: []*rules.Field{{Name: "ok", Type: rules.TypeBoolean}}},
		}}, `{"deep":{"ok":true},"id":"sample-id"}`},
		{"array of objects", &rules.Field{Name: "items", Type: rules.TypeArray, Fields: []*rules.Field{{Name: "sku", Type: rules.TypeString}}}, `[{"sku":"sample-sku"}]`},
		{"array enum", &rules.Field{Name: "tags", Type: rules.TypeArray, Enum: []any{"a", "b"}}, `["a"]`},
		{"bare array", &rules.Field{Name: "xs", Type: rules.TypeArray}, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(sampleValue(tt.field, now))
			if err != nil || string(got) != tt.want {
				t.Errorf("got %s (%v), want %s", got, err, tt.want)
			}
		})
	}
}

// TestSampleValidates: a sample conforms to its schema, optional and
// nested fields included.
func TestSampleValidates(t *testing.T) {
	sch := &rules.Schema{Name: "s", Fields: []*rules.Field{
		{Name: "type", Type: rules.TypeString, Enum: []any{"creator_insights"}},
		{Name: "status", Type: rules.TypeString, Enum: []any{"success", "failed"}},
		{Name: "reason", Type: rules.TypeString, Optional: true, Enum: []any{"Private Account"}},
		{Name: "count", Type: rules.TypeInteger},
		{Name: "at", Type: rules.TypeTimestamp},
		{Name: "data", Type: rules.TypeObject, Fields: []*rules.Field{{Name: "id", Type: rules.TypeString}}},
		{Name: "items", Type: rules.TypeArray, Fields: []*rules.Field{{Name: "n", Type: rules.TypeNumber}}},
	}}
	payload, body, err := sampleBody(samplePlan{Schema: sch, EventType: "creator_insights"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if p := sch.Validate(payload); len(p) != 0 {
		t.Errorf("sample %s has problems: %v", body, p)
	}
}

// TestSampleGeneric: without a schema the sample is a small generic event.
func TestSampleGeneric(t *testing.T) {
	_, body, err := sampleBody(samplePlan{}, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	want := `{"message":"a test event sent by hookgate","sent_at":"2026-03-01T00:00:00Z","type":"hookgate.test"}`
	if err != nil || string(body) != want {
		t.Errorf("got %s %v, want %s", body, err, want)
	}
}

func TestTraceID(t *testing.T) {
	for tp, want := range map[string]string{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01": "4bf92f3577b34da6a3ce929d0e0e4736",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01": "",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01": "",
		"garbage": "",
		"":        "",
	} {
		if got := api.TraceID(tp); got != want {
			t.Errorf("api.TraceID(%q) = %q, want %q", tp, got, want)
		}
	}
	if got := api.TraceID(newTraceParent()); len(got) != 32 {
		t.Errorf("newTraceParent has no trace id: %q", got)
	}
}
