package memory

import (
	"errors"
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
	s := New(Config{MaxThreads: 2, MaxThreadBytes: 10})
	a, _ := s.Create("me", "t", nil)
	if _, err := s.Append("me", a, Turn{Content: strings.Repeat("x", 11)}); !errors.Is(err, ErrTooLarge) {
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
