package e2e

import (
	"context"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pal-mcp/pal/internal/testredis"
)

// redisPassword is the password of the tests' Redis: it must appear in no log, audit record
// or file pal writes.
const redisPassword = "redis-e2e-PASSWORD-7c41d9"

// redisConfig writes a pal.toml (a trusted config file) that keeps threads in srv under the
// prefix, the password read from PAL_REDIS_PASSWORD, and returns the variables that use it.
func redisConfig(t *testing.T, dir string, srv *testredis.Server, prefix string) []string {
	t.Helper()
	conf := filepath.Join(dir, "pal-redis.toml")
	body := "[memory]\nbackend = \"redis\"\n[memory.redis]\naddr = \"" + srv.Addr + "\"\npassword_env = \"PAL_REDIS_PASSWORD\"\nprefix = \"" + prefix + "\"\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"PAL_CONFIG=" + conf, "PAL_REDIS_PASSWORD=" + redisPassword}
}

// TestReplicasShareThreadsInRedis: two pal processes (replicas, each with its own workspace
// and state, as on two machines) keep threads in one Redis. A thread started on A continues
// on B with the history A wrote. Then A is killed with SIGKILL while its provider call is in
// flight (the provider sees the connection close); the client retries the call on B, which
// succeeds, and the thread has lost nothing: every exchange is in the prompt of a last call,
// once. The Redis password reaches no log and no file pal writes.
func TestReplicasShareThreadsInRedis(t *testing.T) {
	srv := testredis.Start(t, testredis.Options{Password: redisPassword})
	started, closed := make(chan struct{}), make(chan struct{})
	var hung atomic.Bool
	p := newHookedProvider(t, func(r *http.Request, user string) bool {
		// The first HANG-ON-A request (A's) never gets an answer; the retry does.
		if !strings.Contains(user, "HANG-ON-A") || hung.Swap(true) {
			return true
		}
		close(started)
		<-r.Context().Done() // A was killed: its connection closes
		close(closed)
		return false
	})
	wa, wb := newWorkspace(t), newWorkspace(t)
	env := redisConfig(t, t.TempDir(), srv, "e2e-team:")

	a, cmdA, logA := startKillable(t, wa, p, env...)
	b, _, logB := startKillable(t, wb, p, env...)

	res, text := callTool(t, a, "chat", map[string]any{"prompt": "FIRST-QUESTION on A.", "model": "gpt-5.2"})
	if res.IsError {
		t.Fatalf("chat on A: %s", text)
	}
	id := continuationID(t, text)

	res, text = callTool(t, b, "chat", map[string]any{"prompt": "SECOND-QUESTION on B.", "continuation_id": id, "model": "gpt-5.2"})
	if res.IsError {
		t.Fatalf("chat on B continuing A's thread: %s", text)
	}
	if body := p.requests()[1].Body; !strings.Contains(body, "FIRST-QUESTION on A.") || !strings.Contains(body, "answer number 1 from the loopback model") {
		t.Fatalf("B's prompt lacks the exchange A had:\n%s", body)
	}

	// A call on A hangs in the provider; A dies.
	third := map[string]any{"prompt": "THIRD HANG-ON-A question.", "continuation_id": id, "model": "gpt-5.2"}
	errA := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		_, err := callToolErr(ctx, a, "chat", third)
		errA <- err
	}()
	select {
	case <-started:
	case err := <-errA:
		t.Fatalf("the call on A ended before reaching the provider: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the call on A never reached the provider")
	}
	if err := cmdA.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-errA; err == nil {
		t.Fatal("the call on the killed replica succeeded")
	}
	<-closed
	a.Wait()

	// The client retries on B.
	res, text = callTool(t, b, "chat", third)
	if res.IsError {
		t.Fatalf("the retry on B: %s", text)
	}
	res, text = callTool(t, b, "chat", map[string]any{"prompt": "FOURTH-QUESTION on B.", "continuation_id": id, "model": "gpt-5.2"})
	if res.IsError {
		t.Fatalf("chat after the retry: %s", text)
	}
	reqs := p.requests()
	last := reqs[len(reqs)-1].Body
	for _, want := range []string{"FIRST-QUESTION on A.", "SECOND-QUESTION on B.", "THIRD HANG-ON-A question.", "FOURTH-QUESTION on B.",
		"answer number 1 from", "answer number 2 from", "answer number 3 from"} {
		if c := strings.Count(last, want); c != 1 {
			t.Errorf("%q appears %d times in the last prompt, want 1", want, c)
		}
	}
	if t.Failed() {
		t.Logf("last prompt:\n%s", last)
	}

	// The password is in no log and no file either replica wrote.
	for name, log := range map[string]string{"A": logA.String(), "B": logB.String()} {
		if strings.Contains(log, redisPassword) {
			t.Errorf("replica %s's log holds the Redis password", name)
		}
		if !strings.Contains(log, "conversation threads in Redis") {
			t.Errorf("replica %s does not say where its threads are:\n%s", name, log)
		}
	}
	for _, w := range []*workspace{wa, wb} {
		filepath.WalkDir(w.stateDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), redisPassword) {
				t.Errorf("%s holds the Redis password", path)
			}
			return nil
		})
	}
}

// callToolErr calls a tool and returns the error, for calls expected to fail and for
// goroutines, where callTool's t.Fatalf cannot be used.
func callToolErr(ctx context.Context, cs *mcp.ClientSession, name string, args map[string]any) (*mcp.CallToolResult, error) {
	return cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
}
