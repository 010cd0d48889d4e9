// Package jsondiff compares JSON documents as a person reads them: both
// indented the same way (object keys sorted, two spaces), equal when they
// decode equal, and their difference as a unified diff of those lines.
// `hookgate test` shows a body that is not the expected one with it, and
// `hookgate plan` a body a config change would change.
//
// It is pure: no I/O.
package jsondiff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Indent returns b re-encoded with sorted keys and two-space indents, and
// a final newline. A body that is not JSON comes back as it is (with a
// final newline), so it can still be diffed.
func Indent(b []byte) []byte {
	v, err := decode(b)
	if err != nil {
		return withNewline(b)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return withNewline(b)
	}
	return out.Bytes()
}

func withNewline(b []byte) []byte {
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return append(bytes.Clone(b), '\n')
	}
	return b
}

// decode decodes b keeping numbers exact.
func decode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return v, nil
}

// Equal reports whether a and b are the same JSON value (key order and
// spacing aside; 1.0 and 1 differ, as their text does); bytes that are not
// JSON are compared as they are.
func Equal(a, b []byte) bool {
	va, errA := decode(a)
	vb, errB := decode(b)
	if errA != nil || errB != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

// Diff returns the unified diff (three lines of context) from a to b after
// Indent, headed "--- aName" and "+++ bName"; "" when they are Equal.
func Diff(aName, bName string, a, b []byte) string {
	if Equal(a, b) {
		return ""
	}
	return Unified(aName, bName, string(Indent(a)), string(Indent(b)))
}

// maxLines bounds the texts Unified diffs line by line (its table is
// quadratic); longer ones are shown whole, removed then added.
const maxLines = 4000

// Unified returns the unified diff of two texts, line by line, with three
// lines of context; "" when they are equal.
func Unified(aName, bName, a, b string) string {
	if a == b {
		return ""
	}
	al, bl := lines(a), lines(b)
	ops := script(al, bl)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	const ctx = 3
	for i := 0; i < len(ops); {
		// Find the next change.
		for i < len(ops) && ops[i].kind == ' ' {
			i++
		}
		if i == len(ops) {
			break
		}
		start := max(i-ctx, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			// A run of context: the hunk ends if it is longer than
			// twice the context or reaches the end.
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*ctx {
				end = min(end+ctx, len(ops))
				break
			}
			end = run
		}
		aStart, bStart := ops[start].a, ops[start].b
		aN, bN := 0, 0
		for _, op := range ops[start:end] {
			if op.kind != '+' {
				aN++
			}
			if op.kind != '-' {
				bN++
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(aStart, aN), hunkRange(bStart, bN))
		for _, op := range ops[start:end] {
			out.WriteByte(op.kind)
			out.WriteString(op.text)
			out.WriteByte('\n')
		}
		i = end
	}
	return out.String()
}

// hunkRange is a hunk's "start,count" (1-based; the line before an empty
// range).
func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// op is one line of an edit script: ' ' kept, '-' removed, '+' added; a
// and b are the line's index in each text (of the next line, for an op
// absent from that text).
type op struct {
	kind byte
	text string
	a, b int
}

// script returns the edit script from a to b along a longest common
// subsequence of lines.
func script(a, b []string) []op {
	var ops []op
	if len(a) > maxLines || len(b) > maxLines {
		for i, l := range a {
			ops = append(ops, op{'-', l, i, 0})
		}
		for j, l := range b {
			ops = append(ops, op{'+', l, len(a), j})
		}
		return ops
	}
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, op{' ', a[i], i, j})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			// Removals first, as diff(1) shows a changed line.
			ops = append(ops, op{'-', a[i], i, j})
			i++
		default:
			ops = append(ops, op{'+', b[j], i, j})
			j++
		}
	}
	return ops
}
