package rules

import (
	"errors"
	"testing"
)

const (
	specFilter    = "connector == 'tiktok' && status == 'success'"
	specTransform = "{creator: identifier, platform: connector, kind: type}"
	specChallenge = "$headers['x-influship-event'] == 'webhook.verify'"
)

func TestCompile(t *testing.T) {
	ylytic := SchemaEnv(creatorInsights())
	influship := SchemaEnv(creatorUpdated())
	orders := SchemaEnv(order())
	dynamic := DynamicEnv()

	tests := []struct {
		name string
		env  *Env
		src  string
		want Result
		// err is the expected CompileError; nil: the source compiles.
		err *CompileError
	}{
		// What SPEC's config compiles, typed and not.
		{name: "spec filter", env: ylytic, src: specFilter, want: BoolResult},
		{name: "spec filter dynamic", env: dynamic, src: specFilter, want: BoolResult},
		{name: "spec transform", env: ylytic, src: specTransform},
		{name: "spec transform dynamic", env: dynamic, src: specTransform},
		{name: "challenge when", env: influship, src: specChallenge, want: BoolResult},
		{name: "challenge when dynamic", env: dynamic, src: specChallenge, want: BoolResult},
		{name: "challenge respond dynamic", env: dynamic, src: "{challenge: challenge}"},
		{name: "event_type", env: ylytic, src: "type", want: StringResult},
		{name: "event_type dynamic", env: dynamic, src: "event", want: StringResult},
		{name: "dedupe dynamic", env: dynamic, src: "$headers['webhook-id'] ?? $body.id", want: StringResult},
		{name: "dedupe typed", env: ylytic, src: "$headers['webhook-id'] ?? $body.identifier", want: StringResult},
		{name: "number key", env: orders, src: "order_id", want: StringResult},
		{name: "dollar variables", env: ylytic, src: "$event == 'creator_insights' && $source == 'ylytic'", want: BoolResult},
		{name: "now", env: ylytic, src: "now() > date('2020-01-01T00:00:00Z')", want: BoolResult},
		{name: "optional field", env: ylytic, src: "status_reason == nil || status_reason == 'Private Account'", want: BoolResult},
		{name: "optional default", env: ylytic, src: "status_reason ?? 'none'", want: StringResult},
		{name: "enum in list", env: ylytic, src: "connector in ['tiktok', 'instagram'] and status != 'failed'", want: BoolResult},
		{name: "nested", env: influship, src: "data.platform in ['instagram', 'tiktok'] && 'followers' in data.updated_fields", want: BoolResult},
		{name: "timestamp", env: influship, src: "date(timestamp) < now()", want: BoolResult},
		{name: "float field and int literal", env: orders, src: "total > 10 && order_id != 0", want: BoolResult},
		{name: "predicate", env: orders, src: "any(items, .qty >= 2 && .sku startsWith 'a')", want: BoolResult},
		{name: "open object", env: orders, src: "meta.anything == 'x'", want: BoolResult},
		{name: "dynamic unknown names", env: dynamic, src: "conector == 'tiktk' && data.creator_idd > 3", want: BoolResult},
		{name: "dynamic bare field as filter", env: dynamic, src: "connector", want: BoolResult},
		{name: "nil env is dynamic", env: nil, src: "anything", want: BoolResult},

		// Misspelt names.
		{name: "unknown field", env: ylytic, src: "conector == 'tiktok'", want: BoolResult,
			err: &CompileError{1, 1, `unknown field "conector"; did you mean "connector"?`}},
		{name: "unknown field later line", env: ylytic, src: "status == 'success' &&\n  conector == 'tiktok'", want: BoolResult,
			err: &CompileError{2, 3, `unknown field "conector"; did you mean "connector"?`}},
		{name: "unknown field no suggestion", env: ylytic, src: "followers > 10", want: BoolResult,
			err: &CompileError{1, 1, `unknown field "followers"`}},
		{name: "unknown field columns count runes", env: ylytic, src: "'é' == conector", want: BoolResult,
			err: &CompileError{1, 8, `unknown field "conector"; did you mean "connector"?`}},
		{name: "unknown nested field", env: influship, src: "data.creator_idd == 'x'", want: BoolResult,
			err: &CompileError{1, 6, `unknown field "data.creator_idd"; did you mean "data.creator_id"?`}},
		{name: "unknown field in transform", env: ylytic, src: "{creator: identifer}",
			err: &CompileError{1, 11, `unknown field "identifer"; did you mean "identifier"?`}},
		{name: "unknown field of element", env: orders, src: "any(items, .skuu == 'a')", want: BoolResult,
			err: &CompileError{1, 13, `unknown field "skuu"; did you mean "sku"?`}},
		{name: "unknown field of body", env: ylytic, src: "$body.conector", want: StringResult,
			err: &CompileError{1, 7, `unknown field "$body.conector"; did you mean "$body.connector"?`}},
		{name: "unknown function", env: ylytic, src: "lenn(identifier) > 3", want: BoolResult,
			err: &CompileError{1, 1, `unknown function "lenn"; did you mean "len"?`}},
		{name: "unknown variable", env: ylytic, src: "$header['x-influship-event'] == 'webhook.verify'", want: BoolResult,
			err: &CompileError{1, 1, `unknown variable "$header"; did you mean "$headers"?`}},

		// Wrong types.
		{name: "string compared with number", env: ylytic, src: "connector == 3", want: BoolResult,
			err: &CompileError{1, 11, "invalid operation: connector == 3 (mismatched types string and number)"}},
		{name: "arithmetic on string", env: ylytic, src: "identifier + 1 > 2", want: BoolResult,
			err: &CompileError{1, 12, "invalid operation: identifier + 1 (mismatched types string and number)"}},
		{name: "field of string", env: ylytic, src: "connector.name == 'x'", want: BoolResult,
			err: &CompileError{1, 11, `a string has no field "name"`}},
		{name: "filter not boolean", env: ylytic, src: "connector", want: BoolResult,
			err: &CompileError{1, 1, "the expression must produce a boolean, not a string"}},
		{name: "filter not boolean after spaces", env: ylytic, src: "  identifier", want: BoolResult,
			err: &CompileError{1, 3, "the expression must produce a boolean, not a string"}},
		{name: "transform as filter", env: ylytic, src: specTransform, want: BoolResult,
			err: &CompileError{1, 1, "the expression must produce a boolean, not an object"}},
		{name: "object as string", env: influship, src: "data", want: StringResult,
			err: &CompileError{1, 1, "the expression must produce a string, not an object"}},
		{name: "array as string dynamic", env: dynamic, src: "[id, $source]", want: StringResult,
			err: &CompileError{1, 1, "the expression must produce a string, not an array"}},

		// Literals outside an enum.
		{name: "enum ==", env: ylytic, src: "connector == 'tiktk'", want: BoolResult,
			err: &CompileError{1, 14, `"tiktk" is not a value of connector; it is one of "instagram", "youtube", "tiktok", "facebook"`}},
		{name: "enum reversed", env: ylytic, src: "'tiktk' != connector", want: BoolResult,
			err: &CompileError{1, 1, `"tiktk" is not a value of connector; it is one of "instagram", "youtube", "tiktok", "facebook"`}},
		{name: "enum second line", env: ylytic, src: "status == 'success' &&\n  connector == 'tiktk'", want: BoolResult,
			err: &CompileError{2, 16, `"tiktk" is not a value of connector; it is one of "instagram", "youtube", "tiktok", "facebook"`}},
		{name: "enum in list", env: ylytic, src: "status in ['success', 'failure']", want: BoolResult,
			err: &CompileError{1, 23, `"failure" is not a value of status; it is one of "success", "failed"`}},
		{name: "enum not in", env: ylytic, src: "connector not in ['tiktok', 'vine']", want: BoolResult,
			err: &CompileError{1, 29, `"vine" is not a value of connector; it is one of "instagram", "youtube", "tiktok", "facebook"`}},
		{name: "enum nested", env: influship, src: "data?.platform == 'tiktk'", want: BoolResult,
			err: &CompileError{1, 19, `"tiktk" is not a value of data.platform; it is one of "instagram", "youtube", "tiktok"`}},
		{name: "enum through let", env: influship, src: "let p = data.platform; p == 'vine'", want: BoolResult,
			err: &CompileError{1, 29, `"vine" is not a value of data.platform; it is one of "instagram", "youtube", "tiktok"`}},
		{name: "enum of element field", env: orders, src: "any(items, .qty == 5)", want: BoolResult,
			err: &CompileError{1, 20, `5 is not a value of items[].qty; it is one of 1, 2, 3`}},
		{name: "enum of array elements", env: orders, src: "'slow' in tags", want: BoolResult,
			err: &CompileError{1, 1, `"slow" is not a value of tags; it is one of "gift", "express"`}},
		{name: "enum in transform", env: ylytic, src: "{tiktok: connector == 'tik tok'}",
			err: &CompileError{1, 23, `"tik tok" is not a value of connector; it is one of "instagram", "youtube", "tiktok", "facebook"`}},
		{name: "enum in condition", env: ylytic, src: "status == 'fail' ? 'x' : 'y'", want: StringResult,
			err: &CompileError{1, 11, `"fail" is not a value of status; it is one of "success", "failed"`}},
		{name: "let cannot shadow a field", env: ylytic, src: "let connector = 'x'; connector == 'x'", want: BoolResult,
			err: &CompileError{1, 5, "cannot redeclare connector"}},
		{name: "let of a field without enum", env: ylytic, src: "let id = identifier; id == 'anything'", want: BoolResult},
		{name: "enum unchecked when dynamic", env: dynamic, src: "connector == 'tiktk'", want: BoolResult},

		// Syntax.
		{name: "incomplete", env: ylytic, src: "connector ==", want: BoolResult,
			err: &CompileError{1, 12, "unexpected end of the expression"}},
		{name: "unterminated string", env: dynamic, src: "connector == 'tiktok", want: BoolResult,
			err: &CompileError{1, 21, "literal not terminated"}},
		{name: "single =", env: dynamic, src: "connector = 'tiktok'", want: BoolResult,
			err: &CompileError{1, 11, `unexpected operator "="`}},
		{name: "stray bracket", env: dynamic, src: "connector == 'tiktok')", want: BoolResult,
			err: &CompileError{1, 22, `unexpected bracket ")"`}},
		{name: "empty", env: dynamic, src: "", want: BoolResult,
			err: &CompileError{1, 1, "unexpected end of the expression"}},
		{name: "bad regexp", env: dynamic, src: "id matches '['", want: BoolResult,
			err: &CompileError{1, 4, "error parsing regexp: missing closing ]: `[`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.src, tt.env, tt.want)
			if tt.err == nil {
				if err != nil {
					t.Fatalf("Compile(%q) error: %v", tt.src, err)
				}
				if p.Source() != tt.src {
					t.Errorf("Source() = %q, want %q", p.Source(), tt.src)
				}
				return
			}
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Compile(%q) error = %v (%T), want *CompileError", tt.src, err, err)
			}
			if *ce != *tt.err {
				t.Errorf("Compile(%q):\n got %d:%d %s\nwant %d:%d %s", tt.src, ce.Line, ce.Column, ce.Msg, tt.err.Line, tt.err.Column, tt.err.Msg)
			}
		})
	}
}

func TestCompileErrorString(t *testing.T) {
	err := error(&CompileError{Line: 2, Column: 7, Msg: `unknown field "conector"`})
	if got, want := err.Error(), `2:7: unknown field "conector"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// campaignInsights shares fields with creatorInsights: connector with
// another enum, identifier with another type, status without an enum.
func campaignInsights() *Schema {
	return &Schema{Name: "campaign_insights", Fields: []*Field{
		{Name: "type", Type: TypeString, Enum: []any{"campaign_insights"}},
		{Name: "status", Type: TypeString},
		{Name: "identifier", Type: TypeInteger},
		{Name: "connector", Type: TypeString, Enum: []any{"tiktok", "snapchat"}},
		{Name: "campaign", Type: TypeObject, Fields: []*Field{{Name: "budget", Type: TypeNumber}}},
	}}
}

func TestSchemaEnvUnion(t *testing.T) {
	env := SchemaEnv(creatorInsights(), campaignInsights())
	tests := []struct {
		name string
		src  string
		err  string // the CompileError's Msg; "" when the source compiles
	}{
		{name: "enum value of either", src: "connector == 'snapchat' || connector == 'youtube'"},
		{name: "enums united", src: "connector == 'vine'",
			err: `"vine" is not a value of connector; it is one of "instagram", "youtube", "tiktok", "facebook", "snapchat"`},
		{name: "enum of one, open in the other", src: "status == 'pending'"},
		{name: "type enums united", src: "type in ['creator_insights', 'campaign_insights']"},
		{name: "conflicting types become any", src: "identifier == 'x' || identifier > 3"},
		{name: "field of one schema", src: "campaign.budget > 100 || status_reason == 'Private Account'"},
		{name: "nested strictness kept", src: "campaign.budgets > 100", err: `unknown field "campaign.budgets"; did you mean "campaign.budget"?`},
		{name: "field of no schema", src: "budget > 100", err: `unknown field "budget"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.src, env, BoolResult)
			var got string
			if err != nil {
				var ce *CompileError
				if !errors.As(err, &ce) {
					t.Fatalf("error %v (%T), want *CompileError", err, err)
				}
				got = ce.Msg
			}
			if got != tt.err {
				t.Errorf("Compile(%q) error = %q, want %q", tt.src, got, tt.err)
			}
		})
	}
}
