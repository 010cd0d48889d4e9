package rules

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// Type is a schema field type, as a config names it in `type = "..."`.
type Type string

// The field types. Numbers are float64 at run time, as encoding/json decodes
// them; an integer is a number with no fractional part.
const (
	TypeString    Type = "string"
	TypeNumber    Type = "number"
	TypeInteger   Type = "integer"
	TypeBoolean   Type = "boolean"
	TypeObject    Type = "object"
	TypeArray     Type = "array"
	TypeTimestamp Type = "timestamp" // an RFC 3339 string
	TypeAny       Type = "any"
)

// Types lists every field type, in the order the docs present them.
var Types = []Type{
	TypeString, TypeNumber, TypeInteger, TypeBoolean,
	TypeObject, TypeArray, TypeTimestamp, TypeAny,
}

// ParseType returns the Type named s, and false when no type has that name.
func ParseType(s string) (Type, bool) {
	for _, t := range Types {
		if string(t) == s {
			return t, true
		}
	}
	return "", false
}

// article returns the type with its indefinite article, as problems word it.
func (t Type) article() string {
	switch t {
	case TypeInteger, TypeObject, TypeArray:
		return "an " + string(t)
	case TypeTimestamp:
		return "an RFC 3339 timestamp"
	case TypeAny:
		return "a value"
	}
	return "a " + string(t)
}

// Field is one field of an event schema. Fields nest: they describe an
// object's fields, or, for an array, the fields of each element when the
// elements are objects. An Enum on an array applies to each element.
type Field struct {
	Name     string
	Type     Type
	Optional bool
	// Enum lists the allowed values, strings or float64 numbers; empty
	// allows any value of the type.
	Enum []any
	// Fields are an object's declared fields (none: any object), or an
	// array's element fields (none: elements are not checked).
	Fields      []*Field
	Description string
}

// Schema is the shape of one event type.
type Schema struct {
	Name   string
	Fields []*Field
}

// Problem is one schema violation, as the 422 answer lists it.
type Problem struct {
	Path    string `json:"path"`
	Problem string `json:"problem"`
}

// Validate checks a payload decoded by encoding/json (map[string]any, []any,
// float64, string, bool, nil) against the schema and returns every problem,
// in field order, with dotted paths ("data.creator_id", "items[2].sku"); nil
// when the payload conforms. Fields the schema does not declare are allowed,
// since webhook payloads grow. A null value counts as missing: "is required"
// when the field is not optional, nothing when it is. A payload that is not
// an object is one problem with an empty path.
func (s *Schema) Validate(payload any) []Problem {
	var v validator
	obj, ok := payload.(map[string]any)
	if !ok {
		v.add("", "must be an object, not "+articleOf(payload))
		return v.problems
	}
	v.fields("", s.Fields, obj)
	return v.problems
}

// validator collects problems; it allocates only when there is one.
type validator struct {
	problems []Problem
}

func (v *validator) add(path, problem string) {
	v.problems = append(v.problems, Problem{Path: path, Problem: problem})
}

func (v *validator) fields(prefix string, fields []*Field, obj map[string]any) {
	for _, f := range fields {
		path := f.Name
		if prefix != "" {
			path = prefix + "." + f.Name
		}
		val := obj[f.Name]
		if val == nil {
			if !f.Optional {
				v.add(path, "is required")
			}
			continue
		}
		v.value(path, f, val)
	}
}

// value checks a present, non-null value against its field.
func (v *validator) value(path string, f *Field, val any) {
	switch f.Type {
	case TypeString:
		if _, ok := val.(string); !ok {
			v.wrongType(path, f.Type, val)
			return
		}
	case TypeNumber:
		if _, ok := number(val); !ok {
			v.wrongType(path, f.Type, val)
			return
		}
	case TypeInteger:
		n, ok := number(val)
		if !ok {
			v.wrongType(path, f.Type, val)
			return
		}
		if n != math.Trunc(n) || math.IsInf(n, 0) {
			v.add(path, "must be an integer, not "+formatNumber(n))
			return
		}
	case TypeBoolean:
		if _, ok := val.(bool); !ok {
			v.wrongType(path, f.Type, val)
			return
		}
	case TypeTimestamp:
		s, ok := val.(string)
		if !ok {
			v.wrongType(path, f.Type, val)
			return
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			v.add(path, "must be an RFC 3339 timestamp, not "+strconv.Quote(s))
			return
		}
	case TypeObject:
		obj, ok := val.(map[string]any)
		if !ok {
			v.wrongType(path, f.Type, val)
			return
		}
		v.fields(path, f.Fields, obj)
		return
	case TypeArray:
		arr, ok := val.([]any)
		if !ok {
			v.wrongType(path, f.Type, val)
			return
		}
		v.elements(path, f, arr)
		return
	}
	v.enum(path, f.Enum, val)
}

// elements checks each element of an array: as an object when the field
// declares element fields, against the enum when it has one.
func (v *validator) elements(path string, f *Field, arr []any) {
	if len(f.Fields) == 0 && len(f.Enum) == 0 {
		return
	}
	for i, el := range arr {
		p := path + "[" + strconv.Itoa(i) + "]"
		if len(f.Fields) > 0 {
			obj, ok := el.(map[string]any)
			if !ok {
				v.add(p, "must be an object, not "+articleOf(el))
				continue
			}
			v.fields(p, f.Fields, obj)
			continue
		}
		v.enum(p, f.Enum, el)
	}
}

func (v *validator) enum(path string, enum []any, val any) {
	if len(enum) == 0 || enumHas(enum, val) {
		return
	}
	v.add(path, "must be one of "+formatEnum(enum)+", not "+formatValue(val))
}

func (v *validator) wrongType(path string, want Type, val any) {
	v.add(path, "must be "+want.article()+", not "+articleOf(val))
}

// kindOf names the JSON kind of a decoded value.
func kindOf(val any) string {
	switch val.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	if _, ok := number(val); ok {
		return "number"
	}
	return "value"
}

// articleOf is kindOf with its indefinite article ("a number", "an array").
func articleOf(val any) string {
	switch k := kindOf(val); k {
	case "null":
		return k
	case "object", "array":
		return "an " + k
	default:
		return "a " + k
	}
}

// number returns a decoded number as float64. encoding/json yields float64,
// or json.Number with UseNumber; Go callers may pass ints.
func number(val any) (float64, bool) {
	switch n := val.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// enumHas reports whether val is one of enum, comparing numbers by value.
func enumHas(enum []any, val any) bool {
	if n, ok := number(val); ok {
		for _, e := range enum {
			if m, ok := number(e); ok && m == n {
				return true
			}
		}
		return false
	}
	s, ok := val.(string)
	if !ok {
		return false
	}
	for _, e := range enum {
		if es, ok := e.(string); ok && es == s {
			return true
		}
	}
	return false
}

// formatEnum lists enum values as a config writes them: "a", "b", 3.
func formatEnum(enum []any) string {
	var b strings.Builder
	for i, e := range enum {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(formatValue(e))
	}
	return b.String()
}

// formatValue writes a scalar the way a config or JSON would: strings
// quoted, numbers without an exponent when whole.
func formatValue(val any) string {
	switch v := val.(type) {
	case string:
		return strconv.Quote(v)
	case bool:
		return strconv.FormatBool(v)
	}
	if n, ok := number(val); ok {
		return formatNumber(n)
	}
	return articleOf(val)
}

// formatNumber writes whole numbers without an exponent (950, not 9.5e+02)
// and others in the shortest form that reads back the same.
func formatNumber(n float64) string {
	if n == math.Trunc(n) && !math.IsInf(n, 0) {
		return strconv.FormatFloat(n, 'f', -1, 64)
	}
	return strconv.FormatFloat(n, 'g', -1, 64)
}
