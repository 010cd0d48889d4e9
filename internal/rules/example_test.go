package rules_test

import (
	"encoding/json"
	"fmt"

	"github.com/hookgate/hookgate/internal/rules"
)

func ExampleCompile() {
	schema := &rules.Schema{Name: "creator_insights", Fields: []*rules.Field{
		{Name: "type", Type: rules.TypeString, Enum: []any{"creator_insights"}},
		{Name: "status", Type: rules.TypeString, Enum: []any{"success", "failed"}},
		{Name: "identifier", Type: rules.TypeString},
		{Name: "connector", Type: rules.TypeString, Enum: []any{"instagram", "youtube", "tiktok", "facebook"}},
	}}
	env := rules.SchemaEnv(schema)

	// Mistakes are found at load time, with a position in the expression.
	for _, src := range []string{"conector == 'tiktok'", "connector == 'tiktk'", "connector == 3"} {
		_, err := rules.Compile(src, env, rules.BoolResult)
		fmt.Println(err)
	}

	filter, err := rules.Compile("connector == 'tiktok' && status == 'success'", env, rules.BoolResult)
	if err != nil {
		panic(err)
	}
	transform, err := rules.Compile("{creator: identifier, platform: connector, kind: type}", env, rules.AnyResult)
	if err != nil {
		panic(err)
	}

	var body any
	event := `{"type":"creator_insights","status":"success","identifier":"minimuffin8888","connector":"tiktok"}`
	if err := json.Unmarshal([]byte(event), &body); err != nil {
		panic(err)
	}
	in := &rules.Input{Body: body, Source: "ylytic", Event: "creator_insights"}
	fmt.Println(schema.Validate(body) == nil)
	fmt.Println(filter.Bool(in))
	out, err := transform.JSON(in)
	fmt.Println(string(out), err)
	// Output:
	// 1:1: unknown field "conector"; did you mean "connector"?
	// 1:14: "tiktk" is not a value of connector; it is one of "instagram", "youtube", "tiktok", "facebook"
	// 1:11: invalid operation: connector == 3 (mismatched types string and number)
	// true
	// true <nil>
	// {"creator":"minimuffin8888","kind":"creator_insights","platform":"tiktok"} <nil>
}

func ExampleSchema_Validate() {
	schema := &rules.Schema{Name: "creator_insights", Fields: []*rules.Field{
		{Name: "status", Type: rules.TypeString, Enum: []any{"success", "failed"}},
		{Name: "identifier", Type: rules.TypeString},
		{Name: "connector", Type: rules.TypeString, Enum: []any{"instagram", "youtube", "tiktok", "facebook"}},
	}}
	var body any
	if err := json.Unmarshal([]byte(`{"status":"success","connector":"tiktk"}`), &body); err != nil {
		panic(err)
	}
	for _, p := range schema.Validate(body) {
		fmt.Printf("%s: %s\n", p.Path, p.Problem)
	}
	// Output:
	// identifier: is required
	// connector: must be one of "instagram", "youtube", "tiktok", "facebook", not "tiktk"
}
