// Package spec describes the bodies of hookgate's HCL blocks: each attribute's
// name, kind, default, documentation, example and secret mark.
//
// One description drives three things, so they cannot drift apart: strict
// decoding (unknown attributes are diagnostics with a range), validation of
// each value with the attribute's range on error, and the generated
// reference in docs/config.md. Core blocks (gateway, destination, ...) and
// plugin blocks (verify "hmac", sign "standard_webhooks", ...) use it alike.
//
// The package owns value parsing (durations, sizes, rates, percentages); it
// must not know about any particular block.
package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/hookgate/hookgate/secret"
)

// Kind is the type of an attribute's value as a user writes it.
type Kind int

// The kinds of attribute value.
const (
	String       Kind = iota // a string
	Bool                     // true or false
	Int                      // a whole number
	Number                   // a number
	Duration                 // a string such as "5s", "15m", "4h"
	Size                     // a string such as "512KiB", "1MiB"
	Rate                     // a string such as "50/s", "1000/m", "10/h"
	Percent                  // a string such as "10%"
	Secret                   // a string that is never printed
	Expr                     // an expr-lang expression inside a string
	StringList               // a list of strings
	DurationList             // a list of durations
	StringMap                // a map of strings
	ValueList                // a list of strings or numbers
	SecretList               // a list of strings that are never printed
)

var kindNames = map[Kind]string{
	String: "string", Bool: "bool", Int: "integer", Number: "number",
	Duration: "duration", Size: "size", Rate: "rate", Percent: "percent",
	Secret: "secret string", Expr: "expression", StringList: "list of strings",
	DurationList: "list of durations", StringMap: "map of strings",
	ValueList: "list of strings or numbers", SecretList: "list of secret strings",
}

// String names the kind for docs and diagnostics.
func (k Kind) String() string { return kindNames[k] }

// Attr describes one attribute of a block body.
type Attr struct {
	Name     string
	Kind     Kind
	Required bool
	// Default is the value used when the attribute is absent, written as the
	// user would write it without quotes ("5s", "64", "true"). Empty means the
	// kind's zero value.
	Default string
	// Enum lists the allowed values of a String attribute.
	Enum []string
	// Doc says what the attribute means, in one or two sentences.
	Doc string
	// Example is an HCL expression for the reference docs, e.g. `"X-Signature"`.
	Example string
	// Instead names the attribute this one replaces, when the two must not
	// both be set (secrets, instead of secret). The plugin's constructor
	// checks it; the generated examples leave this one out.
	Instead string
}

// Block describes a block type: its labels, attributes and nested blocks.
type Block struct {
	Type   string
	Labels []string
	Doc    string
	Attrs  []Attr
	// Blocks are the nested block types. Decoding of nested blocks is the
	// caller's; Schema only declares them.
	Blocks []*Block
	// Repeatable marks a block type that may appear more than once in its
	// parent.
	Repeatable bool
}

// Attr returns the attribute named name, or nil.
func (b *Block) Attr(name string) *Attr {
	for i := range b.Attrs {
		if b.Attrs[i].Name == name {
			return &b.Attrs[i]
		}
	}
	return nil
}

// Schema is the strict HCL body schema of the block: its attributes and the
// headers of its nested blocks.
func (b *Block) Schema() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, a := range b.Attrs {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a.Name, Required: a.Required})
	}
	for _, nb := range b.Blocks {
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: nb.Type, LabelNames: nb.Labels})
	}
	return s
}

// Value is one decoded attribute.
type Value struct {
	// V holds the parsed value: string, bool, int, float64, time.Duration,
	// int64 (Size), RateValue, float64 (Percent, 0..1), secret.Secret,
	// ExprSource, []string, []time.Duration, map[string]string, []any
	// (ValueList: string and float64 elements) or []secret.Secret.
	V any
	// Range is the attribute's expression range; for a defaulted value, the
	// range of the enclosing block.
	Range hcl.Range
	// Set reports whether the user wrote the attribute.
	Set bool
	// Expr is the attribute's expression, nil for a defaulted value.
	Expr hcl.Expression
}

// Values are a block's decoded attributes by name. Every attribute of the
// spec is present, defaulted when absent.
type Values map[string]Value

// ExprSource is the text of an expr-lang expression and where it stands.
type ExprSource struct {
	Src string
	// Range is the range of the whole HCL expression.
	Range hcl.Range
	// Start is the position of the first character of Src in the file, when
	// the expression is a plain one-line string literal (so expr-lang errors
	// can point at the exact character); otherwise the zero Pos.
	Start hcl.Pos
}

// RateValue is a rate such as "50/s".
type RateValue struct {
	Count int
	Per   time.Duration
}

// PerSecond is the rate in events per second.
func (r RateValue) PerSecond() float64 {
	if r.Per == 0 {
		return 0
	}
	return float64(r.Count) / r.Per.Seconds()
}

// String formats the rate the way it is written.
func (r RateValue) String() string {
	if r.Per == 0 {
		return ""
	}
	unit := map[time.Duration]string{time.Second: "s", time.Minute: "m", time.Hour: "h"}[r.Per]
	return fmt.Sprintf("%d/%s", r.Count, unit)
}

// Range returns where attribute name was written (or the block's range).
func (v Values) Range(name string) hcl.Range { return v[name].Range }

// IsSet reports whether the user wrote attribute name.
func (v Values) IsSet(name string) bool { return v[name].Set }

// String returns a String attribute.
func (v Values) String(name string) string { s, _ := v[name].V.(string); return s }

// Bool returns a Bool attribute.
func (v Values) Bool(name string) bool { b, _ := v[name].V.(bool); return b }

// Int returns an Int attribute.
func (v Values) Int(name string) int { i, _ := v[name].V.(int); return i }

// Number returns a Number or Percent attribute (a percentage as 0..1).
func (v Values) Number(name string) float64 { f, _ := v[name].V.(float64); return f }

// Duration returns a Duration attribute.
func (v Values) Duration(name string) time.Duration { d, _ := v[name].V.(time.Duration); return d }

// Size returns a Size attribute in bytes.
func (v Values) Size(name string) int64 { s, _ := v[name].V.(int64); return s }

// Rate returns a Rate attribute.
func (v Values) Rate(name string) RateValue { r, _ := v[name].V.(RateValue); return r }

// Secret returns a Secret attribute.
func (v Values) Secret(name string) secret.Secret { s, _ := v[name].V.(secret.Secret); return s }

// Expr returns an Expr attribute.
func (v Values) Expr(name string) ExprSource { e, _ := v[name].V.(ExprSource); return e }

// StringList returns a StringList attribute.
func (v Values) StringList(name string) []string { l, _ := v[name].V.([]string); return l }

// ValueList returns a ValueList attribute: string and float64 elements.
func (v Values) ValueList(name string) []any { l, _ := v[name].V.([]any); return l }

// SecretList returns a SecretList attribute.
func (v Values) SecretList(name string) []secret.Secret {
	l, _ := v[name].V.([]secret.Secret)
	return l
}

// DurationList returns a DurationList attribute.
func (v Values) DurationList(name string) []time.Duration {
	l, _ := v[name].V.([]time.Duration)
	return l
}

// StringMap returns a StringMap attribute.
func (v Values) StringMap(name string) map[string]string {
	m, _ := v[name].V.(map[string]string)
	return m
}

// AttrError is an error about one attribute, returned by a plugin's
// constructor; the config loader reports it at that attribute's range.
type AttrError struct {
	Attr string
	Msg  string
}

func (e *AttrError) Error() string { return fmt.Sprintf("%s: %s", e.Attr, e.Msg) }

// Errorf returns an *AttrError about attribute attr.
func Errorf(attr, format string, args ...any) error {
	return &AttrError{Attr: attr, Msg: fmt.Sprintf(format, args...)}
}

// DecodeBody decodes body strictly against b: unknown attributes and blocks
// are diagnostics. It returns the values, the nested blocks for the caller to
// decode, and every problem found. within is the range used for defaulted
// values and missing required attributes (usually the block's DefRange).
func DecodeBody(body hcl.Body, b *Block, ctx *hcl.EvalContext, within hcl.Range) (Values, hcl.Blocks, hcl.Diagnostics) {
	content, diags := body.Content(b.Schema())
	vals, more := DecodeAttrs(content.Attributes, b, ctx, within)
	return vals, content.Blocks, append(diags, more...)
}

// DecodeAttrs evaluates and parses attrs against b's attributes, filling
// defaults for those absent.
func DecodeAttrs(attrs hcl.Attributes, b *Block, ctx *hcl.EvalContext, within hcl.Range) (Values, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	vals := make(Values, len(b.Attrs))
	for _, a := range b.Attrs {
		attr, ok := attrs[a.Name]
		if !ok {
			if a.Required {
				// Body.Content already reports a missing required attribute
				// when called with the schema; DecodeAttrs alone must too.
				continue
			}
			v, err := defaultValue(a)
			if err != nil {
				panic(fmt.Sprintf("spec: attribute %s.%s: bad default %q: %v", b.Type, a.Name, a.Default, err))
			}
			vals[a.Name] = Value{V: v, Range: within}
			continue
		}
		v, ds := decodeAttr(attr, a, ctx)
		diags = append(diags, ds...)
		if !ds.HasErrors() {
			vals[a.Name] = Value{V: v, Range: attr.Expr.Range(), Set: true, Expr: attr.Expr}
		}
	}
	return vals, diags
}

func defaultValue(a Attr) (any, error) {
	switch a.Kind {
	case StringList:
		return []string(nil), nil
	case DurationList:
		return []time.Duration(nil), nil
	case SecretList:
		return []secret.Secret(nil), nil
	case StringMap:
		return map[string]string{}, nil
	case ValueList:
		return []any(nil), nil
	case Expr:
		return ExprSource{Src: a.Default}, nil
	}
	return parseScalar(a, a.Default, a.Default == "")
}

func decodeAttr(attr *hcl.Attribute, a Attr, ctx *hcl.EvalContext) (any, hcl.Diagnostics) {
	val, diags := attr.Expr.Value(ctx)
	if diags.HasErrors() {
		if a.Kind == Expr {
			for _, d := range diags {
				if d.Summary == "Variables not allowed" || d.Summary == "Unknown variable" {
					d.Detail += fmt.Sprintf(" The %s attribute is an expr-lang expression written inside a string, for example %s = %s.", a.Name, a.Name, exampleOr(a, `"connector == 'tiktok'"`))
				}
			}
		}
		return nil, diags
	}
	rng := attr.Expr.Range()
	bad := func(detail string) hcl.Diagnostics {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid %s", attr.Name),
			Detail:   detail,
			Subject:  rng.Ptr(),
		}}
	}
	if val.IsNull() {
		return nil, bad(fmt.Sprintf("The %s attribute must not be null.", attr.Name))
	}
	if !val.IsWhollyKnown() {
		return nil, bad(fmt.Sprintf("The %s attribute must be known when the config loads.", attr.Name))
	}
	switch a.Kind {
	case StringList, DurationList, SecretList:
		l, err := convert.Convert(val, cty.List(cty.String))
		if err != nil {
			return nil, bad(fmt.Sprintf("The %s attribute must be a list of strings, such as %s.", attr.Name, exampleOr(a, `["a", "b"]`)))
		}
		var out []string
		for it := l.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			out = append(out, ev.AsString())
		}
		switch a.Kind {
		case StringList:
			return out, nil
		case SecretList:
			secrets := make([]secret.Secret, len(out))
			for i, s := range out {
				secrets[i] = secret.New(s)
			}
			return secrets, nil
		}
		ds := make([]time.Duration, 0, len(out))
		for _, s := range out {
			d, err := ParseDuration(s)
			if err != nil {
				return nil, bad(fmt.Sprintf("In %s: %v.", attr.Name, err))
			}
			ds = append(ds, d)
		}
		return ds, nil
	case ValueList:
		if !val.Type().IsTupleType() && !val.Type().IsListType() {
			return nil, bad(fmt.Sprintf("The %s attribute must be a list of strings or numbers, such as %s.", attr.Name, exampleOr(a, `["a", "b"]`)))
		}
		var out []any
		for it := val.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			switch {
			case ev.IsNull():
				return nil, bad(fmt.Sprintf("The %s attribute must not hold null.", attr.Name))
			case ev.Type() == cty.String:
				out = append(out, ev.AsString())
			case ev.Type() == cty.Number:
				f, _ := ev.AsBigFloat().Float64()
				out = append(out, f)
			default:
				return nil, bad(fmt.Sprintf("The %s attribute must hold only strings and numbers.", attr.Name))
			}
		}
		return out, nil
	case StringMap:
		m, err := convert.Convert(val, cty.Map(cty.String))
		if err != nil {
			return nil, bad(fmt.Sprintf("The %s attribute must be a map of strings, such as %s.", attr.Name, exampleOr(a, `{ "X-Team" = "tiktok" }`)))
		}
		out := map[string]string{}
		for it := m.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			out[k.AsString()] = ev.AsString()
		}
		return out, nil
	case Bool:
		b, err := convert.Convert(val, cty.Bool)
		if err != nil {
			return nil, bad(fmt.Sprintf("The %s attribute must be true or false.", attr.Name))
		}
		return b.True(), nil
	case Int, Number:
		n, err := convert.Convert(val, cty.Number)
		if err != nil {
			return nil, bad(fmt.Sprintf("The %s attribute must be a number, such as %s.", attr.Name, exampleOr(a, "1")))
		}
		f, _ := n.AsBigFloat().Float64()
		if a.Kind == Int {
			if !n.AsBigFloat().IsInt() {
				return nil, bad(fmt.Sprintf("The %s attribute must be a whole number.", attr.Name))
			}
			return int(f), nil
		}
		return f, nil
	}
	s, err := convert.Convert(val, cty.String)
	if err != nil {
		return nil, bad(fmt.Sprintf("The %s attribute must be a string, such as %s.", attr.Name, exampleOr(a, `"..."`)))
	}
	if a.Kind == Expr {
		return ExprSource{Src: s.AsString(), Range: rng, Start: literalStart(attr.Expr, s.AsString())}, nil
	}
	v, perr := parseScalar(a, s.AsString(), false)
	if perr != nil {
		return nil, bad(perr.Error())
	}
	return v, nil
}

func exampleOr(a Attr, def string) string {
	if a.Example != "" {
		return a.Example
	}
	return def
}

// literalStart finds where the content of a one-line quoted string literal
// begins, so positions inside an expression can be mapped into the file. It
// returns the zero Pos for anything else (templates, heredocs, function calls,
// or literals with escapes that shift columns).
func literalStart(expr hcl.Expression, src string) hcl.Pos {
	r := expr.Range()
	if r.Start.Line != r.End.Line {
		return hcl.Pos{}
	}
	// A plain literal spans exactly the quotes and the text between them.
	if r.End.Byte-r.Start.Byte != len(src)+2 {
		return hcl.Pos{}
	}
	return hcl.Pos{Line: r.Start.Line, Column: r.Start.Column + 1, Byte: r.Start.Byte + 1}
}

func parseScalar(a Attr, s string, zero bool) (any, error) {
	switch a.Kind {
	case String:
		if !zero && len(a.Enum) > 0 && !slices.Contains(a.Enum, s) {
			return nil, fmt.Errorf("%q is not one of %s.", s, quoteList(a.Enum))
		}
		return s, nil
	case Secret:
		return secret.New(s), nil
	case Bool:
		if zero {
			return false, nil
		}
		return strconv.ParseBool(s)
	case Int:
		if zero {
			return 0, nil
		}
		return strconv.Atoi(s)
	case Number:
		if zero {
			return 0.0, nil
		}
		return strconv.ParseFloat(s, 64)
	case Duration:
		if zero {
			return time.Duration(0), nil
		}
		return ParseDuration(s)
	case Size:
		if zero {
			return int64(0), nil
		}
		return ParseSize(s)
	case Rate:
		if zero {
			return RateValue{}, nil
		}
		return ParseRate(s)
	case Percent:
		if zero {
			return 0.0, nil
		}
		return ParsePercent(s)
	}
	return nil, fmt.Errorf("unsupported kind %v", a.Kind)
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// ParseDuration parses a duration such as "500ms", "5s", "15m", "4h" or "1h30m".
// It refuses negative durations.
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; write a number and a unit such as \"500ms\", \"5s\", \"15m\" or \"4h\"", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative; a duration must be zero or more", s)
	}
	return d, nil
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"B", 1},
}

// ParseSize parses a size such as "512KiB", "1MiB", "10MB" or "4096B" into
// bytes. A bare number is bytes.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 || t == "" {
		return 0, fmt.Errorf("%q is not a size; write a number and a unit such as \"512KiB\", \"1MiB\" or \"10MB\"", s)
	}
	return int64(n * float64(mult)), nil
}

// ParseRate parses a rate such as "50/s", "1000/m" or "10/h".
func ParseRate(s string) (RateValue, error) {
	bad := fmt.Errorf("%q is not a rate; write a whole number, a slash and a unit s, m or h, such as \"50/s\"", s)
	n, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return RateValue{}, bad
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count <= 0 {
		return RateValue{}, bad
	}
	per, ok := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[strings.TrimSpace(unit)]
	if !ok {
		return RateValue{}, bad
	}
	return RateValue{Count: count, Per: per}, nil
}

// ParsePercent parses a percentage such as "10%" into 0.1. It must lie
// between 0% and 100%.
func ParsePercent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if !strings.HasSuffix(t, "%") {
		return 0, fmt.Errorf("%q is not a percentage; write a number and a percent sign, such as \"10%%\"", s)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, "%")), 64)
	if err != nil || !(f >= 0 && f <= 100) { // NaN fails both
		return 0, fmt.Errorf("%q is not a percentage between 0%% and 100%%", s)
	}
	return f / 100, nil
}
