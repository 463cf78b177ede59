package main

import (
	"fmt"
	"strings"
	"testing"
)

const rawSample = `goos: linux
pkg: github.com/pal-mcp/pal/test/bench
cpu: Test CPU
BenchmarkStartup/pal-cold-2         	       1	 90000000 ns/op	  90.00 p50-ms	 150.0 p99-ms	 10.00 samples
BenchmarkStartup/pal-warm-2         	       1	 60000000 ns/op	  60.00 p50-ms	  80.00 p99-ms	 30.00 samples
BenchmarkChat/pal-steady-2          	       1	  9000000 ns/op	   9.000 p50-ms	  20.00 p99-ms
BenchmarkChat/baseline-steady-2     	       1	  5000000 ns/op	   5.000 p50-ms	   7.000 p99-ms
BenchmarkChat/pal-turn-2            	       1	  6000000 ns/op	   6.000 p50-ms	   9.000 p99-ms
BenchmarkChat/baseline-turn-2       	       1	  2000000 ns/op	   2.000 p50-ms	   3.000 p99-ms
BenchmarkConcurrency/stdio-pal-c4-2 	       1	  1 ns/op	   3.000 p50-ms	   4.000 p99-ms	 500.0 calls/s	 40.00 peak-MiB	 1.500 MiB/call-in-flight
BenchmarkConcurrency/http-pal-c4-2  	       1	  1 ns/op	   3.000 p50-ms	   4.000 p99-ms
BenchmarkMemory/pal-2               	       1	  1 ns/op	  30.00 rss-idle-MiB	   5.000 growth-MiB
BenchmarkMemory/pal-expiring-2      	       1	  1 ns/op	  30.00 rss-idle-MiB	   2.500 growth-MiB	   1.500 growth-settled-MiB
BenchmarkHTTPReplicas/c200-2        	       1	  1 ns/op	 120.0 p50-ms	 480.0 p99-ms	 400.0 calls/s	 24000 calls	 0 errors	 150.0 peak-MiB-A	 140.0 peak-MiB-B
BenchmarkKit/c/compile-2          	       2	  33000000 ns/op	   29302 module-bytes
BenchmarkKit/c/instantiate-2      	     100	    380000 ns/op
BenchmarkKit/c/call-fresh-2       	     100	    240000 ns/op	  172940 B/op	     104 allocs/op
BenchmarkInvoke/pooled-2  	     564	   2131281 ns/op	 2936021 B/op
BenchmarkInvoke/pooled-2  	     687	   2274668 ns/op	 3558389 B/op
BenchmarkInvoke/pooled-2  	     572	   2078108 ns/op	 2519690 B/op
`

func TestParse(t *testing.T) {
	r := parse(rawSample)
	for _, c := range []struct {
		name, unit string
		want       float64
		ok         bool
	}{
		{"Startup/pal-cold", "p50-ms", 90, true},
		{"Concurrency/stdio-pal-c4", "MiB/call-in-flight", 1.5, true},
		{"Invoke/pooled", "ns/op", 2131281, true}, // the median of three runs
		{"Startup/pal-cold", "calls/s", 0, false},
		{"Startup/nothing", "p50-ms", 0, false},
	} {
		got, ok := r.get(c.name, c.unit)
		if got != c.want || ok != c.ok {
			t.Errorf("get(%s, %s) = %v, %v; want %v, %v", c.name, c.unit, got, ok, c.want, c.ok)
		}
	}
}

func TestSections(t *testing.T) {
	var b strings.Builder
	p := &page{w: &b, r: parse(rawSample)}
	p.sections()
	out := b.String()
	for _, want := range []string{
		"| pal, compile cache cold | 90.0 ms | 150.0 ms | < 100 ms | met |",
		"| pal, compile cache warm | 60.0 ms | 80.0 ms | < 50 ms | **not met** |",
		"| sandbox overhead, steady state | 4.0 ms | 13.0 ms | < 5 ms | met |",
		"| ratio pal / baseline, steady state | 1.80× | 2.86× | ≤ 1.5× | **not met** |",
		"| pal, first call | no figure |",
		"| sandbox overhead, first call after a turn (module compiled) | 4.0 ms | 6.0 ms | < 5 ms | met |",
		"| idle RSS (after the first call) | 30.0 MiB | no figure | < 40 MB (38.1 MiB) | met |",
		"| growth, calls 100 to 1,000 (threads kept) | 5.0 MiB | no figure | by design (threads kept) | — |",
		"| growth, calls 100 to 1,000, threads expiring after 1 s | 2.5 MiB | — | — | — |",
		"| growth, calls 1,000 to 2,000, threads expiring after 1 s | 1.5 MiB | — | none (< 2 MiB, GC noise) | met |",
		"| 4 | pal | 3.0 ms | 4.0 ms | 500/s | 40.0 MiB | 1.5 MiB |",
		"| 200 | 120.0 ms | 480.0 ms | 400/s | 24000 | 0 | 150.0 MiB | 140.0 MiB |",
		"| C kit example (native ABI) | 29,302 | 33.0 ms | 0.38 ms | 0.24 ms | 172,940 | 104 |",
		"| Rust kit example (native ABI) | no figure | no figure |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the page lacks %q:\n%s", want, out)
		}
	}
	// stdio comes first, then the other transports; with http measured, no note says it is missing.
	if i, j := strings.Index(out, "Transport **stdio**"), strings.Index(out, "Transport **http**"); i < 0 || j < i {
		t.Errorf("transports out of order:\n%s", out)
	}
	if strings.Contains(out, "HTTP: not measured") {
		t.Errorf("http is measured but the page says it is not")
	}
}

func TestConcurrencyRuns(t *testing.T) {
	p := &page{r: parse(`BenchmarkConcurrency/http-pal-c8-2 	1	1 ns/op	3.0 p50-ms
BenchmarkConcurrency/stdio-pal-c16-2 	1	1 ns/op	3.0 p50-ms
BenchmarkConcurrency/stdio-baseline-c4-2 	1	1 ns/op	3.0 p50-ms
BenchmarkConcurrency/stdio-pal-c4-2 	1	1 ns/op	3.0 p50-ms
BenchmarkConcurrency/abc-pal-c1-2 	1	1 ns/op	3.0 p50-ms
BenchmarkChat/pal-steady-2 	1	1 ns/op	3.0 p50-ms
`)}
	trs, levels := p.concurrencyRuns()
	if got := strings.Join(trs, ","); got != "stdio,abc,http" {
		t.Errorf("transports %s, want stdio,abc,http", got)
	}
	for tr, want := range map[string]string{"stdio": "[4 16]", "abc": "[1]", "http": "[8]"} {
		if got := fmt.Sprint(levels[tr]); got != want {
			t.Errorf("levels[%s] = %s, want %s", tr, got, want)
		}
	}
}
