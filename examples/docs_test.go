package examples_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/routing"
)

// recipe is one route of docs/cookbook.md and the outcomes it lists.
type recipe struct {
	line     int    // where the hcl block starts in cookbook.md
	route    string // the route block
	name     string // its label
	outcomes []outcome
}

// outcome is one "- `EVENT` → RESULT" line.
type outcome struct {
	send    string // the code span: [-H 'K: V'...] examples/<platform>/events/<file>
	file    string
	headers http.Header
	result  string // a body, "the event as sent" or "no match"
	// key is the ordering key the delivery carries (", ordering key `K`"
	// after the result), "" when the line names none.
	key string
}

var (
	routeLabel  = regexp.MustCompile(`(?m)^route "([^"]+)"`)
	outcomeLine = regexp.MustCompile("^- `([^`]+)` → (.+)$")
)

// fences returns the fenced code blocks of a Markdown file with the given
// info string, with the line each starts on and the text up to the next
// fence or heading after it.
type fence struct {
	line  int
	code  string
	after string
}

func fences(t *testing.T, path, info string) []fence {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	var out []fence
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```"+info {
			continue
		}
		f := fence{line: i + 1}
		j := i + 1
		for ; j < len(lines) && lines[j] != "```"; j++ {
			f.code += lines[j] + "\n"
		}
		var after []string
		for k := j + 1; k < len(lines) && !strings.HasPrefix(lines[k], "```") && !strings.HasPrefix(lines[k], "#"); k++ {
			after = append(after, lines[k])
		}
		f.after = strings.Join(after, "\n")
		out = append(out, f)
		i = j
	}
	return out
}

func readRecipes(t *testing.T) []recipe {
	t.Helper()
	var out []recipe
	for _, f := range fences(t, filepath.Join(repoRoot, "docs", "cookbook.md"), "hcl") {
		m := routeLabel.FindStringSubmatch(f.code)
		if m == nil {
			continue
		}
		r := recipe{line: f.line, route: f.code, name: m[1]}
		for _, l := range strings.Split(f.after, "\n") {
			om := outcomeLine.FindStringSubmatch(strings.TrimSpace(l))
			if om == nil {
				continue
			}
			res, key, _ := strings.Cut(om[2], ", ordering key ")
			o := outcome{send: om[1], headers: http.Header{}, result: unquote(strings.TrimSpace(res)), key: unquote(strings.TrimSpace(key))}
			for _, hm := range headerArg.FindAllStringSubmatch(o.send, -1) {
				k, v, _ := strings.Cut(hm[1], ":")
				o.headers.Set(strings.TrimSpace(k), strings.TrimSpace(v))
			}
			fields := strings.Fields(o.send)
			o.file = fields[len(fields)-1]
			r.outcomes = append(r.outcomes, o)
		}
		out = append(out, r)
	}
	return out
}

// TestCookbook loads each recipe of docs/cookbook.md into config.hcl (under
// a fresh name) and checks every outcome it lists on the sample events.
func TestCookbook(t *testing.T) {
	base, err := os.ReadFile(filepath.Join(repoRoot, "config.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	recipes := readRecipes(t)
	if len(recipes) < 10 {
		t.Fatalf("found %d recipes in docs/cookbook.md", len(recipes))
	}
	for i, r := range recipes {
		t.Run(r.name, func(t *testing.T) {
			if len(r.outcomes) == 0 {
				t.Fatalf("cookbook.md:%d: the recipe lists no outcome", r.line)
			}
			name := fmt.Sprintf("cookbook_%d", i)
			src := append(bytes.Clone(base), "\n"+routeLabel.ReplaceAllString(r.route, `route "`+name+`"`)...)
			l := &config.Loader{LookupEnv: noEnv}
			cfg, diags := l.LoadBytes(src, filepath.Join(repoRoot, "config.hcl"))
			if diags.HasErrors() {
				t.Fatalf("cookbook.md:%d does not load:\n%s", r.line, diagnosticText(diags, l.Files()))
			}
			defer cfg.Close()
			for _, o := range r.outcomes {
				platform := strings.Split(o.file, "/")[1]
				source := cfg.Source(platform)
				if source == nil {
					t.Fatalf("%s: no source %q", o.send, platform)
				}
				body, err := os.ReadFile(filepath.Join(repoRoot, o.file))
				if err != nil {
					t.Fatal(err)
				}
				res, err := routing.Evaluate(source, o.headers, body)
				if err != nil || res.Rejected() || res.Challenge != nil {
					t.Fatalf("%s: not a routable event (%v)", o.send, err)
				}
				got := "no match"
				for _, rr := range res.Routes {
					if rr.Route.Name != name || !rr.Matched {
						continue
					}
					if len(rr.Deliveries) == 0 {
						t.Fatalf("%s: matched, but %s", o.send, rr.Reason)
					}
					got = string(rr.Deliveries[0].Body)
					if got == string(body) {
						got = "the event as sent"
					}
					if k := rr.Deliveries[0].Key; k != o.key {
						t.Errorf("cookbook.md:%d: %s → ordering key %q, the cookbook says %q", r.line, o.send, k, o.key)
					}
				}
				if got != o.result {
					t.Errorf("cookbook.md:%d: %s →\n  %s\nthe cookbook says\n  %s", r.line, o.send, got, o.result)
				}
			}
		})
	}
}

var faqMarker = regexp.MustCompile(`<!-- faq: (\w+) -->\n` + "```text\n" + `((?s:.*?))` + "```")

// TestFAQDiagnostics: each diagnostic docs/faq.md shows is exactly what
// `hookgate validate` prints for the broken config of the same name in
// testdata/faq (loaded as config.hcl), and every broken config is shown.
func TestFAQDiagnostics(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "docs", "faq.md"))
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, m := range faqMarker.FindAllStringSubmatch(string(raw), -1) {
		name, want := m[1], m[2]
		shown[name] = true
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "faq", name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			l := &config.Loader{LookupEnv: noEnv}
			cfg, diags := l.LoadBytes(src, "config.hcl")
			cfg.Close()
			if len(diags) == 0 {
				t.Fatal("no diagnostics")
			}
			if got := diagnosticText(diags, l.Files()); got != want {
				t.Errorf("faq.md shows\n%s\nhookgate prints\n%s", want, got)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "faq", "*.txt"))
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".txt"); !shown[name] {
			t.Errorf("%s is not shown in docs/faq.md", f)
		}
	}
	if len(shown) < 10 {
		t.Errorf("only %d diagnostics found in docs/faq.md", len(shown))
	}
}

var mdLink = regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)

// pending are guide pages other work adds; a link to them may come first.
var pending = map[string]bool{"docs/redis.md": true, "docs/tracing.md": true, "docs/dashboard.md": true}

// TestGuideLinks: every relative link in the user guide and the examples'
// READMEs points at a file that exists.
func TestGuideLinks(t *testing.T) {
	pages := []string{"docs/README.md", "docs/concepts.md", "docs/cookbook.md", "docs/faq.md", "docs/operating.md", "docs/deploying.md", "docs/changes.md"}
	for _, p := range platforms {
		pages = append(pages, "examples/"+p+"/README.md")
	}
	for _, page := range pages {
		raw, err := os.ReadFile(filepath.Join(repoRoot, page))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(raw), -1) {
			target := m[1]
			if strings.Contains(target, "://") {
				continue
			}
			rel := filepath.ToSlash(filepath.Join(filepath.Dir(page), target))
			if pending[rel] {
				continue
			}
			if _, err := os.Stat(filepath.Join(repoRoot, rel)); err != nil {
				t.Errorf("%s links to %s, which does not exist", page, target)
			}
		}
	}
}
