package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pal-mcp/pal/internal/testredis"
	"github.com/pal-mcp/pal/test/bench/sample"
)

// --- 6. HTTP replicas ---

// The load of issue 11: httpClients clients, each with its own bearer token and MCP session,
// call chat back to back for httpDuration against two `pal serve -http` replicas sharing one
// Redis (threads and sessions). Every client alternates replicas call by call, as a
// round-robin balancer without sticky sessions would send them, so every call is served by a
// replica that did not serve the one before it in the same session.
const (
	httpClients  = 200
	httpDuration = 60 * time.Second
	// httpWaiting is limits.waiting_requests of the replicas: as many tool calls as one replica
	// may be asked at once (every client, in the worst case), so that a call waits for one of
	// the limits.concurrent_calls slots instead of being refused as busy.
	httpWaiting = 256
)

// errDropped is a call that did not get its answer.
var errDropped = errors.New("call dropped")

// replicaProc is one `pal serve -http` process.
type replicaProc struct {
	cmd    *exec.Cmd
	url    string
	stderr tailWriter
}

func (r *replicaProc) close() {
	r.cmd.Process.Signal(os.Interrupt)
	exited := make(chan struct{})
	go func() { r.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		r.cmd.Process.Kill()
		<-exited
	}
}

// startReplica starts pal serve -http on a free loopback port and waits until it listens.
func startReplica(f *fixture, env []string) (*replicaProc, error) {
	return startHTTP(f, env, func(addr string) (string, []string) {
		return palBin, []string{"serve", "-http", addr, "-http-token-file", filepath.Join(f.base, "tokens")}
	})
}

// startHTTP starts the server that command names for a free loopback address and waits until
// it listens there.
func startHTTP(f *fixture, env []string, command func(addr string) (bin string, args []string)) (*replicaProc, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	r := &replicaProc{url: "http://" + addr + "/mcp"}
	bin, args := command(addr)
	r.cmd = exec.Command(bin, args...)
	r.cmd.Dir = f.project
	r.cmd.Env = env
	r.cmd.Stderr = &r.stderr
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return r, nil
		}
		if time.Now().After(deadline) {
			r.close()
			return nil, fmt.Errorf("%s did not listen on %s: %s", filepath.Base(bin), addr, r.stderr.String())
		}
	}
}

// httpClient is one MCP client over raw streamable HTTP: its token and its session.
type httpClient struct {
	hc      *http.Client
	token   string
	session string
	next    int64
}

// rpc posts one JSON-RPC message to url and returns the result of the response (nil for a
// notification), from a JSON or an SSE body.
func (c *httpClient) rpc(ctx context.Context, url, method string, params any) (json.RawMessage, http.Header, error) {
	msg := map[string]any{"jsonrpc": "2.0", "method": method, "params": params}
	notification := strings.HasPrefix(method, "notifications/")
	if !notification {
		c.next++
		msg["id"] = c.next
	}
	body, _ := json.Marshal(msg)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+c.token)
	if c.session != "" {
		req.Header.Set("Mcp-Session-Id", c.session)
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, nil, err
	}
	if notification {
		if resp.StatusCode != http.StatusAccepted {
			return nil, nil, fmt.Errorf("%s: HTTP %d: %.300s", method, resp.StatusCode, raw)
		}
		return nil, resp.Header, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s: HTTP %d: %.300s", method, resp.StatusCode, raw)
	}
	msgs := [][]byte{raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		msgs = nil
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(nil, 8<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				msgs = append(msgs, []byte(data))
			}
		}
	}
	for _, m := range msgs {
		var r struct {
			ID     int64           `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(m, &r) != nil || r.ID != c.next {
			continue
		}
		if r.Error != nil {
			return nil, nil, fmt.Errorf("%s: %s", method, r.Error.Message)
		}
		return r.Result, resp.Header, nil
	}
	return nil, nil, fmt.Errorf("%s: no response in %.300s", method, raw)
}

// open initializes the client's session on url.
func (c *httpClient) open(ctx context.Context, url string) error {
	_, h, err := c.rpc(ctx, url, "initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "pal-bench", "version": "1"}})
	if err != nil {
		return err
	}
	if c.session = h.Get("Mcp-Session-Id"); c.session == "" {
		return errors.New("initialize: no session id")
	}
	_, _, err = c.rpc(ctx, url, "notifications/initialized", map[string]any{})
	return err
}

// chat makes one chat call on url and checks its answer.
func (c *httpClient) chat(ctx context.Context, f *fixture, url string) (time.Duration, error) {
	start := time.Now()
	raw, _, err := c.rpc(ctx, url, "tools/call", map[string]any{"name": "chat", "arguments": f.chatArgs()})
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errDropped, err)
	}
	var res struct {
		IsError bool `json:"isError"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if json.Unmarshal(raw, &res) != nil || res.IsError || len(res.Content) == 0 || !strings.Contains(res.Content[0].Text, sample.ChatReply) {
		return 0, fmt.Errorf("%w: chat: %.300s", errDropped, raw)
	}
	return time.Since(start), nil
}

// httpReplicas runs the load and reports latency per call (p50, p99), throughput, the calls
// and the errors (any is a failure), and each replica's peak resident memory.
func httpReplicas(b *testing.B, f *fixture) {
	warm, err := f.warmCache()
	if err != nil {
		b.Fatal(err)
	}
	clients, duration, perClient := httpClients, httpDuration, 0
	if sample.Short() {
		clients, duration, perClient = 4, 0, 2
	}
	srv := testredis.Start(b, testredis.Options{Password: "bench-redis-password-5e1d"})
	var tokens strings.Builder
	for i := range clients {
		fmt.Fprintf(&tokens, "client%03d bench-token-%03d-0123456789abcdef\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(f.base, "tokens"), []byte(tokens.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	conf := filepath.Join(f.base, "pal-http.toml")
	body := fmt.Sprintf("[memory]\nbackend = \"redis\"\n[memory.redis]\naddr = %q\npassword_env = \"PAL_REDIS_PASSWORD\"\nprefix = \"bench:\"\n[limits]\nwaiting_requests = %d\n",
		srv.Addr, httpWaiting)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("c%d", clients), func(b *testing.B) {
		var reps []*replicaProc
		for i := range 2 {
			state := filepath.Join(f.base, fmt.Sprintf("state-%d", i))
			if err := useWarmKey(state); err != nil { // else each replica sweeps the warm cache
				b.Fatal(err)
			}
			r, err := startReplica(f, f.env(warm, sample.ChatModel, "PAL_CONFIG="+conf, "PAL_REDIS_PASSWORD="+srv.Password,
				"XDG_STATE_HOME="+state))
			if err != nil {
				b.Fatal(err)
			}
			defer r.close()
			reps = append(reps, r)
		}
		hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 4 * clients, MaxIdleConnsPerHost: 2 * clients}}
		ctx, cancel := context.WithTimeout(context.Background(), duration+10*time.Minute)
		defer cancel()
		cs := make([]*httpClient, clients)
		for i := range cs {
			cs[i] = &httpClient{hc: hc, token: fmt.Sprintf("bench-token-%03d-0123456789abcdef", i)}
			if err := cs[i].open(ctx, reps[i%2].url); err != nil {
				b.Fatal(err)
			}
			if _, err := cs[i].chat(ctx, f, reps[(i+1)%2].url); err != nil { // warm both replicas
				b.Fatal(err)
			}
		}
		var (
			mu      sync.Mutex
			d       sample.Durations
			dropped atomic.Int64
			first   error
			elapsed time.Duration
		)
		for b.Loop() {
			start := time.Now()
			deadline := start.Add(duration)
			var wg sync.WaitGroup
			for i, c := range cs {
				wg.Go(func() {
					for k := 0; ; k++ {
						if perClient > 0 && k >= perClient || perClient == 0 && time.Now().After(deadline) {
							return
						}
						t, err := c.chat(ctx, f, reps[(i+k)%2].url)
						mu.Lock()
						if err != nil {
							dropped.Add(1)
							if first == nil {
								first = err
							}
						} else {
							d = append(d, t)
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			elapsed += time.Since(start)
		}
		for i, r := range reps {
			_, hwm, err := pidMem(r.cmd.Process.Pid)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(hwm)/(1<<20), fmt.Sprintf("peak-MiB-%c", 'A'+i))
		}
		sample.Report(b, d)
		b.ReportMetric(float64(len(d))/elapsed.Seconds(), "calls/s")
		b.ReportMetric(float64(len(d)), "calls")
		b.ReportMetric(float64(dropped.Load()), "errors")
		if first != nil {
			b.Errorf("%d calls dropped; the first: %v", dropped.Load(), first)
		}
	})
}

// BenchmarkHTTPReplicas is issue 11's load: 200 clients for 60 s against two replicas on one
// Redis, every client's calls alternating replicas (see httpReplicas).
func BenchmarkHTTPReplicas(b *testing.B) { httpReplicas(b, newFixture(b)) }

// --- 4. concurrency over HTTP ---

// httpCallerClients is how many clients (tokens) the concurrency benchmark's HTTP side may
// use: one per call in flight at the highest level.
const httpCallerClients = 64

// httpCallerToken is the bearer token of the concurrency benchmark's i-th HTTP client.
func httpCallerToken(i int) string { return fmt.Sprintf("bench-token-conc-%03d-0123456789abcdef", i) }

// httpCaller is one server over streamable HTTP as the concurrency benchmark drives it: each
// call in flight comes from a client of its own (token and session; a call sent while every
// client is busy opens the next one), as many MCP clients would send them.
type httpCaller struct {
	r       *replicaProc
	hc      *http.Client
	mu      sync.Mutex
	idle    []*httpClient
	clients int
}

// startHTTPCaller starts s over HTTP: pal with `serve -http`, a token file and
// http.rate_per_minute raised past what one client sends back to back (the default 600 would
// refuse most of a closed loop's calls); the baseline with -http (it checks no token and has
// no rate).
func startHTTPCaller(f *fixture, s server, cache string) (caller, error) {
	tokens := filepath.Join(f.base, "tokens-conc")
	var list strings.Builder
	for i := range httpCallerClients {
		fmt.Fprintf(&list, "conc%03d %s\n", i, httpCallerToken(i))
	}
	conf := filepath.Join(f.base, "pal-http-conc.toml")
	for name, body := range map[string]string{tokens: list.String(), conf: "[http]\nrate_per_minute = 1000000\n"} {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			return nil, err
		}
	}
	env := append(slices.Clone(s.env), "PAL_CONFIG="+conf)
	r, err := startHTTP(f, f.env(cache, sample.ChatModel, env...), func(addr string) (string, []string) {
		if s.bin == palBin {
			return s.bin, append(slices.Clone(s.args), "-http", addr, "-http-token-file", tokens)
		}
		return s.bin, append(slices.Clone(s.args), "-http", addr)
	})
	if err != nil {
		return nil, err
	}
	return &httpCaller{r: r, hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}}, nil
}

func (c *httpCaller) chat(f *fixture) (time.Duration, error) {
	ctx := context.Background()
	c.mu.Lock()
	var cl *httpClient
	if n := len(c.idle); n > 0 {
		cl, c.idle = c.idle[n-1], c.idle[:n-1]
	}
	c.mu.Unlock()
	if cl == nil {
		c.mu.Lock()
		i := c.clients
		c.clients++
		c.mu.Unlock()
		if i >= httpCallerClients {
			return 0, fmt.Errorf("more than %d calls in flight over HTTP", httpCallerClients)
		}
		cl = &httpClient{hc: c.hc, token: httpCallerToken(i)}
		if err := cl.open(ctx, c.r.url); err != nil {
			return 0, err
		}
	}
	d, err := cl.chat(ctx, f, c.r.url)
	c.mu.Lock()
	c.idle = append(c.idle, cl)
	c.mu.Unlock()
	return d, err
}

func (c *httpCaller) mem() (rss, hwm int64, err error) { return pidMem(c.r.cmd.Process.Pid) }

func (c *httpCaller) close() { c.r.close() }
