package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// creatorInsights is SPEC's schema "creator_insights" (Ylytic).
func creatorInsights() *Schema {
	return &Schema{Name: "creator_insights", Fields: []*Field{
		{Name: "type", Type: TypeString, Enum: []any{"creator_insights"}},
		{Name: "status", Type: TypeString, Enum: []any{"success", "failed"}},
		{Name: "status_reason", Type: TypeString, Optional: true,
			Enum: []any{"Restricted/Invalid Profile", "Private Account", "Invalid Handle"}},
		{Name: "identifier", Type: TypeString},
		{Name: "connector", Type: TypeString, Enum: []any{"instagram", "youtube", "tiktok", "facebook"}},
	}}
}

// creatorUpdated is an Influship event: nested object, timestamp, array.
func creatorUpdated() *Schema {
	return &Schema{Name: "creator.updated", Fields: []*Field{
		{Name: "event", Type: TypeString},
		{Name: "timestamp", Type: TypeTimestamp},
		{Name: "data", Type: TypeObject, Fields: []*Field{
			{Name: "creator_id", Type: TypeString},
			{Name: "platform", Type: TypeString, Enum: []any{"instagram", "youtube", "tiktok"}},
			{Name: "username", Type: TypeString},
			{Name: "updated_fields", Type: TypeArray},
		}},
	}}
}

// order exercises integers, arrays of objects, enums on array elements,
// open objects and any.
func order() *Schema {
	return &Schema{Name: "order", Fields: []*Field{
		{Name: "order_id", Type: TypeInteger},
		{Name: "total", Type: TypeNumber},
		{Name: "paid", Type: TypeBoolean},
		{Name: "items", Type: TypeArray, Fields: []*Field{
			{Name: "sku", Type: TypeString},
			{Name: "qty", Type: TypeInteger, Enum: []any{1.0, 2.0, 3.0}},
		}},
		{Name: "tags", Type: TypeArray, Optional: true, Enum: []any{"gift", "express"}},
		{Name: "meta", Type: TypeObject, Optional: true},
		{Name: "extra", Type: TypeAny},
	}}
}

// mustDecode decodes JSON the way ingest does.
func mustDecode(tb testing.TB, s string) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		tb.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// mustReadEvent decodes testdata/name.
func mustReadEvent(tb testing.TB, name string) map[string]any {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	m, ok := mustDecode(tb, string(b)).(map[string]any)
	if !ok {
		tb.Fatalf("%s: not an object", name)
	}
	return m
}

func TestParseType(t *testing.T) {
	for _, typ := range Types {
		got, ok := ParseType(string(typ))
		if !ok || got != typ {
			t.Errorf("ParseType(%q) = %q, %v", typ, got, ok)
		}
	}
	for _, s := range []string{"", "String", "int", "object "} {
		if got, ok := ParseType(s); ok {
			t.Errorf("ParseType(%q) = %q, true; want false", s, got)
		}
	}
	if len(Types) != 8 {
		t.Errorf("len(Types) = %d, want 8", len(Types))
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		schema  *Schema
		payload string
		want    []Problem
	}{
		{
			name:    "ylytic sample",
			schema:  creatorInsights(),
			payload: `{"type":"creator_insights","status":"success","identifier":"minimuffin8888","connector":"tiktok"}`,
		},
		{
			name:   "ylytic failed with reason and extra fields",
			schema: creatorInsights(),
			payload: `{"type":"creator_insights","status":"failed","status_reason":"Private Account",
				"identifier":"x","connector":"youtube","followers":12000,"profile":{"bio":"hi"}}`,
		},
		{
			name:    "optional null",
			schema:  creatorInsights(),
			payload: `{"type":"creator_insights","status":"success","status_reason":null,"identifier":"x","connector":"tiktok"}`,
		},
		{
			name:    "enum miss",
			schema:  creatorInsights(),
			payload: `{"type":"creator_insights","status":"success","identifier":"x","connector":"tiktk"}`,
			want: []Problem{
				{"connector", `must be one of "instagram", "youtube", "tiktok", "facebook", not "tiktk"`},
			},
		},
		{
			name:    "optional enum miss",
			schema:  creatorInsights(),
			payload: `{"type":"creator_insights","status":"failed","status_reason":"Gone","identifier":"x","connector":"tiktok"}`,
			want: []Problem{
				{"status_reason", `must be one of "Restricted/Invalid Profile", "Private Account", "Invalid Handle", not "Gone"`},
			},
		},
		{
			name:    "wrong types",
			schema:  creatorInsights(),
			payload: `{"type":"creator_insights","status":true,"identifier":{"id":1},"connector":3}`,
			want: []Problem{
				{"status", "must be a string, not a boolean"},
				{"identifier", "must be a string, not an object"},
				{"connector", "must be a string, not a number"},
			},
		},
		{
			name:    "required null and missing, in field order",
			schema:  creatorInsights(),
			payload: `{"connector":"tiktok","identifier":null}`,
			want: []Problem{
				{"type", "is required"},
				{"status", "is required"},
				{"identifier", "is required"},
			},
		},
		{
			name:    "not an object",
			schema:  creatorInsights(),
			payload: `[{"type":"creator_insights"}]`,
			want:    []Problem{{"", "must be an object, not an array"}},
		},
		{
			name:    "influship sample",
			schema:  creatorUpdated(),
			payload: `{"event":"creator.updated","timestamp":"2025-03-14T09:26:53.120+01:00","data":{"creator_id":"c1","platform":"tiktok","username":"u","updated_fields":["followers"]}}`,
		},
		{
			name:    "nested problems",
			schema:  creatorUpdated(),
			payload: `{"event":"creator.updated","timestamp":"yesterday","data":{"platform":"tiktk","username":7,"updated_fields":"followers"}}`,
			want: []Problem{
				{"timestamp", `must be an RFC 3339 timestamp, not "yesterday"`},
				{"data.creator_id", "is required"},
				{"data.platform", `must be one of "instagram", "youtube", "tiktok", not "tiktk"`},
				{"data.username", "must be a string, not a number"},
				{"data.updated_fields", "must be an array, not a string"},
			},
		},
		{
			name:    "nested object wrong type",
			schema:  creatorUpdated(),
			payload: `{"event":"creator.updated","timestamp":1710408413,"data":"c1"}`,
			want: []Problem{
				{"timestamp", "must be an RFC 3339 timestamp, not a number"},
				{"data", "must be an object, not a string"},
			},
		},
		{
			name:    "order sample",
			schema:  order(),
			payload: `{"order_id":1042,"total":19.99,"paid":false,"items":[{"sku":"a","qty":2}],"tags":["gift"],"meta":{"k":"v"},"extra":[1,"x"]}`,
		},
		{
			name:    "empty array and open object",
			schema:  order(),
			payload: `{"order_id":1e3,"total":0,"paid":true,"items":[],"meta":{},"extra":false}`,
		},
		{
			name:   "arrays and integers",
			schema: order(),
			payload: `{"order_id":"1042","total":"19.99","paid":"yes",
				"items":["a",{"sku":"b","qty":2.5},{"qty":4},{"sku":"d","qty":null}],
				"tags":["gift","slow"],"meta":[],"extra":null}`,
			want: []Problem{
				{"order_id", "must be an integer, not a string"},
				{"total", "must be a number, not a string"},
				{"paid", "must be a boolean, not a string"},
				{"items[0]", "must be an object, not a string"},
				{"items[1].qty", "must be an integer, not 2.5"},
				{"items[2].sku", "is required"},
				{"items[2].qty", "must be one of 1, 2, 3, not 4"},
				{"items[3].qty", "is required"},
				{"tags[1]", `must be one of "gift", "express", not "slow"`},
				{"meta", "must be an object, not an array"},
				{"extra", "is required"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.schema.Validate(mustDecode(t, tt.payload))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate problems:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestValidateTestdata(t *testing.T) {
	tests := []struct {
		file   string
		schema *Schema
	}{
		{"ylytic_creator_insights.json", creatorInsights()},
		{"influship_creator_updated.json", creatorUpdated()},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if got := tt.schema.Validate(mustReadEvent(t, tt.file)); got != nil {
				t.Errorf("Validate = %q, want no problems", got)
			}
		})
	}
}

func TestProblemJSON(t *testing.T) {
	b, err := json.Marshal([]Problem{{Path: "connector", Problem: "is required"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"path":"connector","problem":"is required"}]`; string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
}
