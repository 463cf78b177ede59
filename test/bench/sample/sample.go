// Package sample holds what the side-by-side benchmarks share: latency samples reported as
// median and 99th percentile, the loopback OpenAI-wire provider that answers at once, and the
// fixtures both sides of a comparison read (the 10 KB chat file, the bulk file sets and the
// catalogue of the bulk model). The benchmarks of test/bench (pal and the no-sandbox baseline
// over stdio) and of tools-wasm/builtin (the built-in tools built natively) use the same
// fixtures, so their figures can be divided.
package sample

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Durations are latency samples.
type Durations []time.Duration

// Quantile returns the q-quantile (0 < q <= 1) by the nearest-rank method: the smallest
// sample with at least q of the samples at or below it. It returns 0 for no samples.
func (d Durations) Quantile(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Median is Quantile(0.5).
func (d Durations) Median() time.Duration { return d.Quantile(0.5) }

// P99 is Quantile(0.99).
func (d Durations) P99() time.Duration { return d.Quantile(0.99) }

// Ms converts a duration to milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Report reports the samples on b: ns/op is the median, p50-ms and p99-ms the median and the
// 99th percentile in milliseconds, and samples their count. The benchmark's own timer is
// meaningless for these benchmarks (each b.N iteration collects many samples), so ns/op is
// overridden.
func Report(b *testing.B, d Durations) {
	b.ReportMetric(float64(d.Median()), "ns/op")
	b.ReportMetric(Ms(d.Median()), "p50-ms")
	b.ReportMetric(Ms(d.P99()), "p99-ms")
	b.ReportMetric(float64(len(d)), "samples")
}

// ShortEnv names the environment variable that makes every benchmark take one sample
// (Count returns 1): the smoke test that keeps the harness from rotting sets it.
const ShortEnv = "PAL_BENCH_SHORT"

// Short reports whether ShortEnv is set.
func Short() bool { return os.Getenv(ShortEnv) != "" }

// Count is how many samples a benchmark takes: n, or 1 under ShortEnv.
func Count(n int) int {
	if Short() {
		return 1
	}
	return n
}

// ChatReply is what the loopback provider answers to every chat completion.
const ChatReply = "fine"

// Provider is a loopback OpenAI-wire server that answers every chat completion at once with
// ChatReply. It counts the request body bytes it has read, so that a benchmark can check
// that the files it sent arrived.
type Provider struct {
	*httptest.Server
	bodyBytes atomic.Int64
	requests  atomic.Int64
}

// NewProvider starts a Provider; it is closed when tb ends.
func NewProvider(tb testing.TB) *Provider {
	p := &Provider{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		p.bodyBytes.Add(n)
		p.requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"gpt-5.2","choices":[{"index":0,"message":{"role":"assistant","content":"`+ChatReply+`"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":1,"total_tokens":11}}`)
	}))
	tb.Cleanup(p.Close)
	return p
}

// BaseURL is the OPENAI_BASE_URL that points a client at p.
func (p *Provider) BaseURL() string { return p.URL + "/v1" }

// BodyBytes is the total of the request bodies read so far.
func (p *Provider) BodyBytes() int64 { return p.bodyBytes.Load() }

// Requests is the count of requests served so far.
func (p *Provider) Requests() int64 { return p.requests.Load() }

// APIKey is the fake key every side is given; the loopback provider ignores it.
const APIKey = "sk-bench-000000000000"

// ChatModel is the model the chat benchmarks name (in the embedded OpenAI catalogue).
const ChatModel = "gpt-5.2"

// ChatFileBytes is the size of the chat benchmarks' file.
const ChatFileBytes = 10 * 1024

// WriteChatFile writes the chat benchmarks' 10 KB source file into dir and returns its path.
func WriteChatFile(dir string) (string, error) {
	path := filepath.Join(dir, "main.go")
	return path, os.WriteFile(path, sourceText(ChatFileBytes, 0), 0o644)
}

// BulkModel is the model of the bulk benchmarks, in the catalogue WriteBulkCatalog writes: its
// context window is large enough that 10 MiB of files fit the file budget of a workflow's
// expert call.
const BulkModel = "bench-bulk"

// WriteBulkCatalog writes an OpenAI catalogue holding only BulkModel into dir and returns
// its path, for OPENAI_MODELS_CONFIG_PATH.
func WriteBulkCatalog(dir string) (string, error) {
	path := filepath.Join(dir, "bench_models.json")
	doc := `{"models":[{"model_name":"` + BulkModel + `","intelligence_score":10,"context_window":40000000,"max_output_tokens":100000,"supports_temperature":true}]}`
	return path, os.WriteFile(path, []byte(doc), 0o644)
}

// BulkFileBytes is the size of each bulk file: under paths.max_file_bytes (1,000,000).
const BulkFileBytes = 512 * 1024

// WriteBulkFiles writes total bytes of source files (BulkFileBytes each) under dir/name and
// returns their paths.
func WriteBulkFiles(dir, name string, total int) ([]string, error) {
	sub := filepath.Join(dir, name)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for i := 0; i*BulkFileBytes < total; i++ {
		p := filepath.Join(sub, fmt.Sprintf("f%03d.go", i))
		if err := os.WriteFile(p, sourceText(min(BulkFileBytes, total-i*BulkFileBytes), i), 0o644); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// BulkStep is the arguments of the one-step codereview whose expert call embeds files:
// step 1 of 1, no further step, every file relevant.
func BulkStep(files []string) map[string]any {
	return map[string]any{
		"step": "Review these files.", "step_number": 1, "total_steps": 1, "next_step_required": false,
		"findings": "Read them all.", "relevant_files": files, "model": BulkModel,
	}
}

// sourceText is n bytes of plain Go-like text: lines that name their number, so that files
// differ, and no quotes, backslashes or control bytes (the JSON-escaping cost is that of
// ordinary code, not a worst case).
func sourceText(n, seed int) []byte {
	var b strings.Builder
	b.Grow(n + 64)
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "func f%d_%d(x int) int { return x*%d + %d } // line of code\n", seed, i, i%97, seed)
	}
	return []byte(b.String()[:n])
}
