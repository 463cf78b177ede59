package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/pal-mcp/pal/hostfns"
	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/providers"
)

// progressParams are the fields of a notifications/progress.
type progressParams struct {
	Token    json.RawMessage `json:"progressToken"`
	Progress float64         `json:"progress"`
	Total    float64         `json:"total"`
	Message  string          `json:"message"`
}

// TestProgressPrecedesResponse sends 50 chat calls at once, each with its own progress token,
// and checks on the raw wire that every progress notification of a call is written before
// the call's response, never after.
func TestProgressPrecedesResponse(t *testing.T) {
	const calls = 50
	e := newEngine(t)
	models := &fakeModels{}
	s := newServer(t, Options{Modules: builtins(t, e), Env: testEnv(models, nil)})
	w := serve(t, s)
	w.Initialize("ordering-test", "1")

	tokens := map[string]string{} // request id -> token, both as JSON
	for i := 1; i <= calls; i++ {
		var token any = fmt.Sprintf("tok-%d", i)
		if i%2 == 0 {
			token = 1000 + i // tokens may be numbers too
		}
		tb, _ := json.Marshal(token)
		tokens[fmt.Sprint(i)] = string(tb)
		w.Request(i, "tools/call", map[string]any{
			"name":      "chat",
			"arguments": map[string]any{"prompt": fmt.Sprintf("question %d", i), "model": "fake-model"},
			"_meta":     map[string]any{"progressToken": token},
		})
	}

	before := map[string][]progressParams{} // token -> progress seen so far
	answered := map[string]bool{}           // token -> its response was written
	ordered := 0
	for len(answered) < calls {
		m := w.Next()
		switch {
		case m.Method == "notifications/progress":
			var p progressParams
			if err := json.Unmarshal(m.Params, &p); err != nil {
				t.Fatalf("progress params: %v: %s", err, m.Raw)
			}
			tok := string(p.Token)
			if answered[tok] {
				t.Errorf("progress for %s after its response: %s", tok, m.Raw)
			}
			before[tok] = append(before[tok], p)
		case m.Method == "" && m.ID != nil:
			tok, ok := tokens[string(m.ID)]
			if !ok {
				t.Fatalf("response to an unknown id: %s", m.Raw)
			}
			if text, isErr := toolText(t, m); isErr {
				t.Fatalf("call %s failed: %s", m.ID, text)
			}
			answered[tok] = true
			if ps := before[tok]; len(ps) == 3 && ps[2].Message == "done" {
				ordered++
			} else {
				t.Errorf("call %s: %d progress notifications before its response, want 3: %+v", m.ID, len(ps), ps)
			}
		default:
			t.Fatalf("unexpected message: %s", m.Raw)
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	for _, m := range w.Seen {
		if m.Method == "notifications/progress" {
			var p progressParams
			json.Unmarshal(m.Params, &p)
			if len(before[string(p.Token)]) > 3 {
				t.Errorf("extra progress for %s", p.Token)
			}
		}
	}
	for tok, ps := range before {
		for i := 1; i < len(ps); i++ {
			if ps[i].Progress <= ps[i-1].Progress {
				t.Errorf("%s: progress went from %v to %v", tok, ps[i-1].Progress, ps[i].Progress)
			}
		}
		if ps[0].Total != 3 {
			t.Errorf("%s: total %v, want 3", tok, ps[0].Total)
		}
	}
	if ordered != calls || models.count() != calls {
		t.Fatalf("%d/%d calls fully ordered, %d model calls", ordered, calls, models.count())
	}
	t.Logf("%d/%d calls had all 3 progress notifications before their response", ordered, calls)
}

// TestNoProgressWithoutToken checks that a call without a progress token gets no progress.
func TestNoProgressWithoutToken(t *testing.T) {
	e := newEngine(t)
	s := newServer(t, Options{Modules: builtins(t, e), Env: testEnv(&fakeModels{}, nil)})
	w := serve(t, s)
	w.Initialize("t", "1")
	w.Request(1, "tools/call", map[string]any{"name": "chat", "arguments": map[string]any{"prompt": "q", "model": "fake-model"}})
	w.Until("1")
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	for _, m := range w.Seen {
		if m.Method == "notifications/progress" {
			t.Fatalf("progress without a token: %s", m.Raw)
		}
	}
}

// spinPolicy grants the hostile spin tool progress, which it uses to announce that it runs.
func spinPolicy() *policy.Config {
	p := policy.Default()
	p.Tools.Tool["spin"] = policy.ToolPolicy{Capabilities: []policy.Capability{policy.CapProgress}}
	return p
}

// startSpin requests an announced spin call under id and waits for its progress report, so
// the call is known to be running in the module.
func startSpin(w *wire, id any) {
	w.t.Helper()
	idJSON, _ := json.Marshal(id)
	tok := "spin-" + strings.Trim(string(idJSON), `"`)
	w.Request(id, "tools/call", map[string]any{"name": "spin", "arguments": map[string]any{"announce": true},
		"_meta": map[string]any{"progressToken": tok}})
	w.UntilProgress(`"` + tok + `"`)
}

// TestCancelledRequestGetsNoResponse cancels spinning tool calls once each is known to run
// (its progress report arrived): no response for them is ever written, each one's audit record
// says it ended cancelled, and the session keeps answering.
func TestCancelledRequestGetsNoResponse(t *testing.T) {
	e := newEngine(t)
	audit := newChanAuditor()
	s := newServer(t, Options{Modules: []LoadedModule{load(t, e, "hostile", hostilePkg, false)}, Policy: spinPolicy(), Env: testEnv(nil, audit)})
	w := serve(t, s)
	w.Initialize("t", "1")
	cancelled := []any{7, "seven", 7.5}
	for i, id := range cancelled {
		startSpin(w, id)
		w.Notify("notifications/cancelled", map[string]any{"requestId": id, "reason": "user gave up"})
		if r := audit.waitCall(t, "spin"); r.Decision != "error" || !strings.Contains(r.Reason, "cancelled") {
			t.Errorf("cancelled spin %v ended with %+v", id, r)
		}
		w.Request(100+i, "ping", map[string]any{})
		if m := w.Until(fmt.Sprint(100 + i)); m.Error != nil || string(m.Result) != "{}" {
			t.Fatalf("ping after cancel: %s", m.Raw)
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	for _, id := range cancelled {
		idJSON, _ := json.Marshal(id)
		for _, m := range w.Seen {
			if m.IsResponse(string(idJSON)) {
				t.Fatalf("a response was written for cancelled request %s: %s", idJSON, m.Raw)
			}
		}
	}
	close(audit.ch)
	for r := range audit.ch {
		if r.Op == "tools/call" {
			t.Errorf("an extra call record: %+v", r)
		}
	}
}

// blockingModels is a model registry whose Generate waits for its context to end.
type blockingModels struct {
	fakeModels
	started chan struct{}
	stopped chan error
}

func (b *blockingModels) Generate(ctx context.Context, _ string, _ providers.Category, _ providers.Request) (*providers.Response, hostfns.ModelInfo, error) {
	b.started <- struct{}{}
	<-ctx.Done()
	b.stopped <- ctx.Err()
	return nil, hostfns.ModelInfo{}, ctx.Err()
}

// TestCancelStopsRunningCall cancels a call that waits on a model: the model call's context
// ends at once, the tool call ends, and no response for it is written.
func TestCancelStopsRunningCall(t *testing.T) {
	e := newEngine(t)
	audit := newChanAuditor()
	models := &blockingModels{started: make(chan struct{}, 1), stopped: make(chan error, 1)}
	p := policy.Default()
	p.Tools.Tool["keyhunt"] = policy.ToolPolicy{Capabilities: []policy.Capability{policy.CapModelGenerate}}
	s := newServer(t, Options{Modules: []LoadedModule{load(t, e, "hostile", hostilePkg, false)}, Policy: p, Env: testEnv(models, audit)})
	w := serve(t, s)
	w.Initialize("t", "1")
	w.Request(5, "tools/call", map[string]any{"name": "keyhunt", "arguments": map[string]any{"model": "fake-model", "prompt": "slow", "needles": []any{}}})
	<-models.started
	w.Notify("notifications/cancelled", map[string]any{"requestId": 5})
	if err := <-models.stopped; !errors.Is(err, context.Canceled) {
		t.Fatalf("model call ended with %v", err)
	}
	audit.waitCall(t, "keyhunt") // the call ended, before the session did
	w.Request(6, "ping", nil)
	w.Until("6")
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	for _, m := range w.Seen {
		if m.IsResponse("5") {
			t.Fatalf("a response was written for the cancelled request: %s", m.Raw)
		}
	}
}

// blockingTool adds a Go tool "block" to s that reports its argument n on started, then waits
// for its context to end (reporting n on stopped) or for release.
type blockingTool struct {
	started, stopped chan int
	release          chan struct{}
}

func addBlockingTool(s *Server) *blockingTool {
	b := &blockingTool{started: make(chan int, 256), stopped: make(chan int, 256), release: make(chan struct{})}
	s.MCP().AddTool(mcp.NewTool("block", mcp.WithNumber("n")), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		n := req.GetInt("n", -1)
		b.started <- n
		select {
		case <-ctx.Done():
			b.stopped <- n
			return nil, ctx.Err()
		case <-b.release:
			return mcp.NewToolResultText(fmt.Sprint("released ", n)), nil
		}
	})
	return b
}

func (b *blockingTool) waitStarted(t *testing.T, count int) map[int]bool {
	t.Helper()
	got := map[int]bool{}
	for len(got) < count {
		got[<-b.started] = true
	}
	return got
}

// TestCancellationGetsThroughWhenBusy fills every request slot, then cancels one call: the
// reader is not blocked by the busy slots, the cancelled call stops, and a queued call that is
// cancelled before it starts never runs.
func TestCancellationGetsThroughWhenBusy(t *testing.T) {
	s := newServer(t, Options{})
	b := addBlockingTool(s)
	w := serve(t, s)
	w.Initialize("t", "1")
	for i := 1; i <= s.workers; i++ {
		w.Request(i, "tools/call", map[string]any{"name": "block", "arguments": map[string]any{"n": i}})
	}
	b.waitStarted(t, s.workers)
	// Every slot is taken: this one waits. Cancel it before it gets a slot.
	queued := s.workers + 1
	w.Request(queued, "tools/call", map[string]any{"name": "block", "arguments": map[string]any{"n": queued}})
	w.Notify("notifications/cancelled", map[string]any{"requestId": queued})
	// Cancel a running one: its handler sees its context end.
	w.Notify("notifications/cancelled", map[string]any{"requestId": 3})
	if n := <-b.stopped; n != 3 {
		t.Fatalf("call %d stopped, want 3", n)
	}
	// Release the rest; they all answer, and then a ping gets a slot.
	close(b.release)
	for i := 1; i <= s.workers; i++ {
		if i == 3 {
			continue
		}
		if text, _ := toolText(t, w.Until(fmt.Sprint(i))); text != fmt.Sprint("released ", i) {
			t.Fatalf("call %d: %q", i, text)
		}
	}
	w.Request("p", "ping", nil)
	w.Until(`"p"`)
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	close(b.started)
	for n := range b.started {
		if n == queued {
			t.Fatal("a request cancelled while it waited for a slot was run anyway")
		}
	}
	for _, m := range w.Seen {
		if m.IsResponse("3") || m.IsResponse(fmt.Sprint(queued)) {
			t.Fatalf("response to a cancelled request: %s", m.Raw)
		}
	}
}

// TestManyConcurrentRequests sends more requests than there are workers at once; every one
// is answered, each with its own result.
func TestManyConcurrentRequests(t *testing.T) {
	calls := 4 * policy.DefaultConcurrentCalls
	e := newEngine(t)
	s := newServer(t, Options{Modules: []LoadedModule{load(t, e, "hostile", hostilePkg, false)}})
	w := serve(t, s)
	w.Initialize("t", "1")
	for i := range calls {
		if i%2 == 0 {
			w.Request(i, "tools/call", map[string]any{"name": "ping", "arguments": map[string]any{}})
		} else {
			w.Request(i, "ping", map[string]any{})
		}
	}
	got := map[string]bool{}
	for len(got) < calls {
		m := w.Next()
		if m.Method != "" {
			continue
		}
		if got[string(m.ID)] {
			t.Fatalf("two responses to %s", m.ID)
		}
		got[string(m.ID)] = true
		var id int
		if err := json.Unmarshal(m.ID, &id); err != nil || id < 0 || id >= calls {
			t.Fatalf("response to unknown id: %s", m.Raw)
		}
		if id%2 == 0 {
			if text, isErr := toolText(t, m); isErr || text != "pong" {
				t.Fatalf("call %d: %s", id, m.Raw)
			}
		} else if m.Error != nil {
			t.Fatalf("ping %d: %s", id, m.Raw)
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	if len(w.Seen) != calls+1 { // and the initialize response
		t.Fatalf("%d messages, want %d", len(w.Seen), calls+1)
	}
}

// parseErrorNull checks that m is a parse error with id null.
func parseErrorNull(t *testing.T, m message) {
	t.Helper()
	if m.Error == nil || m.Error.Code != mcp.PARSE_ERROR || string(m.ID) != "null" {
		t.Fatalf("want a parse error with id null, got %s", m.Raw)
	}
	if !strings.Contains(m.Raw, `"id":null`) {
		t.Fatalf("id is not written as null: %s", m.Raw)
	}
}

func TestOversizeLine(t *testing.T) {
	const limit = 4096
	s := newServer(t, Options{})
	s.maxMessageBytes = limit
	w := serve(t, s)
	w.Initialize("t", "1")

	// pingOf returns a ping request of exactly n bytes.
	pingOf := func(id, n int) string {
		head := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"ping","params":{"_meta":{"pad":"`, id)
		tail := `"}}}`
		return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
	}
	// A message of exactly the limit is served.
	w.SendRaw(pingOf(1, limit))
	if m := w.Until("1"); m.Error != nil {
		t.Fatalf("message of exactly %d bytes: %s", limit, m.Raw)
	}
	// One byte more is refused with a parse error, and the session goes on.
	w.SendRaw(pingOf(2, limit+1))
	m := w.Next()
	parseErrorNull(t, m)
	if !strings.Contains(m.Error.Message, fmt.Sprint(limit)) {
		t.Errorf("the error does not state the limit: %s", m.Raw)
	}
	// Far over the limit, in one write and in many: the same.
	w.SendRaw(strings.Repeat("y", 10*limit))
	parseErrorNull(t, w.Next())
	w.Request(3, "ping", nil)
	if m := w.Next(); !m.IsResponse("3") || m.Error != nil {
		t.Fatalf("after oversize lines: %s", m.Raw)
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
}

// TestOversizeLineAtRealLimit sends one line of MaxMessageBytes+1 bytes through the real limit.
func TestOversizeLineAtRealLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 32 MiB")
	}
	s := newServer(t, Options{})
	w := serve(t, s)
	w.SendRaw(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"pad":"` + strings.Repeat("z", MaxMessageBytes) + `"}}}`)
	parseErrorNull(t, w.Next())
	w.Request(2, "ping", nil)
	if m := w.Next(); !m.IsResponse("2") || m.Error != nil {
		t.Fatalf("after an oversize line: %s", m.Raw)
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
}

func TestMalformedMessages(t *testing.T) {
	s := newServer(t, Options{})
	w := serve(t, s)
	w.Initialize("t", "1")
	parseErrors := []string{
		`{"jsonrpc":"2.0","id":1,"method":`,
		`not json at all`,
		`{"jsonrpc":"2.0","id":1,"method":"ping"}}`,
		"\x00\xff\xfe",
		`"just a string"`,
		`[1,2`,
	}
	for i, line := range parseErrors {
		w.SendRaw(line)
		parseErrorNull(t, w.Next())
		w.Request(100+i, "ping", nil)
		if m := w.Next(); !m.IsResponse(fmt.Sprint(100+i)) || m.Error != nil {
			t.Fatalf("after %q: %s", line, m.Raw)
		}
	}
	// Lines that need no answer get none: blank lines, notifications, and responses to
	// requests the server never sent.
	for _, line := range []string{
		``, `   `, "\r",
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":424242}}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":"bogus"}`,
		`{"jsonrpc":"2.0","id":55,"result":{}}`,
		`{"jsonrpc":"2.0","id":56,"error":{"code":-1,"message":"x"}}`,
	} {
		w.SendRaw(line)
	}
	w.Request("last", "ping", nil)
	if m := w.Next(); !m.IsResponse(`"last"`) {
		t.Fatalf("a line that needs no answer was answered: %s", m.Raw)
	}
	// An unknown method is a JSON-RPC error, not a parse error.
	w.Request(9, "no/such/method", nil)
	if m := w.Next(); !m.IsResponse("9") || m.Error == nil || m.Error.Code != mcp.METHOD_NOT_FOUND {
		t.Fatalf("unknown method: %s", m.Raw)
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
}

// TestEOFCancelsInFlightCalls closes stdin while a tool spins (known to run: its progress
// report arrived): ServeStdio returns nil, and it can only return because the call was
// cancelled (the call timeout is 10 minutes).
func TestEOFCancelsInFlightCalls(t *testing.T) {
	e := newEngine(t)
	audit := newChanAuditor()
	s := newServer(t, Options{Modules: []LoadedModule{load(t, e, "hostile", hostilePkg, false)}, Policy: spinPolicy(), Env: testEnv(nil, audit)})
	b := addBlockingTool(s)
	w := serve(t, s)
	w.Initialize("t", "1")
	startSpin(w, 1)
	w.Request(2, "tools/call", map[string]any{"name": "block", "arguments": map[string]any{"n": 2}})
	b.waitStarted(t, 1)
	if err := w.close(); err != nil {
		t.Fatalf("ServeStdio after EOF: %v", err)
	}
	if r := audit.waitCall(t, "spin"); r.Decision != "error" || !strings.Contains(r.Reason, "cancel") {
		t.Fatalf("spin ended with %+v", r)
	}
	if n := <-b.stopped; n != 2 {
		t.Fatalf("stopped %d", n)
	}
}

// TestContextEndsSession cancels ServeStdio's context while stdin stays open (a signal): the
// session ends and in-flight calls are cancelled.
func TestContextEndsSession(t *testing.T) {
	s := newServer(t, Options{})
	b := addBlockingTool(s)
	ctx, cancel := context.WithCancel(context.Background())
	w := serveCtx(t, ctx, s)
	w.Initialize("t", "1")
	w.Request(1, "tools/call", map[string]any{"name": "block", "arguments": map[string]any{"n": 1}})
	b.waitStarted(t, 1)
	cancel()
	if err := w.wait(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("ServeStdio: %v", err)
	}
	if n := <-b.stopped; n != 1 {
		t.Fatalf("stopped %d", n)
	}
}

// TestReadErrorEndsSession: a failing stdin ends the session with its error.
func TestReadErrorEndsSession(t *testing.T) {
	s := newServer(t, Options{})
	boom := errors.New("disk on fire")
	in := io.MultiReader(strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`+"\n"), errReader{boom})
	var out bytes.Buffer
	if err := s.ServeStdio(context.Background(), in, &out); !errors.Is(err, boom) {
		t.Fatalf("ServeStdio = %v, want %v", err, boom)
	}
	if !strings.Contains(out.String(), `"id":1`) {
		t.Fatalf("the request before the error was not answered: %q", out.String())
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// TestLastLineWithoutNewline: a final message without '\n' before EOF is still served.
func TestLastLineWithoutNewline(t *testing.T) {
	s := newServer(t, Options{})
	var out bytes.Buffer
	in := strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\r\n" + `{"jsonrpc":"2.0","id":2,"method":"ping"}`)
	if err := s.ServeStdio(context.Background(), in, &out); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{`"id":1`, `"id":2`} {
		if !strings.Contains(out.String(), id) {
			t.Errorf("no response with %s: %q", id, out.String())
		}
	}
}

// TestClientInfoReachesTools: the name the client gave in initialize is what host.info reports.
func TestClientInfoReachesTools(t *testing.T) {
	e := newEngine(t)
	s := newServer(t, Options{Modules: builtins(t, e), Env: testEnv(&fakeModels{}, nil)})
	w := serve(t, s)
	w.Initialize("wire-client", "9.8.7")
	w.Request(1, "tools/call", map[string]any{"name": "version", "arguments": map[string]any{}})
	text, isErr := toolText(t, w.Until("1"))
	if isErr || !strings.Contains(text, "wire-client 9.8.7") {
		t.Fatalf("version does not name the client: %s", text)
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
}

// TestPanicInHandler: a panicking handler is an error for that request only.
func TestPanicInHandler(t *testing.T) {
	s := newServer(t, Options{})
	s.MCP().AddTool(mcp.NewTool("boom"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		panic("kaboom")
	})
	w := serve(t, s)
	w.Initialize("t", "1")
	w.Request(1, "tools/call", map[string]any{"name": "boom", "arguments": map[string]any{}})
	m := w.Until("1")
	if m.Error == nil {
		if _, isErr := toolText(t, m); !isErr {
			t.Fatalf("panic gave a successful result: %s", m.Raw)
		}
	}
	w.Request(2, "ping", nil)
	if m := w.Until("2"); m.Error != nil {
		t.Fatalf("after a panic: %s", m.Raw)
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
}

func TestAuditOfCalls(t *testing.T) {
	e := newEngine(t)
	audit := &policy.MemoryAuditor{}
	s := newServer(t, Options{Modules: []LoadedModule{load(t, e, "hostile", hostilePkg, false)}, Env: testEnv(nil, audit)})
	if text, isErr := callResult(t, s, "ping", map[string]any{}); isErr || text != "pong" {
		t.Fatalf("ping: %s", text)
	}
	if text, isErr := callResult(t, s, "outbomb", map[string]any{}); !isErr || !strings.Contains(text, "output cap") {
		t.Fatalf("outbomb: %s", text)
	}
	recs := audit.Records()
	var calls []policy.Record
	for _, r := range recs {
		if r.Op == "tools/call" {
			calls = append(calls, r)
		}
	}
	if len(calls) != 2 || calls[0].Tool != "ping" || calls[0].Decision != "allow" || calls[1].Tool != "outbomb" || calls[1].Decision != "error" {
		t.Fatalf("records: %+v", calls)
	}
	if calls[0].CallID == "" || calls[0].CallID == calls[1].CallID {
		t.Fatalf("call ids: %q %q", calls[0].CallID, calls[1].CallID)
	}
	// A second run of pal counts from 1 again: its first call must not share the first run's
	// call_id, or `pal audit -call` would merge two calls.
	audit2 := &policy.MemoryAuditor{}
	s2 := newServer(t, Options{Modules: []LoadedModule{load(t, e, "hostile", hostilePkg, false)}, Env: testEnv(nil, audit2)})
	if text, isErr := callResult(t, s2, "ping", map[string]any{}); isErr {
		t.Fatalf("ping: %s", text)
	}
	for _, r := range audit2.Records() {
		if r.Op == "tools/call" && (r.CallID == calls[0].CallID || !regexp.MustCompile(`^c1-[0-9a-f]{6}$`).MatchString(r.CallID)) {
			t.Fatalf("first call ids of two runs: %q and %q", calls[0].CallID, r.CallID)
		}
	}
}

func TestReadLine(t *testing.T) {
	const limit = 10
	cases := []struct {
		name  string
		in    string
		lines []string // "!" marks errLineTooLong
		last  error
	}{
		{"one line", "abc\n", []string{"abc"}, io.EOF},
		{"no final newline", "abc", []string{"abc"}, io.EOF},
		{"empty", "", []string{""}, io.EOF},
		{"exactly the limit", "0123456789\nx\n", []string{"0123456789", "x"}, io.EOF},
		{"one over the limit", "0123456789A\nx\n", []string{"!", "x"}, io.EOF},
		{"far over, then more", strings.Repeat("a", 100) + "\nok\n", []string{"!", "ok"}, io.EOF},
		{"over the limit at EOF", strings.Repeat("a", 100), []string{"!"}, io.EOF},
		{"blank lines", "\n\nz\n", []string{"", "", "z"}, io.EOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A reader buffer smaller than the limit exercises the ErrBufferFull path.
			r := bufio.NewReaderSize(strings.NewReader(tc.in), 16)
			var got []string
			var err error
			for {
				var line []byte
				line, err = readLine(r, limit)
				if errors.Is(err, errLineTooLong) {
					got = append(got, "!")
					continue
				}
				if err == nil || len(line) > 0 {
					got = append(got, string(line))
				}
				if err != nil {
					break
				}
			}
			if len(got) == 0 {
				got = []string{""}
			}
			if strings.Join(got, "|") != strings.Join(tc.lines, "|") || !errors.Is(err, tc.last) {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tc.lines, tc.last)
			}
		})
	}
}

// FuzzReadLine checks readLine against a plain split: lines within the limit come back
// whole, longer ones are reported, and nothing is lost between them.
func FuzzReadLine(f *testing.F) {
	for _, seed := range []string{"", "a\n", "abc\ndef", strings.Repeat("x", 40) + "\ny\n", "\n\n\n", "0123456789012345\n"} {
		f.Add(seed, 16)
	}
	f.Fuzz(func(t *testing.T, in string, limit int) {
		if limit < 1 || limit > 1<<12 {
			return
		}
		r := bufio.NewReaderSize(strings.NewReader(in), 16)
		want := strings.Split(in, "\n")
		if strings.HasSuffix(in, "\n") {
			want = want[:len(want)-1]
		}
		var got []string
		for {
			line, err := readLine(r, limit)
			if errors.Is(err, errLineTooLong) {
				got = append(got, "\x00too long")
				continue
			}
			if err == nil || len(line) > 0 {
				got = append(got, string(line))
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
		}
		for i := range want {
			if len(want[i]) > limit {
				want[i] = "\x00too long"
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("limit %d, input %q:\ngot  %q\nwant %q", limit, in, got, want)
		}
	})
}

// FuzzServeLine feeds one arbitrary line to a session, then a ping: whatever the line, every
// output line is JSON-RPC and the ping is answered.
func FuzzServeLine(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`,
		`{"jsonrpc":"2.0","id":null,"method":"ping"}`,
		`{"id":{},"method":"ping"}`,
		`{`, `null`, `[]`, `{"jsonrpc":"2.0","id":"ping-final","method":"ping"}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		s, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		line = strings.ReplaceAll(line, "\n", " ")
		in := strings.NewReader(line + "\n" + `{"jsonrpc":"2.0","id":"ping-final","method":"ping"}` + "\n")
		var out bytes.Buffer
		if err := s.ServeStdio(context.Background(), in, &out); err != nil {
			t.Fatal(err)
		}
		answered := false
		for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil || m["jsonrpc"] != "2.0" {
				t.Fatalf("output line is not JSON-RPC: %q", l)
			}
			if m["id"] == "ping-final" && m["result"] != nil {
				answered = true
			}
		}
		if !answered {
			t.Fatalf("ping not answered after %q: %s", line, out.String())
		}
	})
}

// TestBusyBeyondTheQueue: with every worker busy and the queue full, a request is answered at
// once with -32000 "server busy", a flood of them adds no goroutine, and once the workers are
// free every queued request is answered.
func TestBusyBeyondTheQueue(t *testing.T) {
	p := policy.Default()
	p.Limits.ConcurrentCalls, p.Limits.WaitingRequests = 2, 3
	s := newServer(t, Options{Policy: p})
	b := addBlockingTool(s)
	w := serve(t, s)
	w.Initialize("t", "1")
	for i := 1; i <= 2; i++ {
		w.Request(i, "tools/call", map[string]any{"name": "block", "arguments": map[string]any{"n": i}})
	}
	b.waitStarted(t, 2)
	for i := 3; i <= 5; i++ { // the queue's three places
		w.Request(i, "ping", nil)
	}
	before := goruntime.NumGoroutine()
	// Each refused request carries 40 KB: 80 MB in all, more than MaxWaitingBytes, so that a
	// refusal still counted as waiting would make the server busy for good.
	const flood = 2000
	pad := map[string]any{"pad": strings.Repeat("p", 40<<10)}
	for i := 0; i < flood; i++ {
		w.Request(fmt.Sprint("f", i), "ping", pad)
	}
	for i := 0; i < flood; i++ {
		m := w.Until(fmt.Sprintf(`"f%d"`, i))
		if m.Error == nil || m.Error.Code != CodeBusy || !strings.Contains(m.Error.Message, "server busy") ||
			!strings.Contains(m.Error.Message, "limits.waiting_requests") {
			t.Fatalf("request f%d: want -32000 server busy, got %s", i, m.Raw)
		}
	}
	if after := goruntime.NumGoroutine(); after > before+5 {
		t.Errorf("goroutines went from %d to %d during a flood of %d requests", before, after, flood)
	}
	close(b.release)
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		if m := w.Until(id); m.Error != nil {
			t.Fatalf("request %s: %s", id, m.Raw)
		}
	}
	w.Request("after", "ping", pad)
	if m := w.Until(`"after"`); m.Error != nil {
		t.Fatalf("after the flood: %s", m.Raw)
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
}
