package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/store/embedded"
)

// files lists dir's entries, hidden ones (a temporary file) included.
func files(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestBackupCommand(t *testing.T) {
	f := newAdminFixture(t)
	auth := []string{"-admin", f.url, "-token", testAdminToken}

	t.Run("saves a verified copy", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "hookgate.db")
		code, out, errOut := runAdmin(t, nil, append([]string{"backup", "-o", path}, auth...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if want := "(" + strconv.FormatInt(fi.Size(), 10) + " bytes) to " + path; !strings.HasPrefix(out, "backed up ") || !strings.Contains(out, want) {
			t.Errorf("stdout %q, want the size and path: %q", out, want)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("the backup's mode is %v, want 0600: it holds every payload", fi.Mode().Perm())
		}
		if got := files(t, dir); len(got) != 1 {
			t.Errorf("the folder holds %v, want the backup alone", got)
		}
		if err := embedded.Verify(path); err != nil {
			t.Fatal(err)
		}
		st, err := embedded.Open(path, embedded.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if d, _, err := st.Delivery(t.Context(), f.dead); err != nil || d.Status != "dead" {
			t.Errorf("the dead delivery in the backup: %+v, %v", d, err)
		}
	})

	t.Run("-o is required", func(t *testing.T) {
		for _, args := range [][]string{{"backup"}, {"backup", "-o", "-"}} {
			code, _, errOut := runAdmin(t, nil, append(args, auth...)...)
			if code != 2 || !strings.Contains(errOut, "-o") {
				t.Errorf("%v: exit %d, stderr %q; want 2 and a word on -o", args, code, errOut)
			}
		}
	})

	t.Run("keeps an existing file unless -force", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "hookgate.db")
		if err := os.WriteFile(path, []byte("yesterday's backup"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runAdmin(t, nil, append([]string{"backup", "-o", path}, auth...)...)
		if code != 1 || !strings.Contains(errOut, "exists; pass -force to replace it") {
			t.Errorf("exit %d, stderr %q; want 1 and a word on -force", code, errOut)
		}
		if b, _ := os.ReadFile(path); string(b) != "yesterday's backup" {
			t.Errorf("the existing file was changed")
		}
		code, _, errOut = runAdmin(t, nil, append([]string{"backup", "-o", path, "-force"}, auth...)...)
		if code != 0 {
			t.Fatalf("-force: exit %d: %s", code, errOut)
		}
		if err := embedded.Verify(path); err != nil {
			t.Errorf("after -force: %v", err)
		}
		if got := files(t, dir); len(got) != 1 {
			t.Errorf("the folder holds %v, want the backup alone", got)
		}
	})

	t.Run("refused: no file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "hookgate.db")
		code, _, errOut := runAdmin(t, nil, "backup", "-o", path, "-admin", f.url, "-token", "wrong")
		if code != 1 || !strings.Contains(errOut, "401") {
			t.Errorf("exit %d, stderr %q; want 1 with the 401", code, errOut)
		}
		if got := files(t, dir); len(got) != 0 {
			t.Errorf("a refused backup left %v", got)
		}
	})
}

// TestBackupCommandBadDownloads: a download cut short, one that is not a
// store file, and a file that appeared meanwhile leave nothing behind and
// nothing changed.
func TestBackupCommandBadDownloads(t *testing.T) {
	// A good backup to serve in part.
	f := newAdminFixture(t)
	good := filepath.Join(t.TempDir(), "good.db")
	if code, _, errOut := runAdmin(t, nil, "backup", "-o", good, "-admin", f.url, "-token", testAdminToken); code != 0 {
		t.Fatalf("backup: %s", errOut)
	}
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	var path string // the -o of the case running
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"cut short", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(raw)))
			w.Write(raw[:len(raw)/2])
			// The handler returns short of its Content-Length: the
			// server closes the connection.
		}, "cut short"},
		{"not a store file", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(strings.Repeat("<html>not a backup</html>\n", 1000)))
		}, "not usable, nothing was saved: store: verify the download: not a store file"},
		{"a file appeared meanwhile", func(w http.ResponseWriter, r *http.Request) {
			if err := os.WriteFile(path, []byte("someone else's"), 0o600); err != nil {
				t.Error(err)
			}
			w.Write(raw)
		}, "exists; pass -force to replace it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			dir := t.TempDir()
			path = filepath.Join(dir, "hookgate.db")
			code, _, errOut := runAdmin(t, nil, "backup", "-o", path, "-admin", srv.URL, "-token", testAdminToken)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 with %q", code, errOut, tc.want)
			}
			got := files(t, dir)
			if tc.name == "a file appeared meanwhile" {
				if b, _ := os.ReadFile(path); string(b) != "someone else's" || len(got) != 1 {
					t.Errorf("the folder holds %v, the file %q; want the other file alone, unchanged", got, b)
				}
				return
			}
			if len(got) != 0 {
				t.Errorf("a failed backup left %v", got)
			}
		})
	}
}
