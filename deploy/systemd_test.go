package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unit is a systemd unit file: section → key → values in order (a key may
// repeat; an empty assignment resets the list, as systemd reads it).
type unit map[string]map[string][]string

// readUnit parses a unit file: [Section] headers, Key=Value lines, # and ;
// comments, backslash continuations.
func readUnit(tb testing.TB, name string) unit {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		tb.Fatal(err)
	}
	u := unit{}
	section := ""
	var cont string
	for i, l := range strings.Split(string(raw), "\n") {
		l = strings.TrimSpace(l)
		if cont != "" {
			l, cont = cont+" "+l, ""
		}
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			cont = s
			continue
		}
		if l[0] == '[' && l[len(l)-1] == ']' {
			section = l[1 : len(l)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok || section == "" {
			tb.Fatalf("%s:%d: %q is not Key=Value in a section", name, i+1, l)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if v == "" {
			u[section][k] = []string{""}
			continue
		}
		u[section][k] = append(u[section][k], v)
	}
	return u
}

// get returns the last value of key in [Service] (systemd's rule for
// single-valued settings) and whether it is set.
func (u unit) get(key string) (string, bool) {
	vs := u["Service"][key]
	if len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

// command splits an Exec line into argv, without systemd's prefixes
// (-, @, +, !).
func command(tb testing.TB, line string) []string {
	tb.Helper()
	line = strings.TrimLeft(line, "-@+!:|")
	argv, err := shellWords(line, map[string]string{"MAINPID": "$MAINPID"})
	if err != nil {
		tb.Fatal(err)
	}
	return argv
}

const unitFile = "deploy/systemd/hookgate.service"

func TestSystemdUnit(t *testing.T) {
	u := readUnit(t, unitFile)
	val := func(key string) string {
		t.Helper()
		v, ok := u.get(key)
		if !ok {
			t.Errorf("%s: %s is not set", unitFile, key)
		}
		return v
	}

	// The config it runs: deploy/config.hcl installed as /etc/hookgate/config.hcl,
	// with the secrets of EnvironmentFile (hookgate.env.example lists them).
	start := command(t, val("ExecStart"))
	if start[0] != "/usr/local/bin/hookgate" {
		t.Errorf("ExecStart runs %s; the instructions install /usr/local/bin/hookgate", start[0])
	}
	if p := checkRunArgs(t, "ExecStart", start[1:]); p != installedConfig {
		t.Errorf("ExecStart reads %q; want %s", p, installedConfig)
	}
	if ef := val("EnvironmentFile"); strings.TrimPrefix(ef, "-") != "/etc/hookgate/hookgate.env" {
		t.Errorf("EnvironmentFile=%s; want -/etc/hookgate/hookgate.env", ef)
	}
	cfg := loadShipped(t, "deploy/config.hcl", envFile(t, "deploy/hookgate.env.example"))

	// Reload and stop: the signals `run` handles (TestSystemdSignals sends
	// them to the real binary).
	reload := command(t, val("ExecReload"))
	if len(reload) != 3 || filepath.Base(reload[0]) != "kill" || signalNamed(reload[1]) != syscall.SIGHUP || reload[2] != "$MAINPID" {
		t.Errorf("ExecReload=%q; want /bin/kill -HUP $MAINPID", reload)
	}
	if ks, ok := u.get("KillSignal"); ok && signalNamed(ks) != syscall.SIGTERM {
		t.Errorf("KillSignal=%s; want SIGTERM (systemd's default), which `run` drains on", ks)
	}
	stop, err := time.ParseDuration(val("TimeoutStopSec"))
	if err != nil {
		t.Errorf("TimeoutStopSec: %v (write it with a unit: 45s)", err)
	}
	if budget := stopBudget(cfg); stop <= budget {
		t.Errorf("TimeoutStopSec=%v; the config's shutdown_timeout and longest destination timeout take up to %v", stop, budget)
	}
	if r := val("Restart"); r != "on-failure" && r != "always" {
		t.Errorf("Restart=%s; want on-failure", r)
	}

	// Its own user, and the store inside the StateDirectory it may write.
	if dyn, _ := u.get("DynamicUser"); dyn != "yes" && dyn != "true" {
		if usr, _ := u.get("User"); usr == "" || usr == "root" {
			t.Errorf("neither DynamicUser=yes nor a User of its own")
		}
	}
	state := val("StateDirectory")
	if cfg.Storage.Kind != "embedded" || !under(cfg.Storage.Path, filepath.Join("/var/lib", state)) {
		t.Errorf("the store (%s %s) is not inside StateDirectory=%s (/var/lib/%s): ProtectSystem=strict makes everything else read-only",
			cfg.Storage.Kind, cfg.Storage.Path, state, state)
	}
	for _, rw := range []string{"ReadOnlyPaths", "InaccessiblePaths"} {
		for _, p := range u["Service"][rw] {
			if p != "" && (under(cfg.Storage.Path, strings.Fields(p)...) || slices.Contains(strings.Fields(p), "/var/lib")) {
				t.Errorf("%s=%s hides the store", rw, p)
			}
		}
	}

	// The sandbox.
	want := map[string]string{
		"ProtectSystem":         "strict",
		"ProtectHome":           "yes",
		"PrivateTmp":            "yes",
		"NoNewPrivileges":       "yes",
		"ProtectKernelTunables": "yes",
		"ProtectKernelModules":  "yes",
		"ProtectControlGroups":  "yes",
		"CapabilityBoundingSet": "",
	}
	for k, w := range want {
		if v := val(k); v != w {
			t.Errorf("%s=%s; want %q", k, v, w)
		}
	}
	fams := strings.Fields(val("RestrictAddressFamilies"))
	slices.Sort(fams)
	if !slices.Equal(fams, []string{"AF_INET", "AF_INET6", "AF_UNIX"}) {
		t.Errorf("RestrictAddressFamilies=%v; want AF_INET AF_INET6 AF_UNIX", fams)
	}
}

// TestSystemdSignals sends the unit's reload signal and stop signal to the
// binary the Dockerfile builds: it reloads and keeps running, then drains
// and exits 0 (which Restart=on-failure leaves stopped).
func TestSystemdSignals(t *testing.T) {
	u := readUnit(t, unitFile)
	reload := command(t, u["Service"]["ExecReload"][0])
	stop := syscall.SIGTERM
	if ks, ok := u.get("KillSignal"); ok {
		stop = signalNamed(ks)
	}
	checkSignals(t, signalNamed(reload[1]), stop)
}

// TestSystemdAnalyzeVerify runs systemd's own checker on the unit, with its
// binary paths pointing at the built binary, when systemd-analyze is here.
func TestSystemdAnalyzeVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	raw, err := os.ReadFile(filepath.Join(repoRoot, unitFile))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), "hookgate.service")
	if err := os.WriteFile(tmp, []byte(strings.ReplaceAll(string(raw), "/usr/local/bin/hookgate", hookgate(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", tmp).CombinedOutput()
	if err != nil || strings.Contains(string(out), tmp) {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unitFile, err, out)
	}
}
