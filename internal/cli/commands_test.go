package cli

import (
	"strings"
	"testing"
)

// walk calls f with every command of the table and its path ("dlq
// replay").
func walk(c *command, path string, f func(c *command, path string)) {
	for _, sub := range c.children {
		p := strings.TrimSpace(path + " " + sub.name)
		f(sub, p)
		walk(sub, p, f)
	}
}

// TestEveryCommandHelp: -h and -help on every command and subcommand of
// the table print its usage, its flags and its example, exit 0, and write
// nothing to stdout; every example is a command line of that command.
func TestEveryCommandHelp(t *testing.T) {
	n := 0
	walk(root, "", func(c *command, path string) {
		n++
		t.Run(path, func(t *testing.T) {
			if c.summary == "" || c.example == "" {
				t.Fatalf("no summary or no example in the table: %+v", c)
			}
			if c.example != "hookgate "+path && !strings.HasPrefix(c.example, "hookgate "+path+" ") {
				t.Errorf("example %q is not a command line of hookgate %s", c.example, path)
			}
			if (c.run == nil) != (c.usage == "") {
				t.Errorf("usage %q, but runs on flags: %v (a command that runs has a usage, a pure parent none)", c.usage, c.run != nil)
			}
			for _, h := range []string{"-h", "-help"} {
				args := append(strings.Fields(path), h)
				code, stdout, stderr := run(t, "", args...)
				if code != 0 || stdout != "" {
					t.Errorf("%v: exit %d, stdout %q, want exit 0 and nothing", args, code, stdout)
				}
				if !strings.Contains(stderr, "\nExample:\n  "+c.example+"\n") {
					t.Errorf("%v: no example in\n%s", args, stderr)
				}
				if c.run != nil {
					if !strings.Contains(stderr, "Usage: hookgate "+path+" "+c.usage+"\n") {
						t.Errorf("%v: no usage line %q in\n%s", args, c.usage, stderr)
					}
					if !strings.Contains(stderr, "\n  -") {
						t.Errorf("%v: no flags in\n%s", args, stderr)
					}
				}
				for _, sub := range c.children {
					if !strings.Contains(stderr, sub.name) {
						t.Errorf("%v: subcommand %q not in\n%s", args, sub.name, stderr)
					}
				}
			}
		})
	})
	if n < 25 {
		t.Errorf("walked %d commands; the table lost some", n)
	}
}

// TestTopLevelHelp: the top-level help lists every command of the table
// with its summary.
func TestTopLevelHelp(t *testing.T) {
	code, _, stderr := run(t, "", "-h")
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	for _, c := range root.children {
		if !strings.Contains(stderr, "  "+c.name+" ") || !strings.Contains(stderr, c.summary) {
			t.Errorf("%s is not listed:\n%s", c.name, stderr)
		}
	}
	if code, _, _ := run(t, ""); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
	code, _, stderr = run(t, "", "frob")
	if code != 2 || !strings.HasPrefix(stderr, "hookgate: unknown command \"frob\"\n") || !strings.Contains(stderr, "  destinations ") {
		t.Errorf("unknown command: exit %d\n%s", code, stderr)
	}
}

// TestUnknownSubcommand: an unknown subcommand exits 2 with an error that
// names every subcommand there is; a parent that does not run alone
// prints its usage without one.
func TestUnknownSubcommand(t *testing.T) {
	walk(root, "", func(c *command, path string) {
		if len(c.children) == 0 {
			return
		}
		code, stdout, stderr := run(t, "", append(strings.Fields(path), "frob")...)
		first, _, _ := strings.Cut(stderr, "\n")
		if code != 2 || stdout != "" || !strings.HasPrefix(first, "hookgate "+path+": unknown subcommand \"frob\" (want ") {
			t.Errorf("%s frob: exit %d, stderr\n%s", path, code, stderr)
		}
		for _, sub := range c.children {
			if !strings.Contains(first, sub.name) {
				t.Errorf("%s frob: %q does not name %s", path, first, sub.name)
			}
		}
		if c.run == nil {
			code, _, stderr := run(t, "", strings.Fields(path)...)
			if code != 2 || !strings.HasPrefix(stderr, "Usage: hookgate "+path+" ") {
				t.Errorf("%s alone: exit %d, stderr\n%s", path, code, stderr)
			}
		}
	})
}
