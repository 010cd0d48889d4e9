package rules

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
)

// Result says what an expression must produce.
type Result int

// The results an expression may be compiled for.
const (
	AnyResult    Result = iota // anything: a transform, a challenge's respond
	BoolResult                 // a boolean or null: a filter, a challenge's when
	StringResult               // a scalar, read as a string: event_type, a dedupe key
)

// CompileError locates a problem inside an expression's source. Line and
// Column are 1-based and count characters (runes) of the source, not bytes;
// Column may be one past the last character when the source ends too early.
// Msg is one sentence with no position in it, so the caller can print its
// own, such as the config file's line and column.
type CompileError struct {
	Line, Column int
	Msg          string
}

// Error returns "line:column: message".
func (e *CompileError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg)
}

// Compile parses and type-checks src against env and compiles it once, for
// any number of runs. A nil env is DynamicEnv(). With BoolResult the
// expression must be boolean (expr-lang's AsBool), so a string field alone is
// an error when the env is typed; with StringResult it must not be an object
// or an array. With a SchemaEnv, comparing a field that has an enum (==, !=,
// in) to a literal outside the enum is an error too. Every error is a
// *CompileError.
func Compile(src string, env *Env, want Result) (_ *Program, err error) {
	if env == nil {
		env = DynamicEnv()
	}
	// expr-lang is not expected to panic on input, but a config is input
	// and a panic here would take down a reload.
	defer func() {
		if r := recover(); r != nil {
			line, col := start(src)
			err = &CompileError{Line: line, Column: col, Msg: fmt.Sprintf("internal error compiling the expression: %v", r)}
		}
	}()

	opts := []expr.Option{expr.Env(env.types)}
	if want == BoolResult {
		opts = append(opts, expr.AsBool())
	}
	// Check on a tree of our own first: on error its nodes carry the types
	// that explain it, and on success it is the source-faithful tree the
	// enum check walks (expr.Compile's tree is optimized).
	cfg := conf.CreateNew()
	for _, opt := range opts {
		opt(cfg)
	}
	tree, err := checker.ParseCheck(src, cfg)
	if err != nil {
		return nil, env.diagnose(src, tree, err)
	}
	if env.root != nil {
		if err := checkEnums(src, env.root, tree.Node); err != nil {
			return nil, err
		}
	}
	if want == StringResult {
		switch kind := tree.Node.Nature().Kind; kind {
		case reflect.Map, reflect.Slice, reflect.Array:
			line, col := start(src)
			return nil, &CompileError{Line: line, Column: col,
				Msg: "the expression must produce a string, not " + withArticle(kindWord(kind))}
		}
	}

	opts[0] = expr.Env(env.run)
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, env.diagnose(src, nil, err)
	}
	return &Program{src: src, prog: prog, headers: uses(tree, varHeaders, varEnv)}, nil
}

// diagnose turns an error from expr-lang into a *CompileError.
func (env *Env) diagnose(src string, tree *parser.Tree, err error) *CompileError {
	var fe *file.Error
	if !errors.As(err, &fe) {
		// expr-lang's result check carries no position; it is about the
		// whole expression.
		msg := err.Error()
		if got, ok := strings.CutPrefix(msg, "expected bool, but got "); ok {
			msg = "the expression must produce a boolean, not " + withArticle(typeWord(got))
		}
		line, col := start(src)
		return &CompileError{Line: line, Column: col, Msg: msg}
	}
	line, col := position(src, fe.From)
	return &CompileError{Line: line, Column: col, Msg: env.explain(tree, fe)}
}

var (
	reUnknownName = regexp.MustCompile(`^unknown name (\S+)$`)
	reUnknownFld  = regexp.MustCompile(`^unknown field (\S+)$`)
	reMismatched  = regexp.MustCompile(`^invalid operation: (\S+) \(mismatched types (.+) and (.+)\)$`)
	reMismatched1 = regexp.MustCompile(`^invalid operation: (\S+) \(mismatched type (.+)\)$`)
	reNoField     = regexp.MustCompile(`^type (.+) has no field (\S+)$`)
	reUnexpected  = regexp.MustCompile(`^unexpected token (\w+)\((".*")\)$`)
	rePosition    = regexp.MustCompile(` \(\d+:\d+\)$`)
)

// explain rewrites expr-lang's message into one a config author can act on:
// names quoted, the nearest declared name suggested, Go type names replaced
// by the schema's words.
func (env *Env) explain(tree *parser.Tree, fe *file.Error) string {
	msg, _, _ := strings.Cut(fe.Message, "\n")
	msg = rePosition.ReplaceAllString(msg, "")
	var root ast.Node
	if tree != nil {
		root = tree.Node
	}

	if m := reUnknownName.FindStringSubmatch(msg); m != nil {
		name := m[1]
		switch {
		case isCallee(root, fe.From, name):
			return fmt.Sprintf("unknown function %q", name) + suggest(name, builtinNames())
		case strings.HasPrefix(name, "$"):
			return fmt.Sprintf("unknown variable %q", name) + suggest(name, dollarNames)
		}
		var names []string
		if env.root != nil {
			names = env.root.names
		}
		return fmt.Sprintf("unknown field %q", name) + suggest(name, names)
	}

	if m := reUnknownFld.FindStringSubmatch(msg); m != nil {
		name := m[1]
		member := memberAt(root, fe.From, name)
		if member == nil {
			return fmt.Sprintf("unknown field %q", name)
		}
		prefix := label(member.Node)
		candidates := fieldNames(member.Node)
		if s := suggestion(name, candidates); s != "" {
			return fmt.Sprintf("unknown field %q; did you mean %q?", prefix+name, prefix+s)
		}
		return fmt.Sprintf("unknown field %q", prefix+name)
	}

	if m := reMismatched.FindStringSubmatch(msg); m != nil {
		what := m[1]
		if n := binaryAt(root, fe.From, m[1]); n != nil {
			what = n.String()
		}
		return fmt.Sprintf("invalid operation: %s (mismatched types %s and %s)", what, typeWord(m[2]), typeWord(m[3]))
	}
	if m := reMismatched1.FindStringSubmatch(msg); m != nil {
		what := m[1]
		if n := unaryAt(root, fe.From, m[1]); n != nil {
			what = n.String()
		}
		return fmt.Sprintf("invalid operation: %s (mismatched type %s)", what, typeWord(m[2]))
	}
	if m := reNoField.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s has no field %q", withArticle(typeWord(m[1])), m[2])
	}

	if msg == "unexpected token EOF" {
		return "unexpected end of the expression"
	}
	if m := reUnexpected.FindStringSubmatch(msg); m != nil {
		if v, err := strconv.Unquote(m[2]); err == nil {
			return fmt.Sprintf("unexpected %s %q", strings.ToLower(m[1]), v)
		}
	}
	return msg
}

// suggest returns "; did you mean "x"?" for the nearest of names, or "".
func suggest(given string, names []string) string {
	if s := suggestion(given, names); s != "" {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return ""
}

// suggestion returns the name nearest to given, as HCL's didyoumean does
// (Levenshtein distance under 3), preferring the earliest on a tie; "" when
// none is near.
func suggestion(given string, names []string) string {
	best, bestDist := "", 3
	for _, n := range names {
		if d := levenshtein.Distance(given, n, nil); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// builtinNames lists expr-lang's builtin functions.
func builtinNames() []string {
	names := make([]string, 0, len(builtin.Builtins))
	for _, f := range builtin.Builtins {
		names = append(names, f.Name)
	}
	return names
}

// isCallee reports whether the identifier name at offset from is called.
func isCallee(root ast.Node, from int, name string) bool {
	found := false
	walk(root, func(n ast.Node) {
		if c, ok := n.(*ast.CallNode); ok {
			if id, ok := c.Callee.(*ast.IdentifierNode); ok && id.Value == name && id.Location().From == from {
				found = true
			}
		}
	})
	return found
}

// memberAt returns the member access whose property name starts at from.
func memberAt(root ast.Node, from int, name string) *ast.MemberNode {
	var found *ast.MemberNode
	walk(root, func(n ast.Node) {
		if m, ok := n.(*ast.MemberNode); ok && found == nil {
			if p, ok := m.Property.(*ast.StringNode); ok && p.Value == name && p.Location().From == from {
				found = m
			}
		}
	})
	return found
}

// binaryAt returns the binary operation whose operator starts at from.
func binaryAt(root ast.Node, from int, op string) *ast.BinaryNode {
	var found *ast.BinaryNode
	walk(root, func(n ast.Node) {
		if b, ok := n.(*ast.BinaryNode); ok && found == nil && b.Operator == op && b.Location().From == from {
			found = b
		}
	})
	return found
}

// unaryAt returns the unary operation whose operator starts at from.
func unaryAt(root ast.Node, from int, op string) *ast.UnaryNode {
	var found *ast.UnaryNode
	walk(root, func(n ast.Node) {
		if u, ok := n.(*ast.UnaryNode); ok && found == nil && u.Operator == op && u.Location().From == from {
			found = u
		}
	})
	return found
}

// label returns how a member's base reads in a field path: "data." for
// data.x, "" for .x inside a predicate.
func label(base ast.Node) string {
	switch b := base.(type) {
	case *ast.PointerNode:
		return ""
	case *ast.ChainNode:
		return label(b.Node)
	}
	return base.String() + "."
}

// fieldNames returns the declared fields of a checked node's map type,
// sorted so that suggestions do not depend on map order.
func fieldNames(n ast.Node) []string {
	nt := n.Nature()
	if nt.TypeData == nil {
		return nil
	}
	names := make([]string, 0, len(nt.Fields))
	for name := range nt.Fields {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// uses reports whether the tree refers to any of the variables.
func uses(tree *parser.Tree, names ...string) bool {
	found := false
	walk(tree.Node, func(n ast.Node) {
		if id, ok := n.(*ast.IdentifierNode); ok {
			for _, name := range names {
				found = found || id.Value == name
			}
		}
	})
	return found
}

// walk calls fn for every node of the tree under root, children first.
func walk(root ast.Node, fn func(ast.Node)) {
	if root == nil {
		return
	}
	ast.Walk(&root, visitor(fn))
}

type visitor func(ast.Node)

func (v visitor) Visit(n *ast.Node) { v(*n) }

// typeWord names a Go type as expr-lang prints it in the schema's words.
func typeWord(goType string) string {
	switch goType {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "map[string]interface {}":
		return "object"
	case "[]interface {}":
		return "array"
	case "interface {}":
		return "any"
	case "time.Time":
		return "time"
	case "time.Duration":
		return "duration"
	}
	return goType
}

// kindWord names a kind of value in the schema's words.
func kindWord(k reflect.Kind) string {
	switch k {
	case reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return k.String()
}

// withArticle puts "a" or "an" before a type word.
func withArticle(word string) string {
	switch word {
	case "", "any", "nil":
		return word
	}
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}

// position converts a rune offset in src to a 1-based line and column.
func position(src string, offset int) (line, col int) {
	line, col = 1, 1
	i := 0
	for _, r := range src {
		if i == offset {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i++
	}
	return line, col
}

// start returns the position of the first character of src that is not a
// space: where an error about the whole expression points.
func start(src string) (line, col int) {
	i := 0
	for _, r := range src {
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' {
			break
		}
		i++
	}
	if i == len([]rune(src)) {
		i = 0
	}
	return position(src, i)
}
