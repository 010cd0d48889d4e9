package config

import (
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// blockDigests maps "type label..." of each top-level block of body to the
// hex SHA-256 of its text in src (blocks sharing a key: of their texts in
// order). Digests, not texts: a block may hold a secret inline.
func blockDigests(src []byte, body hcl.Body) map[string]string {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	texts := map[string][]byte{}
	for _, b := range sb.Blocks {
		key := strings.Join(append([]string{b.Type}, b.Labels...), " ")
		r := b.Range()
		texts[key] = append(texts[key], src[r.Start.Byte:r.End.Byte]...)
	}
	m := make(map[string]string, len(texts))
	for k, t := range texts {
		m[k] = fileHash(t)
	}
	return m
}

// Diff names what changed from old to next, as a reload reports it: each
// source, destination, route and alert "added", "removed" or "changed"
// ("route billing changed"), then "gateway changed", "storage changed",
// "telemetry changed" and "schema changed" for those blocks; ["none"] when
// nothing did. A block changed when its text in the file did (a comment
// inside it counts; moving it does not). When either config was not
// loaded from a file (built by hand), only additions and removals are
// told.
func Diff(old, next *Config) []string {
	texts := old.blocks != nil && next.blocks != nil
	var out []string
	diff := func(kind string, oldNames, newNames []string) {
		for _, n := range newNames {
			key := kind + " " + n
			switch {
			case !slices.Contains(oldNames, n):
				out = append(out, key+" added")
			case texts && old.blocks[key] != next.blocks[key]:
				out = append(out, key+" changed")
			}
		}
		for _, n := range oldNames {
			if !slices.Contains(newNames, n) {
				out = append(out, kind+" "+n+" removed")
			}
		}
	}
	diff("source", blockNames(old.Sources, (*Source).name), blockNames(next.Sources, (*Source).name))
	diff("destination", blockNames(old.Destinations, (*Destination).name), blockNames(next.Destinations, (*Destination).name))
	diff("route", blockNames(old.Routes, (*Route).name), blockNames(next.Routes, (*Route).name))
	diff("alert", blockNames(old.Alerts, (*Alert).name), blockNames(next.Alerts, (*Alert).name))
	if texts {
		for _, kind := range []string{"gateway", "storage", "telemetry", "schema"} {
			if blocksOf(old.blocks, kind) != blocksOf(next.blocks, kind) {
				out = append(out, kind+" changed")
			}
		}
	}
	if len(out) == 0 {
		out = []string{"none"}
	}
	return out
}

func (s *Source) name() string      { return s.Name }
func (d *Destination) name() string { return d.Name }
func (r *Route) name() string       { return r.Name }
func (a *Alert) name() string       { return a.Name }

// blockNames returns the names of blocks, in order.
func blockNames[B any](blocks []B, name func(B) string) []string {
	s := make([]string, len(blocks))
	for i, b := range blocks {
		s[i] = name(b)
	}
	return s
}

// blocksOf is the digest of every block of kind in m, in a stable order.
func blocksOf(m map[string]string, kind string) string {
	var keys []string
	for k := range m {
		if k == kind || strings.HasPrefix(k, kind+" ") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "\x00" + m[k] + "\x00")
	}
	return b.String()
}
