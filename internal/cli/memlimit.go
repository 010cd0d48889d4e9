package cli

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// defaultMemoryLimit is the soft memory limit `hookgate run` sets when
// GOMEMLIMIT is not: three quarters of the memory the process may use (its
// cgroup's limit, or the machine's memory), 0 when neither is known. With
// the GC target at 400% (runGCPercent) a burst of large bodies could
// otherwise grow the heap to five times what is live before a collection;
// near the limit the collector runs sooner instead.
func defaultMemoryLimit() int64 {
	limit := cgroupMemoryLimit()
	if total := machineMemory(); total > 0 && (limit <= 0 || total < limit) {
		limit = total
	}
	return limit / 4 * 3
}

// cgroupMemoryLimit reads cgroup v2's memory.max (v1's limit_in_bytes as a
// fallback); 0 when there is none.
func cgroupMemoryLimit() int64 {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(b))
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && n < 1<<60 {
			return n
		}
	}
	return 0
}

// machineMemory reads MemTotal from /proc/meminfo; 0 when unknown.
func machineMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 2 && fields[1] == "kB" {
				if n, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
					return n << 10
				}
			}
		}
	}
	return 0
}
