package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestQuietGC: the collector is off up to startHeapLimit while start-up runs, and its settings
// are what they were after restore.
func TestQuietGC(t *testing.T) {
	prevPercent := debug.SetGCPercent(-1) // read (SetGCPercent returns the old value), then put back
	debug.SetGCPercent(prevPercent)
	prevLimit := debug.SetMemoryLimit(-1) // a negative limit reads it

	restore := quietGC()
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("during start-up GC percent %d, want -1 (off)", p)
	}
	if l := debug.SetMemoryLimit(-1); l != startHeapLimit {
		t.Errorf("during start-up memory limit %d, want %d", l, startHeapLimit)
	}
	restore()
	if p := debug.SetGCPercent(prevPercent); p != prevPercent {
		t.Errorf("after restore GC percent %d, want %d", p, prevPercent)
	}
	if l := debug.SetMemoryLimit(-1); l != prevLimit {
		t.Errorf("after restore memory limit %d, want %d", l, prevLimit)
	}
}

// gcPercent reads the collector's GC percent (SetGCPercent returns the old value; it is put
// back at once).
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// TestServeQuietUntilListed (docs/RATIONALE.md §79): `pal serve` over stdio keeps the collector
// quiet until its first tools/list reply, not only while it builds, and restores it then; the
// start log line ("serving MCP on stdio"), whose redaction compiles secret rules, comes after
// that reply. A client that never lists gets the collector back after warmDelay.
func TestServeQuietUntilListed(t *testing.T) {
	for _, list := range []bool{true, false} {
		t.Run(fmt.Sprintf("list=%v", list), func(t *testing.T) {
			isolate(t)
			t.Setenv("OPENAI_API_KEY", "sk-test-quiet-gc-0123456789")
			before := gcPercent()
			if before == -1 {
				t.Fatal("the collector is off before serve")
			}
			inR, inW := io.Pipe()
			outR, outW := io.Pipe()
			var stderr lockedBuffer
			done := make(chan int, 1)
			go func() { done <- run([]string{"serve"}, inR, outW, &stderr); outW.Close() }()
			replies := bufio.NewScanner(outR)
			replies.Buffer(nil, 4<<20)
			send := func(msg string) {
				t.Helper()
				if _, err := io.WriteString(inW, msg+"\n"); err != nil {
					t.Fatal(err)
				}
			}
			send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
			if !replies.Scan() {
				t.Fatalf("no initialize reply: %v\n%s", replies.Err(), stderr.String())
			}
			send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			if list {
				if p := gcPercent(); p != -1 {
					t.Errorf("before tools/list: GC percent %d, want -1 (quiet)", p)
				}
				if strings.Contains(stderr.String(), "serving MCP on stdio") {
					t.Error("the start line was logged before tools/list was answered")
				}
				send(`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}`)
				if !replies.Scan() || !strings.Contains(replies.Text(), `"id":2`) {
					t.Fatalf("no tools/list reply: %q", replies.Text())
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for gcPercent() != before || !strings.Contains(stderr.String(), "serving MCP on stdio") {
				if time.Now().After(deadline) {
					t.Fatalf("GC percent %d (want %d again) and start line %v, 10 s after serving began\n%s",
						gcPercent(), before, strings.Contains(stderr.String(), "serving MCP on stdio"), stderr.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
			inW.Close()
			go io.Copy(io.Discard, outR)
			if code := <-done; code != 0 {
				t.Errorf("serve exited %d\n%s", code, stderr.String())
			}
		})
	}
}

// lockedBuffer (as in test/e2e and test/security) is a bytes.Buffer that serve's goroutines may write while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lockedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
