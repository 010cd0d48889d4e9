package config

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// maxSuggestLen is the longest name, in characters, that "Did you mean"
// looks for or suggests. Names are identifiers; a Levenshtein distance costs
// the product of the two names' lengths, and FuzzLoad found loads of a few
// tens of kilobytes that spent seconds comparing two long names.
const maxSuggestLen = 64

// suggestBudget is how many candidate names one load may compare for "Did
// you mean" suggestions; past it, unknown names are reported without one.
// Every unknown name is compared with every known one, so a file with
// thousands of each (FuzzLoad found such) would otherwise cost millions of
// comparisons. A real config spends a few hundred.
const suggestBudget = 50_000

// didYouMean suggests the name in candidates nearest to given (Levenshtein
// distance below 3, as HCL's own didyoumean), as a sentence to append to a
// detail, or "". It charges the candidates it looks at to the load's
// suggestBudget.
func (c *compiler) didYouMean(given string, candidates []string) string {
	n := utf8.RuneCountInString(given)
	if n > maxSuggestLen {
		return ""
	}
	best, bestDist := "", 3
	for _, cand := range candidates {
		if c.suggestWork >= suggestBudget {
			break
		}
		c.suggestWork++
		// The distance is at least the difference in length.
		m := utf8.RuneCountInString(cand)
		if m > maxSuggestLen || m-n >= bestDist || n-m >= bestDist {
			continue
		}
		if d := levenshtein.Distance(given, cand, nil); d < bestDist {
			best, bestDist = cand, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

func ctyString(v cty.Value) (string, error) {
	if v.Type() != cty.String {
		return "", fmt.Errorf("not a string")
	}
	return v.AsString(), nil
}

// WriteDiagnostics prints each diagnostic as
//
//	file:line:col: summary: detail
//
// followed, when the source is at hand, by the line at fault and a caret
// under the column, the way terraform validate shows them. Warnings carry a
// "warning: " before the summary.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, files map[string]*hcl.File) {
	for _, d := range diags {
		var b strings.Builder
		if d.Subject != nil {
			fmt.Fprintf(&b, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		if d.Severity == hcl.DiagWarning {
			b.WriteString("warning: ")
		}
		b.WriteString(d.Summary)
		if d.Detail != "" {
			b.WriteString(": ")
			b.WriteString(d.Detail)
		}
		b.WriteString("\n")
		if d.Subject != nil {
			if f := files[d.Subject.Filename]; f != nil {
				b.WriteString(snippet(f.Bytes, *d.Subject))
			}
		}
		io.WriteString(w, b.String())
	}
}

// snippet returns the source line of r's start, and a caret line under the
// range (to the end of that line at most).
func snippet(src []byte, r hcl.Range) string {
	lines := bytes.Split(src, []byte("\n"))
	if r.Start.Line < 1 || r.Start.Line > len(lines) {
		return ""
	}
	line := strings.TrimRight(string(lines[r.Start.Line-1]), "\r")
	col := r.Start.Column
	if col < 1 {
		col = 1
	}
	width := 1
	if r.End.Line == r.Start.Line && r.End.Column > col {
		width = r.End.Column - col
	}
	var pad strings.Builder
	for i, ch := range line {
		if i >= col-1 {
			break
		}
		if ch == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	if rest := len([]rune(line)) - (col - 1); width > rest && rest > 0 {
		width = rest
	}
	return fmt.Sprintf("  %s\n  %s%s\n", line, pad.String(), strings.Repeat("^", width))
}

// sortDiagnostics orders diagnostics by where they point, so a user reads
// them top to bottom; those without a range come first.
func sortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		case a.Start.Line != b.Start.Line:
			return a.Start.Line < b.Start.Line
		}
		return a.Start.Column < b.Start.Column
	})
}
