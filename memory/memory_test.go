package memory

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestThreadLifecycle(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := New(Config{TTL: time.Hour, MaxTurns: 4, Now: c.now})
	id, err := s.Create("me", "chat", map[string]any{"prompt": "p"})
	if err != nil {
		t.Fatal(err)
	}
	backdated := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if n, err := s.Append("me", id, Turn{Role: "user", Content: "q", Timestamp: backdated}, Turn{Role: "assistant", Content: "a", Model: "m"}); err != nil || n != 2 {
		t.Fatalf("append: %d %v", n, err)
	}
	if th, _ := s.Get("me", id); !th.Turns[0].Timestamp.Equal(c.t) {
		t.Fatalf("turn kept the caller's timestamp %v; the host stamps turns", th.Turns[0].Timestamp)
	}
	th, err := s.Get("me", strings.ToUpper(id))
	if err != nil || len(th.Turns) != 2 || th.Turns[1].Model != "m" || th.Tool != "chat" || th.MaxTurns != 4 {
		t.Fatalf("get: %+v %v", th, err)
	}
	th.Turns[0].Content = "changed"
	if again, _ := s.Get("me", id); again.Turns[0].Content != "q" {
		t.Fatal("Get returned shared state")
	}

	// The turn cap holds, all or nothing.
	if _, err := s.Append("me", id, Turn{Role: "user"}, Turn{Role: "assistant"}, Turn{Role: "user"}); !errors.Is(err, ErrTurnLimit) {
		t.Fatalf("want ErrTurnLimit, got %v", err)
	}
	if th, _ := s.Get("me", id); len(th.Turns) != 2 {
		t.Fatalf("partial append: %d turns", len(th.Turns))
	}

	// Appends refresh the TTL; silence expires the thread.
	c.t = c.t.Add(50 * time.Minute)
	if _, err := s.Append("me", id, Turn{Role: "user", Content: "again"}); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(50 * time.Minute)
	if _, err := s.Get("me", id); err != nil {
		t.Fatalf("thread expired despite the refresh: %v", err)
	}
	c.t = c.t.Add(11 * time.Minute)
	if _, err := s.Get("me", id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("want expiry, got %v", err)
	}
}

func TestBadIDs(t *testing.T) {
	s := New(Config{})
	for _, id := range []string{"", "nope", "../../etc", "00000000-0000-0000-0000-000000000000", strings.Repeat("a", 10000)} {
		if _, err := s.Get("me", id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): want ErrNotFound, got %v", id, err)
		}
		if _, err := s.Append("me", id, Turn{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Append(%q): want ErrNotFound, got %v", id, err)
		}
	}
}

func TestCaps(t *testing.T) {
	s := New(Config{MaxThreads: 2, MaxThreadBytes: 1000})
	a, _ := s.Create("me", "t", nil)
	if _, err := s.Append("me", a, Turn{Content: strings.Repeat("x", 1000)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("want ErrTooLarge, got %v", err)
	}
	s.Create("me", "t", nil)
	s.Create("me", "t", nil)
	if s.Len() != 2 {
		t.Fatalf("%d threads, cap 2", s.Len())
	}
	if _, err := s.Get("me", a); !errors.Is(err, ErrNotFound) {
		t.Fatal("the oldest thread should have been evicted")
	}
}

func FuzzGet(f *testing.F) {
	f.Add("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	f.Add("{6ba7b810-9dad-11d1-80b4-00c04fd430c8}")
	f.Add("urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	s := New(Config{})
	id, _ := s.Create("me", "t", nil)
	f.Fuzz(func(t *testing.T, in string) {
		th, err := s.Get("me", in)
		if err == nil && th.ID != id {
			t.Fatalf("Get(%q) found a thread that was never created", in)
		}
	})
}

// A thread belongs to the principal that created it: to anyone else it does not exist.
func TestThreadsBelongToTheirOwner(t *testing.T) {
	s := New(Config{})
	id, err := s.Create("session:a", "chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("session:b", id); !errors.Is(err, ErrNotFound) {
		t.Errorf("another principal read the thread: %v", err)
	}
	if _, err := s.Append("session:b", id, Turn{Role: "user", Content: "injected"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("another principal appended: %v", err)
	}
	th, err := s.Get("session:a", id)
	if err != nil || len(th.Turns) != 0 || th.Owner != "session:a" {
		t.Fatalf("owner's view: %+v, %v", th, err)
	}
}

// TestEveryFieldIsCounted: file and image names, tool, model and provider count against the
// thread cap as the content does, and so does the initial context.
func TestEveryFieldIsCounted(t *testing.T) {
	big := strings.Repeat("f", 4000)
	for name, turn := range map[string]Turn{
		"content":  {Role: "user", Content: big},
		"files":    {Role: "user", Files: []string{big}},
		"images":   {Role: "user", Images: []string{big}},
		"tool":     {Role: "user", Tool: big},
		"model":    {Role: "user", Model: big},
		"provider": {Role: "user", Provider: big},
		"many files": {Role: "user", Files: func() []string {
			out := make([]string, 300) // empty names still cost their headers
			return out
		}()},
	} {
		s := New(Config{MaxThreadBytes: 4096})
		id, err := s.Create("me", "t", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append("me", id, turn); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: a 4 KB field passed a 4 KB thread cap: %v", name, err)
		}
	}
	s := New(Config{MaxThreadBytes: 4096})
	if _, err := s.Create("me", "t", map[string]any{"k": big}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a 4 KB initial context passed a 4 KB thread cap: %v", err)
	}
	if _, err := s.Create("me", big, nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a 4 KB tool name passed a 4 KB thread cap: %v", err)
	}
	id, err := s.Create("me", "t", map[string]any{"k": "v", "n": 1.5})
	if err != nil {
		t.Fatal(err)
	}
	th, err := s.Get("me", id)
	if err != nil || th.InitialContext["k"] != "v" || th.InitialContext["n"] != 1.5 {
		t.Fatalf("initial context came back as %v (%v)", th.InitialContext, err)
	}
	if got, want := s.Stats().Bytes, Size(th); got != want {
		t.Errorf("store counts %d bytes, Size says %d", got, want)
	}
	// Without an initial context too: Size counts no "null" the store does not hold.
	bare, err := s.Create("me", "t", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append("me", bare, Turn{Role: "user", Content: "hi"}); err != nil {
		t.Fatal(err)
	}
	th2, err := s.Get("me", bare)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Stats().Bytes, Size(th)+Size(th2); got != want {
		t.Errorf("store counts %d bytes for two threads, Size says %d", got, want)
	}
}

// TestTotalCapEvictsLeastRecentlyUsed: past the total, the least recently used threads go,
// where reading a thread counts as a use; the bytes never pass the cap.
func TestTotalCapEvictsLeastRecentlyUsed(t *testing.T) {
	s := New(Config{MaxThreadBytes: 8 << 10, MaxTotalBytes: 32 << 10})
	chunk := Turn{Role: "user", Content: strings.Repeat("c", 6<<10)}
	var ids []string
	for i := 0; i < 4; i++ {
		id, err := s.Create("me", "t", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append("me", id, chunk); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if st := s.Stats(); st.Threads != 4 || st.Evicted != 0 {
		t.Fatalf("4 threads of ~6.5 KB under a 32 KB cap: %+v", st)
	}
	if _, err := s.Get("me", ids[0]); err != nil { // ids[1] is now the least recently used
		t.Fatal(err)
	}
	id, _ := s.Create("me", "t", nil)
	if _, err := s.Append("me", id, chunk); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("me", ids[1]); !errors.Is(err, ErrNotFound) {
		t.Errorf("the least recently used thread is still there")
	}
	for _, keep := range []string{ids[0], ids[2], ids[3], id} {
		if _, err := s.Get("me", keep); err != nil {
			t.Errorf("thread %s was dropped: %v", keep, err)
		}
	}
	if st := s.Stats(); st.Bytes > 32<<10 || st.Evicted != 1 {
		t.Fatalf("after eviction: %+v", st)
	}
}

// TestFloodStaysUnderTheCap: a flood of threads and turns keeps the counted bytes under the
// total cap, and the Go heap with them.
func TestFloodStaysUnderTheCap(t *testing.T) {
	const total = 4 << 20
	s := New(Config{MaxThreadBytes: 256 << 10, MaxTotalBytes: total, MaxTurns: 1000})
	turn := Turn{Role: "assistant", Content: strings.Repeat("z", 8<<10), Files: []string{"a.go", "b.go"}}
	for i := 0; i < 2000; i++ {
		id, err := s.Create("me", "t", map[string]any{"i": i})
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 20; j++ {
			if _, err := s.Append("me", id, turn); err != nil {
				break
			}
		}
		if st := s.Stats(); st.Bytes > total {
			t.Fatalf("after %d threads: %d bytes held, cap %d", i+1, st.Bytes, total)
		}
	}
	var held int64
	for el := s.lru.Front(); el != nil; el = el.Next() {
		e := el.Value.(*entry)
		held += int64(len(e.initial))
		for _, tu := range e.t.Turns {
			held += int64(len(tu.Content))
		}
	}
	if held > total {
		t.Fatalf("%d bytes of content held under a %d cap", held, total)
	}
}

// TestSweepFollowsExpiryNotUse: reading a thread makes it the most recently used without
// refreshing its time to live, so use order and expiry order differ; the sweep drops exactly
// the expired threads, wherever they stand in use order, and the counts follow.
func TestSweepFollowsExpiryNotUse(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := New(Config{TTL: time.Hour, Now: c.now})
	var ids []string
	for i := range 6 {
		id, err := s.Create("me", "t", nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		c.t = c.t.Add(time.Duration(i+1) * time.Minute)
	}
	// ids[0] is read last (most recently used) but expires first; ids[4] is refreshed.
	if _, err := s.Append("me", ids[4], Turn{Role: "user", Content: "q"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("me", ids[0]); err != nil {
		t.Fatal(err)
	}
	checkHeap(t, s)
	// ids[0..2] were created at +0, +1, +3 min; an hour and 3 min from the start they have
	// expired, ids[3] (+6) and ids[5] (+15) have not, nor has the refreshed ids[4].
	c.t = time.Date(2026, 1, 1, 1, 3, 0, 0, time.UTC)
	if st := s.Stats(); st.Threads != 3 {
		t.Fatalf("%d threads live after the sweep, want 3", st.Threads)
	}
	checkHeap(t, s)
	for i, id := range ids {
		_, err := s.Get("me", id)
		if gone := errors.Is(err, ErrNotFound); gone != (i < 3) {
			t.Errorf("thread %d: err %v", i, err)
		}
	}
	c.t = c.t.Add(time.Hour)
	if st := s.Stats(); st.Threads != 0 || st.Bytes != 0 || len(s.expiring) != 0 {
		t.Fatalf("after every thread expired: %+v, %d in the heap", st, len(s.expiring))
	}
}

// checkHeap checks that the expiry heap holds exactly the store's threads, in heap order,
// each knowing its index.
func checkHeap(t *testing.T, s *Store) {
	t.Helper()
	if len(s.expiring) != len(s.threads) || len(s.threads) != s.lru.Len() {
		t.Fatalf("heap %d, map %d, list %d", len(s.expiring), len(s.threads), s.lru.Len())
	}
	for i, e := range s.expiring {
		if e.index != i || s.threads[e.t.ID] == nil {
			t.Fatalf("heap entry %d: index %d, in map %v", i, e.index, s.threads[e.t.ID] != nil)
		}
		if i > 0 && e.expires.Before(s.expiring[(i-1)/2].expires) {
			t.Fatalf("heap order broken at %d", i)
		}
	}
}

// BenchmarkCreate is one thread created in a store that already holds held live threads: a
// chat call's cost in the store. Its time must not grow with held.
func BenchmarkCreate(b *testing.B) {
	for _, held := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("held=%d", held), func(b *testing.B) {
			s := New(Config{MaxThreads: held + 1})
			for range held {
				if _, err := s.Create("me", "chat", nil); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				if _, err := s.Create("me", "chat", nil); err != nil { // evicts the oldest
					b.Fatal(err)
				}
			}
		})
	}
}
