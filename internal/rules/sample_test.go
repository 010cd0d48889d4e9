package rules

import (
	"encoding/json"
	"testing"
	"time"
)

func TestSampleValue(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		field *Field
		want  string
	}{
		{"string", &Field{Name: "handle", Type: TypeString}, `"sample-handle"`},
		{"enum", &Field{Name: "c", Type: TypeString, Enum: []any{"tiktok", "youtube"}}, `"tiktok"`},
		{"number enum", &Field{Name: "v", Type: TypeNumber, Enum: []any{2.0, 3.0}}, `2`},
		{"number", &Field{Name: "n", Type: TypeNumber}, `1.5`},
		{"integer", &Field{Name: "n", Type: TypeInteger}, `1`},
		{"boolean", &Field{Name: "b", Type: TypeBoolean}, `true`},
		{"timestamp", &Field{Name: "at", Type: TypeTimestamp}, `"2026-03-01T12:00:00Z"`},
		{"any", &Field{Name: "x", Type: TypeAny}, `"sample"`},
		{"empty object", &Field{Name: "o", Type: TypeObject}, `{}`},
		{"nested object", &Field{Name: "data", Type: TypeObject, Fields: []*Field{
			{Name: "id", Type: TypeString},
			{Name: "deep", Type: TypeObject, Fields: []*Field{{Name: "ok", Type: TypeBoolean}}},
		}}, `{"deep":{"ok":true},"id":"sample-id"}`},
		{"array of objects", &Field{Name: "items", Type: TypeArray, Fields: []*Field{{Name: "sku", Type: TypeString}}}, `[{"sku":"sample-sku"}]`},
		{"array enum", &Field{Name: "tags", Type: TypeArray, Enum: []any{"a", "b"}}, `["a"]`},
		{"bare array", &Field{Name: "xs", Type: TypeArray}, `[]`},
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

// sampleSchema has optional, nested and enum fields.
var sampleSchema = &Schema{Name: "s", Fields: []*Field{
	{Name: "type", Type: TypeString, Enum: []any{"creator_insights"}},
	{Name: "status", Type: TypeString, Enum: []any{"success", "failed"}},
	{Name: "connector", Type: TypeString, Enum: []any{"tiktok", "youtube", "instagram"}},
	{Name: "reason", Type: TypeString, Optional: true, Enum: []any{"Private Account"}},
	{Name: "count", Type: TypeInteger},
	{Name: "at", Type: TypeTimestamp},
	{Name: "data", Type: TypeObject, Fields: []*Field{{Name: "id", Type: TypeString}}},
	{Name: "items", Type: TypeArray, Fields: []*Field{{Name: "n", Type: TypeNumber}}},
}}

// TestSampleValidates: a sample conforms to its schema, optional and
// nested fields included, whichever combination is accepted.
func TestSampleValidates(t *testing.T) {
	for _, accept := range []func(map[string]any) bool{
		nil,
		func(m map[string]any) bool { return m["connector"] == "instagram" && m["status"] == "failed" },
	} {
		payload := sampleSchema.Sample(time.Now(), accept)
		if p := sampleSchema.Validate(payload); len(p) != 0 {
			t.Errorf("sample %v has problems: %v", payload, p)
		}
	}
}

// TestSampleDials: the enum values of top-level fields are tried until
// accept takes a combination; when none is taken, the first is returned.
func TestSampleDials(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	first := sampleSchema.Sample(now, nil)
	if first["status"] != "success" || first["connector"] != "tiktok" {
		t.Errorf("first sample = %v, want every first enum value", first)
	}
	tries := 0
	got := sampleSchema.Sample(now, func(m map[string]any) bool {
		tries++
		return m["connector"] == "instagram" && m["status"] == "failed"
	})
	if got["connector"] != "instagram" || got["status"] != "failed" {
		t.Errorf("accepted sample = %v, want connector instagram, status failed", got)
	}
	if tries != 6 {
		t.Errorf("accept called %d times, want 6 (the last of 2×3 combinations)", tries)
	}
	tries = 0
	none := sampleSchema.Sample(now, func(map[string]any) bool { tries++; return false })
	if none["status"] != "success" || none["connector"] != "tiktok" || tries != 6 {
		t.Errorf("with nothing accepted: %v after %d tries, want the first combination after 6", none, tries)
	}
}
