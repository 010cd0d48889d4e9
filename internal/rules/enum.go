package rules

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr/ast"
)

// checkEnums finds the first literal compared with a field (==, != or in)
// that the field's enum does not allow. expr-lang's types know nothing of
// enums, so this walks the checked tree, resolving identifiers and member
// chains through the schemas' shapes, let variables and predicate elements
// (# and .field inside filter, any, all, map, ...) included.
func checkEnums(src string, root *shape, node ast.Node) *CompileError {
	c := enumCheck{src: src, root: root}
	c.walk(node)
	return c.err
}

type enumCheck struct {
	src   string
	root  *shape
	vars  []binding // let variables in scope, innermost last
	elems []*shape  // the element a predicate's # stands for, innermost last
	err   *CompileError
}

type binding struct {
	name  string
	shape *shape
}

func (c *enumCheck) walk(node ast.Node) {
	if node == nil || c.err != nil {
		return
	}
	switch n := node.(type) {
	case *ast.UnaryNode:
		c.walk(n.Node)
	case *ast.BinaryNode:
		c.walk(n.Left)
		c.walk(n.Right)
		switch n.Operator {
		case "==", "!=":
			c.literal(c.resolve(n.Left), n.Right)
			c.literal(c.resolve(n.Right), n.Left)
		case "in":
			if list, ok := n.Right.(*ast.ArrayNode); ok {
				s := c.resolve(n.Left)
				for _, el := range list.Nodes {
					c.literal(s, el)
				}
			} else if s := c.resolve(n.Right); s != nil && s.kind == TypeArray {
				c.literal(s.elem, n.Left)
			}
		}
	case *ast.ChainNode:
		c.walk(n.Node)
	case *ast.MemberNode:
		c.walk(n.Node)
		c.walk(n.Property)
	case *ast.SliceNode:
		c.walk(n.Node)
		c.walk(n.From)
		c.walk(n.To)
	case *ast.CallNode:
		c.walk(n.Callee)
		for _, a := range n.Arguments {
			c.walk(a)
		}
	case *ast.BuiltinNode:
		var elem *shape
		for i, a := range n.Arguments {
			if i == 0 {
				if s := c.resolve(a); s != nil && s.kind == TypeArray {
					elem = s.elem
				}
			}
			if _, ok := a.(*ast.PredicateNode); ok {
				c.elems = append(c.elems, elem)
				c.walk(a)
				c.elems = c.elems[:len(c.elems)-1]
				continue
			}
			c.walk(a)
		}
	case *ast.PredicateNode:
		c.walk(n.Node)
	case *ast.VariableDeclaratorNode:
		c.walk(n.Value)
		c.vars = append(c.vars, binding{n.Name, c.resolve(n.Value)})
		c.walk(n.Expr)
		c.vars = c.vars[:len(c.vars)-1]
	case *ast.SequenceNode:
		for _, x := range n.Nodes {
			c.walk(x)
		}
	case *ast.ConditionalNode:
		c.walk(n.Cond)
		c.walk(n.Exp1)
		c.walk(n.Exp2)
	case *ast.ArrayNode:
		for _, x := range n.Nodes {
			c.walk(x)
		}
	case *ast.MapNode:
		for _, x := range n.Pairs {
			c.walk(x)
		}
	case *ast.PairNode:
		c.walk(n.Key)
		c.walk(n.Value)
	}
}

// resolve returns the shape of the field an expression reads, or nil when
// it reads no declared field.
func (c *enumCheck) resolve(node ast.Node) *shape {
	switch n := node.(type) {
	case *ast.IdentifierNode:
		for i := len(c.vars) - 1; i >= 0; i-- {
			if c.vars[i].name == n.Value {
				return c.vars[i].shape
			}
		}
		if n.Value == varBody || n.Value == varEnv {
			return c.root
		}
		return c.root.fields[n.Value]
	case *ast.PointerNode:
		if n.Name == "" && len(c.elems) > 0 {
			return c.elems[len(c.elems)-1]
		}
	case *ast.ChainNode:
		return c.resolve(n.Node)
	case *ast.MemberNode:
		base := c.resolve(n.Node)
		if base == nil {
			return nil
		}
		switch base.kind {
		case TypeObject:
			if p, ok := n.Property.(*ast.StringNode); ok {
				return base.fields[p.Value]
			}
		case TypeArray:
			return base.elem
		}
	}
	return nil
}

// literal records an error when lit is a literal outside s's enum.
func (c *enumCheck) literal(s *shape, lit ast.Node) {
	if s == nil || s.enum == nil || c.err != nil {
		return
	}
	var v any
	switch l := lit.(type) {
	case *ast.StringNode:
		v = l.Value
	case *ast.IntegerNode:
		v = float64(l.Value)
	case *ast.FloatNode:
		v = l.Value
	default:
		return
	}
	if enumHas(s.enum, v) {
		return
	}
	line, col := position(c.src, lit.Location().From)
	c.err = &CompileError{Line: line, Column: col, Msg: fmt.Sprintf("%s is not a value of %s; it is one of %s",
		formatValue(v), strings.TrimSuffix(s.path, "[]"), formatEnum(s.enum))}
}
