package config

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/spec"
)

// Reference renders the config reference (docs/config.md) from the block
// specs and the plugins in reg, so the docs cannot drift from the decoder.
func Reference(reg *plugins.Registry) []byte {
	var b bytes.Buffer
	b.WriteString(`# Config reference

<!-- Generated from the block specs and the plugin registry by
     go test ./internal/config -run TestReference -update. Do not edit. -->

hookgate reads one HCL file (` + "`config.hcl`" + ` by default, ` + "`-config F`" + ` or
` + "`$HOOKGATE_CONFIG`" + `). It declares **sources** (where webhooks come in and how
they are verified), **schemas** (what their events look like), **routes**
(which events go where) and **destinations** (where they are delivered).
` + "`hookgate validate`" + ` checks a file and prints every problem as
` + "`file:line:col: summary: detail`" + `.

## Values

| kind | written as | examples |
| --- | --- | --- |
| duration | a string: a number and a unit (ms, s, m, h) | ` + "`\"500ms\"`, `\"5s\"`, `\"15m\"`, `\"4h\"`" + ` |
| size | a string: a number and a unit (B, KB, MB, GB, KiB, MiB, GiB) | ` + "`\"512KiB\"`, `\"1MiB\"`" + ` |
| rate | a string: a count per s, m or h | ` + "`\"50/s\"`, `\"1000/m\"`" + ` |
| percent | a string with a percent sign | ` + "`\"10%\"`" + ` |
| secret string | a string that never shows in logs, errors, traces or the admin API | ` + "`env(\"TIKTOK_SECRET\")`" + ` |
| expression | an [expr-lang](https://expr-lang.org) expression inside a string | ` + "`\"connector == 'tiktok'\"`" + ` |

## Functions

| function | returns |
| --- | --- |
| ` + "`env(\"NAME\")`" + ` | the environment variable NAME; an error when it is unset |
| ` + "`env(\"NAME\", \"default\")`" + ` | the variable, or the default when it is unset |
| ` + "`file(\"path\")`" + ` | a file's contents, relative to the config file's folder |
| ` + "`trimspace(s)`, `lower(s)`, `upper(s)`, `join(sep, list)`, `jsonencode(v)`" + ` | as in Terraform |

## Expressions

Inside ` + "`filter`, `transform`, `event_type`, `challenge` and `dedupe`" + ` the payload's
top-level fields are variables (` + "`connector == 'tiktok'`" + `). Besides them:
` + "`$body`" + ` is the whole payload, ` + "`$headers`" + ` the request headers (lower-case
names), ` + "`$source`" + ` the source's name, ` + "`$event`" + ` the event type, and ` + "`now()`" + `
the time. A route's filter and transform are type-checked against the schemas
of the events it takes: a field no schema declares, a comparison of a string
field with a number, or a literal outside a field's enum is an error at load
time, with the line and column.

`)
	for _, blk := range rootBlocks {
		writeBlock(&b, reg, blk, "##")
	}
	b.WriteString("## Plugins\n\n")
	for _, p := range reg.All() {
		blk := p.Block()
		blk.Labels = []string{p.Name}
		var ex bytes.Buffer
		if p.Kind == plugins.KindDestination {
			// A destination kind is a block of its own name inside a
			// destination, instead of url.
			fmt.Fprintf(&b, "### destination kind %s\n\n%s\n\n", p.Name, p.Doc)
			writeAttrs(&b, blk.Attrs)
			fmt.Fprintf(&ex, "destination \"NAME\" {\n  %s {\n", p.Name)
			writeExample(&ex, blk.Attrs, "    ")
			ex.WriteString("  }\n}\n")
			fmt.Fprintf(&b, "```hcl\n%s```\n\n", hclwrite.Format(ex.Bytes()))
			continue
		}
		fmt.Fprintf(&b, "### %s \"%s\"\n\n%s\n\n", p.Kind, p.Name, p.Doc)
		writeAttrs(&b, blk.Attrs)
		fmt.Fprintf(&ex, "%s \"%s\" {\n", p.Kind, p.Name)
		writeExample(&ex, blk.Attrs, "  ")
		ex.WriteString("}\n")
		fmt.Fprintf(&b, "```hcl\n%s```\n\n", hclwrite.Format(ex.Bytes()))
	}
	return b.Bytes()
}

func writeBlock(b *bytes.Buffer, reg *plugins.Registry, blk *spec.Block, level string) {
	title := blk.Type
	for _, l := range blk.Labels {
		if blk.Type == "storage" {
			title += fmt.Sprintf(" \"%s\"", l)
		} else {
			title += fmt.Sprintf(" \"%s\"", strings.ToUpper(l))
		}
	}
	fmt.Fprintf(b, "%s %s\n\n%s", level, title, blk.Doc)
	// The plugins a block may name come from the registry, so the list
	// cannot drift from what the loader accepts.
	switch kind := plugins.Kind(blk.Type); kind {
	case plugins.KindVerify, plugins.KindSign:
		names := reg.Names(kind)
		for i, n := range names {
			names[i] = "`" + n + "`"
		}
		fmt.Fprintf(b, " The %s plugins: %s (see Plugins below).", kind, strings.Join(names, ", "))
	}
	if blk.Repeatable {
		b.WriteString(" May appear more than once.")
	}
	b.WriteString("\n\n")
	if len(blk.Attrs) > 0 {
		writeAttrs(b, blk.Attrs)
	}
	for _, nb := range blk.Blocks {
		writeBlock(b, reg, nb, level+"#")
	}
}

func writeAttrs(b *bytes.Buffer, attrs []spec.Attr) {
	if len(attrs) == 0 {
		b.WriteString("No attributes.\n\n")
		return
	}
	b.WriteString("| attribute | type | default | meaning | example |\n| --- | --- | --- | --- | --- |\n")
	for _, a := range attrs {
		def := "—"
		switch {
		case a.Required:
			def = "required"
		case a.Default != "":
			def = "`" + quoteDefault(a) + "`"
		}
		typ := a.Kind.String()
		if len(a.Enum) > 0 {
			typ += ": " + strings.Join(a.Enum, " \\| ")
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | `%s` |\n", a.Name, typ, def, strings.ReplaceAll(a.Doc, "|", "\\|"), strings.ReplaceAll(a.Example, "|", "\\|"))
	}
	b.WriteString("\n")
}

func writeExample(b *bytes.Buffer, attrs []spec.Attr, indent string) {
	for _, a := range attrs {
		if a.Example != "" && a.Instead == "" {
			fmt.Fprintf(b, "%s%s = %s\n", indent, a.Name, a.Example)
		}
	}
}

func quoteDefault(a spec.Attr) string {
	switch a.Kind {
	case spec.Bool, spec.Int, spec.Number:
		return a.Default
	}
	return `"` + a.Default + `"`
}
