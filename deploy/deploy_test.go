package deploy_test

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/telemetry"

	// The plugins the shipped configs use.
	_ "github.com/hookgate/hookgate/plugins/standard"
)

// repoRoot is the repository, seen from this package's folder.
const repoRoot = ".."

// installedConfig is where every deployment reads its config: the Dockerfile
// copies deploy/config.hcl there, the systemd unit's instructions install
// it there, and the Kubernetes manifests mount their ConfigMap's folder
// there.
const installedConfig = "/etc/hookgate/config.hcl"

// binDir holds the binary the Dockerfile's build line makes; TestMain
// removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// ---------------------------------------------------------------------------
// The Dockerfile

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case: FROM, RUN, ARG, …
	args string
}

// stage is one FROM and what follows it.
type stage struct {
	from, name string
	ins        []instruction
}

// readDockerfile parses the repository's Dockerfile into its stages.
func readDockerfile(tb testing.TB) []stage {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		tb.Fatal(err)
	}
	var stages []stage
	var cur strings.Builder
	start := 0
	for i, l := range strings.Split(string(raw), "\n") {
		t := strings.TrimSpace(l)
		if cur.Len() == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasPrefix(t, "#") { // a comment inside a continued instruction
			continue
		}
		if s, ok := strings.CutSuffix(t, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(t)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		cur.Reset()
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			st := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			continue // ARG before the first FROM
		}
		stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
	}
	return stages
}

// all returns the stage's instructions named cmd.
func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.ins {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// jsonForm decodes an exec-form (JSON array) argument list.
func jsonForm(tb testing.TB, in instruction) []string {
	tb.Helper()
	var v []string
	if err := json.Unmarshal([]byte(in.args), &v); err != nil {
		tb.Fatalf("Dockerfile:%d: %s wants the JSON (exec) form: %v", in.line, in.cmd, err)
	}
	return v
}

// shellWords splits s as sh would split a simple command: single and double
// quotes, backslash escapes, and $NAME / ${NAME} expanded from vars (unset:
// empty). It is enough for the Dockerfile's build line, not a shell.
func shellWords(s string, vars map[string]string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord, single, double := false, false, false
	expand := func(i int) int { // s[i] == '$'; returns the index after the name
		j := i + 1
		var name string
		if j < len(s) && s[j] == '{' {
			end := strings.IndexByte(s[j:], '}')
			if end < 0 {
				return len(s)
			}
			name, j = s[j+1:j+end], j+end+1
		} else {
			for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			name = s[i+1 : j]
		}
		w.WriteString(vars[name])
		return j
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case single:
			if c == '\'' {
				single = false
			} else {
				w.WriteByte(c)
			}
			i++
		case c == '\\' && i+1 < len(s):
			w.WriteByte(s[i+1])
			inWord = true
			i += 2
		case c == '$' && i+1 < len(s) && s[i+1] != ' ':
			before := w.Len()
			i = expand(i)
			// Unquoted, an empty expansion makes no word ($EMPTY alone).
			inWord = inWord || double || w.Len() > before
		case double:
			if c == '"' {
				double = false
			} else {
				w.WriteByte(c)
			}
			i++
		case c == '\'':
			single, inWord = true, true
			i++
		case c == '"':
			double, inWord = true, true
			i++
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
			i++
		case c == '&' || c == ';' || c == '|':
			return nil, fmt.Errorf("%q: one command, please (found %q)", s, c)
		default:
			w.WriteByte(c)
			inWord = true
			i++
		}
	}
	if single || double {
		return nil, fmt.Errorf("%q: unterminated quote", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

func TestShellWords(t *testing.T) {
	vars := map[string]string{"V": "v1.2.3", "EMPTY": ""}
	tests := []struct {
		in   string
		want []string
	}{
		{`go build -o /out/x .`, []string{"go", "build", "-o", "/out/x", "."}},
		{`A=0 go build -ldflags="-s -X p.V=${V}" .`, []string{"A=0", "go", "build", "-ldflags=-s -X p.V=v1.2.3", "."}},
		{`x '$V' "$V" $EMPTY ${UNSET}y`, []string{"x", "$V", "v1.2.3", "y"}},
		{`a\ b "c d"`, []string{"a b", "c d"}},
	}
	for _, tt := range tests {
		got, err := shellWords(tt.in, vars)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("shellWords(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := shellWords(`go build . && rm -rf /`, nil); err == nil {
		t.Error("two commands were taken for one")
	}
}

// goBuild is the Dockerfile's `go build` line, ready to run here.
type goBuild struct {
	line   int
	env    []string // NAME=value: the stage's ARG defaults and ENV, then the line's own
	args   []string // after "go"
	output string   // the -o argument in the Dockerfile
}

// dockerBuild finds the one RUN line of the Dockerfile that runs go build.
func dockerBuild(tb testing.TB) goBuild {
	tb.Helper()
	var found []goBuild
	for _, st := range readDockerfile(tb) {
		vars := map[string]string{}
		var env []string
		for _, in := range st.ins {
			switch in.cmd {
			case "ARG", "ENV":
				for _, kv := range mustWords(tb, in, vars) {
					k, v, ok := strings.Cut(kv, "=")
					if !ok && in.cmd == "ENV" { // ENV K V, the old form
						f := strings.SplitN(in.args, " ", 2)
						k, v = f[0], strings.TrimSpace(f[1])
					}
					vars[k] = v
					env = append(env, k+"="+v)
					if !ok && in.cmd == "ENV" {
						break
					}
				}
			case "RUN":
				words := mustWords(tb, in, vars)
				for len(words) > 0 && strings.HasPrefix(words[0], "--") { // --mount=…
					words = words[1:]
				}
				b := goBuild{line: in.line, env: slices.Clone(env)}
				for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
					b.env = append(b.env, words[0])
					words = words[1:]
				}
				if len(words) < 2 || words[0] != "go" || words[1] != "build" {
					continue
				}
				b.args = words[1:]
				for i, a := range b.args {
					if a == "-o" && i+1 < len(b.args) {
						b.output = b.args[i+1]
					}
				}
				found = append(found, b)
			}
		}
	}
	if len(found) != 1 {
		tb.Fatalf("the Dockerfile has %d RUN lines with go build; want one, the line this test runs", len(found))
	}
	return found[0]
}

func mustWords(tb testing.TB, in instruction, vars map[string]string) []string {
	tb.Helper()
	w, err := shellWords(in.args, vars)
	if err != nil {
		tb.Fatalf("Dockerfile:%d: %v", in.line, err)
	}
	return w
}

// lookup returns the value of NAME in env (NAME=value lines), last one wins.
func lookup(env []string, name string) (string, bool) {
	v, ok := "", false
	for _, kv := range env {
		if k, val, _ := strings.Cut(kv, "="); k == name {
			v, ok = val, true
		}
	}
	return v, ok
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// hookgate returns the binary built by the Dockerfile's own build line (the
// same command, flags and environment; only the -o path differs), built
// once for every test of the package.
func hookgate(t *testing.T) string {
	t.Helper()
	b := dockerBuild(t)
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "hookgate-deploy-")
		if buildErr != nil {
			return
		}
		binary = filepath.Join(binDir, "hookgate")
		args := slices.Clone(b.args)
		for i := range args {
			if i > 0 && args[i-1] == "-o" {
				args[i] = binary
			}
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = repoRoot
		// The golang image's environment, not this machine's: Go's
		// default -buildvcs=auto (a go env file here may say false, and an
		// empty GOFLAGS would not override it), and the Dockerfile's own
		// CGO_ENABLED, GOOS and the rest.
		for _, kv := range os.Environ() {
			switch k, _, _ := strings.Cut(kv, "="); k {
			case "GOFLAGS", "CGO_ENABLED", "GOOS", "GOARCH", "GOEXPERIMENT", "GOARM", "GOAMD64":
			default:
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "GOFLAGS=-buildvcs=auto")
		cmd.Env = append(cmd.Env, b.env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("Dockerfile:%d: go %s: %v\n%s", b.line, strings.Join(args, " "), err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// TestDockerfileBuild runs the Dockerfile's build line and checks what it
// makes: a static binary (the final image has no libc) that runs.
func TestDockerfileBuild(t *testing.T) {
	b := dockerBuild(t)
	if v, _ := lookup(b.env, "CGO_ENABLED"); v != "0" {
		t.Errorf("Dockerfile:%d: CGO_ENABLED=%q; want 0 (a static binary for a distroless or scratch image)", b.line, v)
	}
	if !slices.Contains(b.args, "-trimpath") {
		t.Errorf("Dockerfile:%d: go build without -trimpath", b.line)
	}
	if b.output == "" {
		t.Fatalf("Dockerfile:%d: go build without -o", b.line)
	}
	bin := hookgate(t)

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary asks for a dynamic loader: not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v: not static", libs)
	}

	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "hookgate ") {
		t.Errorf("hookgate version: %v\n%s", err, out)
	}
}

// TestDockerfileImage checks the final image against the config it ships:
// non-root, the store's folder a VOLUME, the config's ports exposed,
// SIGTERM to stop, and the entrypoint `run` with flags that exist.
func TestDockerfileImage(t *testing.T) {
	stages := readDockerfile(t)
	final := stages[len(stages)-1]
	if !strings.HasPrefix(final.from, "gcr.io/distroless/static") && final.from != "scratch" {
		t.Errorf("final image FROM %s; want distroless static or scratch", final.from)
	}
	if !strings.HasSuffix(final.from, ":nonroot") && final.from != "scratch" {
		t.Errorf("final image FROM %s; want the :nonroot variant", final.from)
	}

	users := final.all("USER")
	if len(users) == 0 {
		t.Fatal("the final image has no USER: it would run as root")
	}
	uid, _, _ := strings.Cut(users[len(users)-1].args, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %s: want a numeric non-root uid (Kubernetes's runAsNonRoot can only check a number)", users[len(users)-1].args)
	}

	var copied = map[string]string{} // destination → source
	for _, in := range final.all("COPY") {
		var words []string
		for _, w := range strings.Fields(in.args) {
			if !strings.HasPrefix(w, "--") {
				words = append(words, w)
			}
		}
		copied[words[len(words)-1]] = words[0]
	}
	if src := copied[installedConfig]; src != "deploy/config.hcl" {
		t.Errorf("%s comes from %q; want deploy/config.hcl", installedConfig, src)
	}
	cfg := loadShipped(t, "deploy/config.hcl", envFile(t, "deploy/hookgate.env.example"))

	eps := final.all("ENTRYPOINT")
	if len(eps) != 1 {
		t.Fatalf("%d ENTRYPOINTs; want one", len(eps))
	}
	ep := jsonForm(t, eps[0])
	if _, ok := copied[ep[0]]; !ok {
		t.Errorf("ENTRYPOINT %s: the image copies no file there", ep[0])
	}
	checkRunArgs(t, "Dockerfile ENTRYPOINT", ep[1:])
	if want := []string{"run", "-config", installedConfig}; !slices.Equal(ep[1:], want) {
		t.Errorf("ENTRYPOINT arguments %q; want %q", ep[1:], want)
	}

	var volumes []string
	for _, in := range final.all("VOLUME") {
		volumes = append(volumes, jsonForm(t, in)...)
	}
	if cfg.Storage.Kind != "embedded" || !under(cfg.Storage.Path, volumes...) {
		t.Errorf("the store (%s %s) is not on a VOLUME (%q)", cfg.Storage.Kind, cfg.Storage.Path, volumes)
	}
	if dir := path.Dir(cfg.Storage.Path); copied[dir] == "" {
		t.Errorf("the image does not create %s for its non-root user (a fresh volume would be root's)", dir)
	}

	var exposed []int
	for _, in := range final.all("EXPOSE") {
		for _, p := range strings.Fields(in.args) {
			n, err := strconv.Atoi(strings.TrimSuffix(p, "/tcp"))
			if err != nil {
				t.Errorf("EXPOSE %s: %v", p, err)
			}
			exposed = append(exposed, n)
		}
	}
	slices.Sort(exposed)
	want := []int{port(t, cfg.Gateway.Listen), port(t, cfg.Gateway.AdminListen)}
	slices.Sort(want)
	if !slices.Equal(exposed, want) {
		t.Errorf("EXPOSE %v; deploy/config.hcl listens on %v (ingest %s, admin %s)", exposed, want, cfg.Gateway.Listen, cfg.Gateway.AdminListen)
	}
	for _, addr := range []string{cfg.Gateway.Listen, cfg.Gateway.AdminListen} {
		if h, _, _ := net.SplitHostPort(addr); h != "0.0.0.0" && h != "" && h != "::" {
			t.Errorf("deploy/config.hcl listens on %s: a published container port needs every interface", addr)
		}
	}

	stops := final.all("STOPSIGNAL")
	if len(stops) != 1 || signalNamed(stops[0].args) != syscall.SIGTERM {
		t.Errorf("STOPSIGNAL %v; want SIGTERM, which `run` drains on", stops)
	}
}

// TestDockerignore: the build context leaves out history and local state,
// and keeps what the build and the image need.
func TestDockerignore(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, strings.TrimSuffix(l, "/"))
		}
	}
	ignored := func(p string) bool {
		for _, pat := range patterns {
			pat = strings.TrimPrefix(pat, "**/")
			for q := p; q != "."; q = path.Dir(q) {
				if ok, _ := path.Match(pat, q); ok {
					return true
				}
				if ok, _ := path.Match(pat, path.Base(q)); ok && strings.HasPrefix(pat, "*") {
					return true
				}
			}
		}
		return false
	}
	for _, p := range []string{".git", "data/hookgate.db"} {
		if !ignored(p) {
			t.Errorf(".dockerignore does not leave out %s", p)
		}
	}
	for _, p := range []string{"go.mod", "go.sum", "main.go", "deploy/config.hcl", "internal/admin/static", "internal/config/config.go"} {
		if ignored(p) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", p)
		}
	}
}

// ---------------------------------------------------------------------------
// hookgate version

func TestVersion(t *testing.T) {
	bin := hookgate(t)
	out, err := exec.Command(bin, "version", "-json").Output()
	if err != nil {
		t.Fatalf("version -json: %v", err)
	}
	var info struct {
		Version   *string `json:"version"`
		Commit    *string `json:"commit"`
		Modified  *bool   `json:"modified"`
		GoVersion *string `json:"go_version"`
		Platform  *string `json:"platform"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("version -json: %v\n%s", err, out)
	}
	if info.Version == nil || *info.Version == "" || info.Commit == nil || info.Modified == nil ||
		info.GoVersion == nil || *info.GoVersion != runtime.Version() || info.Platform == nil || *info.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Fatalf("version -json: a field is missing or wrong:\n%s", out)
	}

	// Built inside a git checkout (as here, unless the source came without
	// its history): Go records the commit, and derives a version from it.
	// Go stamps only a checkout whose .git is a folder (not a linked
	// worktree, whose .git is a file).
	fi, statErr := os.Stat(filepath.Join(repoRoot, ".git"))
	if head, err := exec.Command("git", "-C", repoRoot, "rev-parse", "HEAD").Output(); err == nil && len(bytes.TrimSpace(head)) == 40 && statErr == nil && fi.IsDir() {
		if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(*info.Commit) {
			t.Errorf("commit %q; want the checkout's revision", *info.Commit)
		} else if err := exec.Command("git", "-C", repoRoot, "cat-file", "-e", *info.Commit+"^{commit}").Run(); err != nil {
			t.Errorf("commit %s is not a commit of this repository", *info.Commit)
		}
		if *info.Version == "dev" {
			t.Errorf("version %q; a build in a git checkout has a version from its revision", *info.Version)
		}
	}

	text, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(text)), "\n")
	commit := *info.Commit
	if commit == "" {
		commit = "unknown"
	}
	if len(lines) != 3 || lines[0] != "hookgate "+*info.Version ||
		!strings.HasPrefix(lines[1], "commit:") || !strings.Contains(lines[1], commit) ||
		!strings.HasPrefix(lines[2], "go:") || !strings.Contains(lines[2], runtime.Version()) {
		t.Errorf("hookgate version printed\n%s\nwant the version, the commit and the Go version, agreeing with -json:\n%s", text, out)
	}
}

// ---------------------------------------------------------------------------
// What every deployment shares

// envFile reads NAME=value lines (docker's --env-file, systemd's
// EnvironmentFile) from a file of the repository.
func envFile(tb testing.TB, name string) map[string]string {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		tb.Fatal(err)
	}
	env := map[string]string{}
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			tb.Fatalf("%s: %q is not NAME=value", name, l)
		}
		env[k] = v
	}
	return env
}

// loadShipped loads a shipped config with the real loader, env() reading
// only env: a variable the deployment does not provide is an error.
func loadShipped(tb testing.TB, name string, env map[string]string) *config.Config {
	tb.Helper()
	file := filepath.Join(repoRoot, name)
	src, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	l := &config.Loader{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	cfg, diags := l.LoadBytes(src, file)
	if diags.HasErrors() {
		var b strings.Builder
		config.WriteDiagnostics(&b, diags, l.Files())
		tb.Fatalf("%s does not load with the environment its deployment provides:\n%s", name, b.String())
	}
	tb.Cleanup(func() { cfg.Close() })
	return cfg
}

// port returns addr's port number.
func port(tb testing.TB, addr string) int {
	tb.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// under reports whether file is inside one of dirs.
func under(file string, dirs ...string) bool {
	for _, d := range dirs {
		if rel, err := filepath.Rel(d, file); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			return true
		}
	}
	return false
}

// stopBudget is how long `run` may take to stop after SIGTERM under cfg:
// ingest requests in flight get shutdown_timeout, then the delivery attempts
// in flight finish, each within its destination's timeout.
func stopBudget(cfg *config.Config) time.Duration {
	var longest time.Duration
	for _, d := range cfg.Destinations {
		longest = max(longest, d.Timeout)
	}
	return cfg.Gateway.ShutdownTimeout + longest
}

// signalNamed maps "SIGHUP", "HUP", "-HUP" or "1" to the signal.
func signalNamed(s string) syscall.Signal {
	s = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "-")
	s = strings.TrimPrefix(s, "SIG")
	switch s {
	case "HUP", "1":
		return syscall.SIGHUP
	case "INT", "2":
		return syscall.SIGINT
	case "TERM", "15":
		return syscall.SIGTERM
	case "KILL", "9":
		return syscall.SIGKILL
	case "QUIT", "3":
		return syscall.SIGQUIT
	}
	return 0
}

var (
	runFlagsOnce sync.Once
	runFlags     map[string]bool
)

// checkRunArgs checks that args are `run` followed by flags that `hookgate
// run -h` lists, and returns the value of -config.
func checkRunArgs(t *testing.T, where string, args []string) string {
	t.Helper()
	bin := hookgate(t)
	runFlagsOnce.Do(func() {
		out, _ := exec.Command(bin, "run", "-h").CombinedOutput()
		runFlags = map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z-]+)`).FindAllStringSubmatch(string(out), -1) {
			runFlags[m[1]] = true
		}
	})
	if len(args) == 0 || args[0] != "run" {
		t.Errorf("%s: %q does not start the gateway (run)", where, args)
		return ""
	}
	var configPath string
	for i := 1; i < len(args); i++ {
		name, val, hasVal := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") || !runFlags[name] {
			t.Errorf("%s: %q is not a flag of hookgate run (%v)", where, args[i], runFlags)
			continue
		}
		if name == "watch" {
			continue
		}
		if !hasVal && i+1 < len(args) {
			i++
			val = args[i]
		}
		if name == "config" {
			configPath = val
		}
	}
	return configPath
}

// TestProbesAndMetrics: the paths every deployment probes answer 200 on the
// real admin server when the kubelet (another machine's address) asks with
// no token, while /metrics needs the token, as the manifests' notes say.
func TestProbesAndMetrics(t *testing.T) {
	cfg := loadShipped(t, "deploy/config.hcl", envFile(t, "deploy/hookgate.env.example"))
	metrics, err := telemetry.NewMetrics()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { metrics.Shutdown(context.Background()) })
	h := (&admin.Server{Current: func() *config.Config { return cfg }, Store: pingStore{}, Metrics: metrics}).Handler()
	get := func(path, token string) int {
		r := httptest.NewRequest(http.MethodGet, "http://10.0.0.7:8081"+path, nil)
		r.RemoteAddr = "10.0.0.1:40000"
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	paths := map[string]bool{}
	for _, m := range kubernetesManifests(t) {
		for _, c := range m.deployment.Spec.Template.Spec.Containers {
			paths[c.LivenessProbe.HTTPGet.Path] = true
			paths[c.ReadinessProbe.HTTPGet.Path] = true
		}
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if !paths[p] {
			t.Errorf("no manifest probes %s", p)
		}
	}
	for p := range paths {
		if code := get(p, ""); code != http.StatusOK {
			t.Errorf("GET %s without a token from another machine: %d; a probe wants 200", p, code)
		}
	}
	if code := get("/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /metrics without a token: %d; the notes say it needs the token", code)
	}
	if code := get("/metrics", cfg.Gateway.AdminToken.Reveal()); code != http.StatusOK {
		t.Errorf("GET /metrics with the token: %d", code)
	}
}

// pingStore is a store that answers /readyz's ping; the probes touch
// nothing else.
type pingStore struct{ admin.Store }

func (pingStore) Ping(context.Context) error { return nil }

// ---------------------------------------------------------------------------
// Signals, on the real binary

// runGateway starts the built binary on a small config on loopback and
// waits until it listens; the returned function waits for its exit.
func runGateway(t *testing.T) (*exec.Cmd, *logWatch) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.hcl")
	src := `gateway {
  listen           = "127.0.0.1:0"
  admin_listen     = "127.0.0.1:0"
  shutdown_timeout = "5s"
}
storage "embedded" { path = "hookgate.db" }
`
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(hookgate(t), "run", "-config", cfg)
	lw := &logWatch{}
	cmd.Stderr = lw
	cmd.Env = append(os.Environ(), "HOOKGATE_CONFIG=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	lw.wait(t, "hookgate listening")
	return cmd, lw
}

// logWatch collects a process's log and lets a test wait for a line.
type logWatch struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logWatch) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logWatch) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// wait polls the log for s (the process logs as it goes; there is nothing
// else to wait on) for up to 30 s.
func (l *logWatch) wait(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(l.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", s, l.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkSignals sends the reload signal (the process must reload and keep
// running) and then the stop signal (it must drain and exit 0) to `run`.
func checkSignals(t *testing.T, reload, stop syscall.Signal) {
	t.Helper()
	cmd, lw := runGateway(t)
	if reload != 0 {
		if err := cmd.Process.Signal(reload); err != nil {
			t.Fatal(err)
		}
		lw.wait(t, "config reload")
	}
	if err := cmd.Process.Signal(stop); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) || err != nil {
		t.Fatalf("after %v hookgate run exited with %v; want 0\n%s", stop, err, lw.String())
	}
	if !strings.Contains(lw.String(), "shutting down") {
		t.Errorf("after %v: no drain in the log:\n%s", stop, lw.String())
	}
}
