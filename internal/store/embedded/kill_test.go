package embedded

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// killEnv names the file the helper process works on.
const killEnv = "HOOKGATE_STORE_KILL_TEST"

// TestKill9 kills a process that holds the file, with attempts in flight
// and deliveries pending, and checks that the next Open takes the file at
// once and that every unfinished delivery is claimable at once.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	path := filepath.Join(t.TempDir(), "hookgate.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Helper$")
	cmd.Env = append(os.Environ(), killEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		ids   []string
		ready bool
	)
	sc := bufio.NewScanner(out)
	for !ready && sc.Scan() {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "delivery "); ok {
			ids = append(ids, id)
		}
		ready = line == "ready"
	}
	if !ready {
		_ = cmd.Wait()
		t.Fatal("helper process ended before it was ready")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(ids) != 20 {
		t.Fatalf("helper reported %d deliveries, want 20", len(ids))
	}

	s := mustOpen(t, path)
	ds, err := s.Claim(context.Background(), "a", time.Now(), 100, time.Minute)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.ID)
	}
	slices.Sort(got)
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Errorf("after kill -9, Claim = %d deliveries, want all %d:\n got %v\nwant %v", len(got), len(ids), got, ids)
	}
}

// TestKill9Helper is the process TestKill9 kills: it accepts 20
// deliveries, leases 10 of them for an hour, reports, and waits.
func TestKill9Helper(t *testing.T) {
	path := os.Getenv(killEnv)
	if path == "" {
		t.Skip("run by TestKill9")
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range 20 {
		fmt.Printf("delivery %s\n", accept(t, s, now.Add(time.Duration(i-20)*time.Millisecond), "a"))
	}
	if got := claim(t, s, "a", now.Add(-11*time.Millisecond), time.Hour); len(got) != 10 {
		t.Fatalf("Claim = %d, want 10", len(got))
	}
	fmt.Println("ready")
	time.Sleep(time.Minute)
}
