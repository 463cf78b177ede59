package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/test/bench/sample"
)

// processBenchmarks selects the benchmarks that take their own samples (side_test.go); the
// Makefile's bench target runs the same list with -benchtime 1x -count 1.
const processBenchmarks = "^Benchmark(Startup|Chat|Bulk|Concurrency|Memory|HTTPReplicas)$"

// TestBenchHarness runs the process-level benchmarks once, one sample each, by running this
// test binary again with -test.bench, so that `make test` keeps the harness, the baseline
// program and the fixtures working exactly as `make bench` runs them. It checks that every
// figure the page needs was reported; it times nothing.
func TestBenchHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	dir := t.TempDir()
	for name, bin := range map[string]string{"pal": palBin, "baseline": baselineBin} {
		if err := os.Symlink(bin, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^$", "-test.bench", processBenchmarks, "-test.benchtime", "1x", "-test.timeout", "15m")
	cmd.Env = append(os.Environ(), binDirEnv+"="+dir, sample.ShortEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the benchmarks failed: %v\n%s", err, out)
	}
	want := []string{
		"Startup/pal-cold", "Startup/pal-warm", "Startup/baseline",
		"Chat/pal-first", "Chat/pal-turn", "Chat/pal-steady", "Chat/baseline-first", "Chat/baseline-turn", "Chat/baseline-steady", "Chat/pal-bare-steady", "Chat/pal-gotool-turn",
		"Bulk/pal-1MiB",
		"Concurrency/stdio-pal-c4", "Concurrency/stdio-baseline-c4",
		"Concurrency/http-pal-c4", "Concurrency/http-baseline-c4",
		"Memory/pal", "Memory/pal-expiring", "Memory/baseline",
		"HTTPReplicas/c4",
	}
	lines := strings.Split(string(out), "\n")
	for _, w := range want {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, "Benchmark"+w+"-") || strings.HasPrefix(l, "Benchmark"+w+" ") {
				found = strings.Contains(l, "p50-ms") || strings.Contains(l, "rss-idle-MiB")
				break
			}
		}
		if !found {
			t.Errorf("no figures for %s in:\n%s", w, out)
		}
	}
}
