package rules

import (
	"github.com/expr-lang/expr/types"
)

// The variables every expression sees besides the payload's fields. The `$`
// keeps them apart from any payload field.
const (
	varBody    = "$body"    // the whole payload
	varHeaders = "$headers" // lower-case header name → value
	varSource  = "$source"  // the source's name
	varEvent   = "$event"   // the event type
	varEnv     = "$env"     // expr-lang's own: every variable, by name
)

// dollarNames are the `$` variables, in the order suggestions prefer them.
var dollarNames = []string{varBody, varHeaders, varSource, varEvent, varEnv}

// Env is what an expression may refer to: the payload's top-level fields as
// variables, plus $body (the whole payload), $headers (lower-case header
// name → value), $source (the source's name, a string), $event (the event
// type, a string) and expr-lang's builtins such as now(). Build one with
// DynamicEnv or SchemaEnv; an Env is immutable and may be shared.
type Env struct {
	// types is what Compile type-checks against.
	types types.Map
	// run is what Compile compiles the program against: the same names,
	// every one of type any. Typed operands let expr-lang pick
	// specialized instructions (OpEqualString asserts both sides are
	// strings), and an optional field or a missing header is nil at run
	// time whatever its declared type; generic instructions compare nil
	// with anything and float64 with int.
	run types.Map
	// root is the union of the schemas' fields; nil for a dynamic Env.
	root *shape
}

// DynamicEnv returns an Env for payloads of unknown shape: any identifier is
// a variable of any type, nil at run time when the payload lacks it.
func DynamicEnv() *Env {
	m := dollarTypes(types.Any)
	m[types.Extra] = types.Any
	return &Env{types: m, run: loose(m)}
}

// SchemaEnv returns an Env statically typed against the union of schemas:
// the fields of all of them, where a field declared with different types
// becomes any and enums are united (a field any schema leaves open stays
// open). Nested object fields are strict, an object with no declared fields
// is open, and an array's elements are typed by its element fields. Strings
// and timestamps are strings, numbers and integers are float64 (as
// encoding/json decodes them), booleans are bool. Referring to a field no
// schema declares is a compile error, with a suggestion.
func SchemaEnv(schemas ...*Schema) *Env {
	root := &shape{kind: TypeObject}
	for _, s := range schemas {
		for _, f := range s.Fields {
			root.add(f.Name, fieldShape("", f))
		}
	}
	m := make(types.Map, len(root.fields)+len(dollarNames))
	for name, f := range root.fields {
		m[name] = f.exprType()
	}
	// The `$` variables win over a payload field of the same name.
	for name, t := range dollarTypes(root.exprType()) {
		m[name] = t
	}
	return &Env{types: m, run: loose(m), root: root}
}

// dollarTypes returns the types of the `$` variables, $body typed as body.
func dollarTypes(body types.Type) types.Map {
	return types.Map{
		varBody:    body,
		varHeaders: types.Map{types.Extra: types.String},
		varSource:  types.String,
		varEvent:   types.String,
	}
}

// loose returns m with every name's type replaced by any. It keeps the
// names, so that a field named like a builtin (len, now) still reads the
// field, and allows any other name, since the check has already been made.
func loose(m types.Map) types.Map {
	l := make(types.Map, len(m)+1)
	for name := range m {
		l[name] = types.Any
	}
	l[types.Extra] = types.Any
	return l
}

// shape is a field as expressions see it, once the schemas are united.
type shape struct {
	path   string // dotted, "[]" for an array's elements: "items[].sku"
	kind   Type   // TypeString, TypeNumber, TypeBoolean, TypeObject, TypeArray or TypeAny
	enum   []any  // allowed values; nil when any value of the kind is
	fields map[string]*shape
	names  []string // fields in declaration order, for suggestions
	open   bool     // an object that may hold undeclared fields
	elem   *shape   // an array's element
}

// fieldShape returns the shape of one schema field under the parent path.
func fieldShape(parent string, f *Field) *shape {
	path := f.Name
	if parent != "" {
		path = parent + "." + f.Name
	}
	s := &shape{path: path, kind: exprKind(f.Type)}
	switch s.kind {
	case TypeObject:
		s.open = len(f.Fields) == 0
		for _, sub := range f.Fields {
			s.add(sub.Name, fieldShape(path, sub))
		}
	case TypeArray:
		elem := &shape{path: path + "[]", kind: TypeAny, enum: f.Enum}
		if len(f.Fields) > 0 {
			elem.kind = TypeObject
			for _, sub := range f.Fields {
				elem.add(sub.Name, fieldShape(elem.path, sub))
			}
		}
		s.elem = elem
	default:
		s.enum = f.Enum
	}
	if len(s.enum) == 0 {
		s.enum = nil
	}
	return s
}

// exprKind folds the types that look alike to an expression: a timestamp is
// a string, an integer a number.
func exprKind(t Type) Type {
	switch t {
	case TypeTimestamp:
		return TypeString
	case TypeInteger:
		return TypeNumber
	case TypeString, TypeNumber, TypeBoolean, TypeObject, TypeArray:
		return t
	}
	return TypeAny
}

// add puts field name into object s, uniting it with a field of the same
// name that is already there.
func (s *shape) add(name string, f *shape) {
	if s.fields == nil {
		s.fields = make(map[string]*shape)
	}
	old, ok := s.fields[name]
	if !ok {
		s.fields[name] = f
		s.names = append(s.names, name)
		return
	}
	s.fields[name] = unite(old, f)
}

// unite returns the shape of a field that two schemas declare.
func unite(a, b *shape) *shape {
	if a.kind != b.kind {
		return &shape{path: a.path, kind: TypeAny}
	}
	u := &shape{path: a.path, kind: a.kind, enum: uniteEnums(a.enum, b.enum)}
	switch a.kind {
	case TypeObject:
		u.open = a.open || b.open
		for _, n := range a.names {
			u.add(n, a.fields[n])
		}
		for _, n := range b.names {
			u.add(n, b.fields[n])
		}
	case TypeArray:
		u.elem = unite(a.elem, b.elem)
	}
	return u
}

// uniteEnums returns the values either enum allows; nil (anything) when
// either is nil.
func uniteEnums(a, b []any) []any {
	if a == nil || b == nil {
		return nil
	}
	u := append([]any(nil), a...)
	for _, v := range b {
		if !enumHas(u, v) {
			u = append(u, v)
		}
	}
	return u
}

// exprType returns the expr-lang type of values of the shape.
func (s *shape) exprType() types.Type {
	switch s.kind {
	case TypeString:
		return types.String
	case TypeNumber:
		return types.Float64
	case TypeBoolean:
		return types.Bool
	case TypeArray:
		return types.Array(s.elem.exprType())
	case TypeObject:
		m := make(types.Map, len(s.fields)+1)
		for name, f := range s.fields {
			m[name] = f.exprType()
		}
		if s.open {
			m[types.Extra] = types.Any
		}
		return m
	}
	return types.Any
}
