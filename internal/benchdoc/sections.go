package main

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// results holds every value of the raw output: benchmark name (without "Benchmark" and the
// -GOMAXPROCS suffix) -> unit -> the values of each run.
type results map[string]map[string][]float64

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parse reads go test -bench output lines: name, iterations, then value-unit pairs.
func parse(raw string) results {
	r := results{}
	for _, line := range strings.Split(raw, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := procsSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		if r[name] == nil {
			r[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			r[name][f[i+1]] = append(r[name][f[i+1]], v)
		}
	}
	return r
}

// get returns the median over runs of a benchmark's unit.
func (r results) get(name, unit string) (float64, bool) {
	vs := r[name][unit]
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	sort.Float64s(s)
	return s[len(s)/2], true
}

// fig is one figure: a value with its unit, or missing.
type fig struct {
	v    float64
	ok   bool
	unit string // "ms", "MiB", "x", "calls/s"
}

func (f fig) String() string {
	if !f.ok {
		return "no figure"
	}
	switch f.unit {
	case "ms":
		return fmt.Sprintf("%.1f ms", f.v)
	case "MiB":
		return fmt.Sprintf("%.1f MiB", f.v)
	case "x":
		return fmt.Sprintf("%.2f×", f.v)
	case "calls/s":
		return fmt.Sprintf("%.0f/s", f.v)
	}
	return fmt.Sprintf("%.3g %s", f.v, f.unit)
}

func (r results) fig(name, unit, as string) fig {
	v, ok := r.get(name, unit)
	return fig{v: v, ok: ok, unit: as}
}

func sub(a, b fig) fig   { return fig{v: a.v - b.v, ok: a.ok && b.ok, unit: a.unit} }
func ratio(a, b fig) fig { return fig{v: a.v / b.v, ok: a.ok && b.ok && b.v > 0, unit: "x"} }
func scale(a fig, k float64) fig {
	return fig{v: a.v * k, ok: a.ok, unit: a.unit}
}

// goal is a bound a figure must stay under, or none.
type goal struct {
	text  string
	below float64 // the figure must be below this (in the figure's unit); 0: no bound
}

var noGoal = goal{text: "—"}

func (g goal) status(f fig) string {
	switch {
	case g.below == 0:
		return "—"
	case !f.ok:
		return "no figure"
	case f.v < g.below:
		return "met"
	}
	return "**not met**"
}

type page struct {
	w   io.Writer
	r   results
	err error
}

func (p *page) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// row writes one table row: what, median, p99 (either may be empty), goal, status.
func (p *page) row(what string, median, p99 fig, g goal) {
	p99s := "—"
	if p99.unit != "" {
		p99s = p99.String()
	}
	p.printf("| %s | %s | %s | %s | %s |\n", what, median, p99s, g.text, g.status(median))
}

func (p *page) header() {
	p.printf("| figure | median | p99 | goal | status |\n|---|---|---|---|---|\n")
}

// ms returns a sampled benchmark's median and p99 in milliseconds.
func (p *page) ms(name string) (fig, fig) {
	return p.r.fig(name, "p50-ms", "ms"), p.r.fig(name, "p99-ms", "ms")
}

var none fig // an empty cell

func (p *page) sections() {
	// 1. Start-up.
	p.printf("## 1. Start-up: process start to the `tools/list` reply\n\n")
	p.printf("`BenchmarkStartup` (test/bench): exec, `initialize`, `tools/list`, over stdio; cold is a fresh\n")
	p.printf("cache directory each time, warm one that a previous process filled (it served a call).\n\n")
	p.header()
	cold, cold99 := p.ms("Startup/pal-cold")
	warm, warm99 := p.ms("Startup/pal-warm")
	base, base99 := p.ms("Startup/baseline")
	p.row("pal, compile cache cold", cold, cold99, goal{"< 100 ms", 100})
	p.row("pal, compile cache warm", warm, warm99, goal{"< 50 ms", 50})
	p.row("baseline (mcp-go, no sandbox)", base, base99, noGoal)
	p.row("pal warm − baseline", sub(warm, base), sub(warm99, base99), noGoal)

	// 2. Chat.
	p.printf("\n## 2. `chat` with a 10 KB file: pal against a server with no sandbox\n\n")
	p.printf("`BenchmarkChat` (test/bench): one `chat` call naming a 10 KB file, against a loopback\n")
	p.printf("OpenAI-wire provider that answers at once, over stdio, warm compile cache. *First* is the\n")
	p.printf("first call of a new process, sent right after the `tools/list` reply, so pal's waits for\n")
	p.printf("chat's module, which it compiles in the background once the list is answered; *after a turn* is the first call sent 2 s after\n")
	p.printf("that reply, as a client's model turn would, when the module is compiled (issue 13 judges\n")
	p.printf("the first call there: \"first call included once the module is compiled\"); *steady* is calls\n")
	p.printf("back to back on one process after a warm-up. The baseline is test/bench/baseline: mcp-go,\n")
	p.printf("the same tool name and fields, the file read and the same provider call through the same\n")
	p.printf("provider package, no WebAssembly, policy, audit or threads. Overhead is pal − baseline.\n")
	p.printf("*Without audit log and redaction* is pal with `[audit] enabled = false` and `[redaction]\n")
	p.printf("enabled = false` in the user's pal.toml: the same sandbox, path policy and threads.\n\n")
	p.header()
	pf, pf99 := p.ms("Chat/pal-first")
	bf, bf99 := p.ms("Chat/baseline-first")
	ps, ps99 := p.ms("Chat/pal-steady")
	bs, bs99 := p.ms("Chat/baseline-steady")
	pt, pt99 := p.ms("Chat/pal-turn")
	bt, bt99 := p.ms("Chat/baseline-turn")
	p.row("pal, first call", pf, pf99, noGoal)
	p.row("baseline, first call", bf, bf99, noGoal)
	p.row("sandbox overhead, first call (includes the compile wait)", sub(pf, bf), sub(pf99, bf99), noGoal)
	p.row("pal, first call after a turn", pt, pt99, noGoal)
	p.row("baseline, first call after a turn", bt, bt99, noGoal)
	p.row("sandbox overhead, first call after a turn (module compiled)", sub(pt, bt), sub(pt99, bt99), goal{"< 5 ms", 5})
	gt, gt99 := p.ms("Chat/pal-gotool-turn")
	p.row("pal, first call of a built-in Go tool (`version`) after a turn (compiles the Go module from the cache, §76)", gt, gt99, noGoal)
	p.row("pal, steady state", ps, ps99, noGoal)
	p.row("baseline, steady state", bs, bs99, noGoal)
	p.row("sandbox overhead, steady state", sub(ps, bs), sub(ps99, bs99), goal{"< 5 ms", 5})
	p.row("ratio pal / baseline, steady state", ratio(ps, bs), ratio(ps99, bs99), goal{"≤ 1.5×", 1.5})
	p.row("ratio pal / baseline, first call", ratio(pf, bf), ratio(pf99, bf99), noGoal)
	// The same pal with its audit log and secret redaction off (a trusted pal.toml may): what
	// of the steady overhead is the sandbox's, and what those two host features cost.
	pb, pb99 := p.ms("Chat/pal-bare-steady")
	p.row("pal without audit log and redaction, steady state", pb, pb99, noGoal)
	p.row("ratio pal without audit log and redaction / baseline, steady state", ratio(pb, bs), ratio(pb99, bs99), noGoal)
	// CPU time does not grow with what else the machine runs, so it shows the overhead when
	// the load makes wall times meaningless (the figure is a total over the steady calls).
	pc, bc := p.r.fig("Chat/pal-steady", "cpu-ms/call", "ms"), p.r.fig("Chat/baseline-steady", "cpu-ms/call", "ms")
	p.row("pal, server CPU per steady call", pc, none, noGoal)
	p.row("baseline, server CPU per steady call", bc, none, noGoal)
	p.row("pal without audit log and redaction, server CPU per steady call", p.r.fig("Chat/pal-bare-steady", "cpu-ms/call", "ms"), none, noGoal)
	p.row("sandbox CPU per steady call (pal − baseline)", sub(pc, bc), none, goal{"< 5 ms", 5})

	// 3. Bulk.
	p.printf("\n## 3. Bulk: files through a workflow's expert call into the provider request\n\n")
	p.printf("`BenchmarkBulk` (test/bench, pal over stdio) and `BenchmarkBulkNative` (tools-wasm/builtin):\n")
	p.printf("the final step of `codereview` whose expert call embeds every relevant file (files of\n")
	p.printf("512 KiB, model `bench-bulk` with a window that fits them), checked to reach the provider.\n")
	p.printf("The native side is the same tool code built for the host (package pal's native backend)\n")
	p.printf("calling the same host functions (path policy, secret scan, provider, threads, audit)\n")
	p.printf("directly. Per MiB is the marginal cost, (10 MiB − 1 MiB) / 9; the sandbox's cost per MiB\n")
	p.printf("is pal's per MiB less the native per MiB.\n\n")
	p.header()
	p1, p199 := p.ms("Bulk/pal-1MiB")
	n1, n199 := p.ms("BulkNative/native-1MiB")
	p10, p1099 := p.ms("Bulk/pal-10MiB")
	n10, n1099 := p.ms("BulkNative/native-10MiB")
	p.row("pal, 1 MiB", p1, p199, noGoal)
	p.row("native, 1 MiB", n1, n199, noGoal)
	p.row("pal, 10 MiB", p10, p1099, noGoal)
	p.row("native, 10 MiB", n10, n1099, noGoal)
	palPer, natPer := scale(sub(p10, p1), 1.0/9), scale(sub(n10, n1), 1.0/9)
	p.row("pal per MiB", palPer, none, noGoal)
	p.row("native per MiB", natPer, none, noGoal)
	p.row("sandbox cost per MiB (pal − native)", sub(palPer, natPer), none, goal{"< 10 ms", 10})
	p.row("ratio pal / native per MiB", ratio(palPer, natPer), none, goal{"≤ 2×", 2})
	p.row("ratio pal / native, 10 MiB call", ratio(p10, n10), ratio(p1099, n1099), goal{"≤ 2×", 2})

	// 4. Concurrency.
	p.printf("\n## 4. Concurrency\n\n")
	p.printf("`BenchmarkConcurrency` (test/bench): N callers each send their next `chat` call (10 KB\n")
	p.printf("file) when the last reply arrives, a fresh process per row, warm cache. Latency is per\n")
	p.printf("call; throughput is calls over wall time; peak is the process's VmHWM; per call in flight\n")
	p.printf("is (VmHWM − VmRSS before the run) / N. Both servers run 8 calls at once (pal's\n")
	p.printf("limits.concurrent_calls; the baseline's worker pool or semaphore); the rest wait. Over\n")
	p.printf("HTTP, pal is one `pal serve -http` process with bearer tokens and each call in flight\n")
	p.printf("comes from a client of its own (token and MCP session), with `http.rate_per_minute`\n")
	p.printf("raised past a closed loop's pace; the baseline is mcp-go's streamable HTTP server with no\n")
	p.printf("authentication. Issue 13 sets no numeric goal here beyond the per-call ones of section 2.\n\n")
	trs, levels := p.concurrencyRuns()
	if len(trs) == 0 {
		p.printf("no figures\n")
	}
	for _, tr := range trs {
		p.printf("Transport **%s**:\n\n", tr)
		p.printf("| in flight | side | median | p99 | throughput | peak RSS | per call in flight |\n|---|---|---|---|---|---|---|\n")
		for _, level := range levels[tr] {
			for _, side := range []string{"pal", "baseline"} {
				name := fmt.Sprintf("Concurrency/%s-%s-c%d", tr, side, level)
				m, m99 := p.ms(name)
				p.printf("| %d | %s | %s | %s | %s | %s | %s |\n", level, side, m, m99,
					p.r.fig(name, "calls/s", "calls/s"), p.r.fig(name, "peak-MiB", "MiB"), p.r.fig(name, "MiB/call-in-flight", "MiB"))
			}
		}
		p.printf("\n")
	}
	if !slices.Contains(trs, "http") {
		p.printf("HTTP: measured with many clients and two replicas in section 6.\n")
	}

	// 5. Memory.
	p.printf("\n## 5. Memory and size\n\n")
	p.printf("`BenchmarkMemory` (test/bench): VmRSS of the server process 1 s after the `tools/list`\n")
	p.printf("reply, 1 s after its first `chat` call (idle: ready to serve, the module compiled), after\n")
	p.printf("100, 1,000 and 2,000 calls back to back. pal keeps each call's conversation thread for\n")
	p.printf("`memory.ttl` (3 h), so its RSS grows with calls by design, up to\n")
	p.printf("`limits.threads_total_bytes`; the same server with threads that expire after 1 s\n")
	p.printf("(`[memory] ttl = \"1s\"`) shows what a leak would add. Its growth over the second 1,000\n")
	p.printf("calls is judged: a leak grows RSS in every window alike, while the heap and the memory\n")
	p.printf("pool settle in the first (docs/RATIONALE.md §67).\n")
	p.printf("Sizes are the files' bytes; the compile cache is the directory a warm start reads.\n\n")
	p.printf("| figure | pal | baseline | goal | status |\n|---|---|---|---|---|\n")
	mem := func(what, unit string, g goal) {
		pv := p.r.fig("Memory/pal", unit, "MiB")
		p.printf("| %s | %s | %s | %s | %s |\n", what, pv, p.r.fig("Memory/baseline", unit, "MiB"), g.text, g.status(pv))
	}
	mem("RSS after tools/list", "rss-start-MiB", noGoal)
	mem("idle RSS (after the first call)", "rss-idle-MiB", goal{"< 40 MB (38.1 MiB)", 40e6 / (1 << 20)})
	mem("RSS after 100 calls", "rss-after-100-MiB", noGoal)
	mem("RSS after 1,000 calls", "rss-after-1000-MiB", noGoal)
	mem("RSS after 2,000 calls", "rss-after-2000-MiB", noGoal)
	mem("growth, calls 100 to 1,000 (threads kept)", "growth-MiB", goal{"by design (threads kept)", 0})
	mem("growth, calls 1,000 to 2,000 (threads kept)", "growth-settled-MiB", goal{"by design (threads kept)", 0})
	expiring := func(what, unit string, g goal) {
		ev := p.r.fig("Memory/pal-expiring", unit, "MiB")
		p.printf("| %s | %s | — | %s | %s |\n", what, ev, g.text, g.status(ev))
	}
	expiring("growth, calls 100 to 1,000, threads expiring after 1 s", "growth-MiB", noGoal)
	expiring("growth, calls 1,000 to 2,000, threads expiring after 1 s", "growth-settled-MiB", goal{"none (< 2 MiB, GC noise)", 2})
	mem("peak RSS (VmHWM) over the 2,000 calls", "peak-MiB", noGoal)
	mem("binary", "binary-MiB", goal{"carries only what it uses (not judged here)", 0})
	mem("compile cache", "cache-MiB", noGoal)

	// 6. HTTP replicas.
	p.printf("\n## 6. HTTP: many clients, two replicas on one Redis\n\n")
	p.printf("`BenchmarkHTTPReplicas` (test/bench/http_test.go): N clients, each with its own bearer\n")
	p.printf("token and MCP session, call `chat` (10 KB file) back to back for 60 s against two `pal\n")
	p.printf("serve -http` replicas sharing one redis-server (threads and sessions, `[memory] backend =\n")
	p.printf("\"redis\"`); each client alternates replicas call by call, as a balancer without sticky\n")
	p.printf("sessions would. Replicas run with `limits.waiting_requests = 256` (calls wait for one of the\n")
	p.printf("8 `concurrent_calls` slots instead of being refused). Errors are calls without their answer\n")
	p.printf("(HTTP error, JSON-RPC error, isError): issue 11 wants 0. Peak is each replica's VmHWM.\n\n")
	var runs []string
	for name := range p.r {
		if httpName.MatchString(name) {
			runs = append(runs, name)
		}
	}
	sort.Strings(runs)
	if len(runs) == 0 {
		p.printf("no figures\n")
	} else {
		p.httpRows(runs)
	}
	p.kits()
}

// httpRows writes section 6's table.
func (p *page) httpRows(runs []string) {
	p.printf("| clients | median | p99 | throughput | calls | errors | peak RSS A | peak RSS B |\n|---|---|---|---|---|---|---|---|\n")
	for _, name := range runs {
		m, m99 := p.ms(name)
		errs := "no figure"
		if v, ok := p.r.get(name, "errors"); ok {
			errs = fmt.Sprintf("%.0f", v)
		}
		calls := "no figure"
		if v, ok := p.r.get(name, "calls"); ok {
			calls = fmt.Sprintf("%.0f", v)
		}
		p.printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", httpName.FindStringSubmatch(name)[1], m, m99,
			p.r.fig(name, "calls/s", "calls/s"), calls, errs, p.r.fig(name, "peak-MiB-A", "MiB"), p.r.fig(name, "peak-MiB-B", "MiB"))
	}
}

// kitModules are BenchmarkKit's modules (runtime and runtime/extism), in table order.
var kitModules = []struct{ name, what string }{
	{"go-builtin", "Go built-in module (17 tools, native ABI)"},
	{"go", "Go kit example (native ABI)"},
	{"assemblyscript", "AssemblyScript kit example (native ABI)"},
	{"c", "C kit example (native ABI)"},
	{"rust", "Rust kit example (native ABI)"},
	{"extism", "Extism plugin, as-pdk (runtime/extism)"},
}

// kits writes section 7: each guest kit's module size, compile, instantiate and call cost.
func (p *page) kits() {
	p.printf("\n## 7. Guest kits: the same tool in each language\n\n")
	p.printf("`BenchmarkKit` (runtime, runtime/extism): compile with no cache, one fresh instance\n")
	p.printf("(initialisation included), and a whole call in a fresh instance whose single host call\n")
	p.printf("the host refuses (the examples' `todo_finder` and its `fs.list`; the built-in module's\n")
	p.printf("`version` and its `host.info`), each answering with its own isError result. Bytes and\n")
	p.printf("allocations are per call on the host side. docs/benchmarks-kits.md discusses them.\n\n")
	p.printf("| module | .wasm bytes | compile | instantiate | call, fresh instance | B/op per call | allocs per call |\n|---|---|---|---|---|---|---|\n")
	for _, k := range kitModules {
		base := "Kit/" + k.name + "/"
		size := "no figure"
		if v, ok := p.r.get(base+"compile", "module-bytes"); ok {
			size = commas(int64(v))
		}
		ms := func(name string) fig { return scale(p.r.fig(base+name, "ns/op", "ms"), 1e-6) }
		count := func(unit string) string {
			if v, ok := p.r.get(base+"call-fresh", unit); ok {
				return commas(int64(v))
			}
			return "no figure"
		}
		p.printf("| %s | %s | %s | %s | %s | %s | %s |\n", k.what, size, precise(ms("compile")), precise(ms("instantiate")),
			precise(ms("call-fresh")), count("B/op"), count("allocs/op"))
	}
}

// precise prints a time in ms with two decimals below 10 ms (kit instances take fractions of one).
func precise(f fig) string {
	if f.ok && f.v < 10 {
		return fmt.Sprintf("%.2f ms", f.v)
	}
	return f.String()
}

var httpName = regexp.MustCompile(`^HTTPReplicas/c(\d+)$`)

var concName = regexp.MustCompile(`^Concurrency/([a-z]+)-(pal|baseline)-c(\d+)$`)

// concurrencyRuns reads the concurrency results' names once: the transports measured, stdio
// first then by name, and the levels measured over each, in order.
func (p *page) concurrencyRuns() ([]string, map[string][]int) {
	levels := map[string][]int{}
	for name := range p.r {
		if m := concName.FindStringSubmatch(name); m != nil {
			n, _ := strconv.Atoi(m[3])
			if !slices.Contains(levels[m[1]], n) {
				levels[m[1]] = append(levels[m[1]], n)
			}
		}
	}
	var trs []string
	for tr := range levels {
		trs = append(trs, tr)
		sort.Ints(levels[tr])
	}
	sort.Strings(trs)
	if i := slices.Index(trs, "stdio"); i > 0 {
		trs = append([]string{"stdio"}, slices.Delete(trs, i, i+1)...)
	}
	return trs, levels
}
