package jsondiff

import (
	"strings"
	"testing"
)

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{`{"a":1,"b":[1,2]}`, `{ "b": [1, 2], "a": 1 }`, true},
		{`{"a":1}`, `{"a":2}`, false},
		{`{"a":1}`, `{"a":1.0}`, false},
		{`[1,2]`, `[2,1]`, false},
		{`not json`, `not json`, true},
		{`not json`, `{"a":1}`, false},
	}
	for _, tt := range tests {
		if got := Equal([]byte(tt.a), []byte(tt.b)); got != tt.want {
			t.Errorf("Equal(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestDiff(t *testing.T) {
	if d := Diff("want", "got", []byte(`{"b":1,"a":2}`), []byte(`{"a":2,"b":1}`)); d != "" {
		t.Errorf("equal documents diff:\n%s", d)
	}
	a := `{"creator":"minimuffin8888","platform":"tiktok","kind":"creator_insights","n":1}`
	b := `{"creator":"minimuffin8888","platform":"instagram","kind":"creator_insights","n":1,"extra":true}`
	want := `--- want
+++ got
@@ -1,6 +1,7 @@
 {
   "creator": "minimuffin8888",
+  "extra": true,
   "kind": "creator_insights",
   "n": 1,
-  "platform": "tiktok"
+  "platform": "instagram"
 }
`
	if got := Diff("want", "got", []byte(a), []byte(b)); got != want {
		t.Errorf("Diff:\n%s\nwant:\n%s", got, want)
	}
}

func TestUnifiedHunks(t *testing.T) {
	var a, b []string
	for i := range 30 {
		l := strings.Repeat("x", i%7) + string(rune('a'+i%26))
		a = append(a, l)
		b = append(b, l)
	}
	b[2] = "changed near the top"
	b[25] = "changed near the end"
	got := Unified("a", "b", strings.Join(a, "\n")+"\n", strings.Join(b, "\n")+"\n")
	if n := strings.Count(got, "@@ -"); n != 2 {
		t.Errorf("want two hunks, got %d:\n%s", n, got)
	}
	for _, want := range []string{"@@ -1,6 +1,6 @@\n", "-" + a[2] + "\n", "+changed near the top\n", "+changed near the end\n", "@@ -23,7 +23,7 @@\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if Unified("a", "b", "same\n", "same\n") != "" {
		t.Error("equal texts diff")
	}
	if got := Unified("a", "b", "", "new\n"); got != "--- a\n+++ b\n@@ -0,0 +1 @@\n+new\n" {
		t.Errorf("from empty: %q", got)
	}
}
