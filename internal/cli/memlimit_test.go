package cli

import "testing"

// The default memory limit is three quarters of what the process may use:
// on Linux, below the machine's memory and above nothing.
func TestDefaultMemoryLimit(t *testing.T) {
	total := machineMemory()
	if total <= 0 {
		t.Fatal("MemTotal not read from /proc/meminfo")
	}
	got := defaultMemoryLimit()
	if got <= 0 || got > total/4*3 {
		t.Errorf("defaultMemoryLimit() = %d, want in (0, %d]", got, total/4*3)
	}
	if c := cgroupMemoryLimit(); c > 0 && got > c/4*3 {
		t.Errorf("defaultMemoryLimit() = %d above 3/4 of the cgroup's %d", got, c)
	}
}
