package sessions

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// StoreContract checks what every Store must do. A backend in this package (redis.go) calls
// it from its tests with a fresh store and a function that moves the store's clock forward.
func StoreContract(t *testing.T, s Store, advance func(time.Duration)) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	a := Session{ID: NewID(), Client: "token:a", Created: now}
	if err := s.Create(ctx, a, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, a.ID)
	if err != nil || got.Client != "token:a" || got.ID != a.ID || !got.Created.Equal(now) || got.Expires.IsZero() {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if _, err := s.Get(ctx, NewID()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of an unknown id: %v, want ErrNotFound", err)
	}
	if err := s.Touch(ctx, a.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	advance(2 * time.Minute) // past the first expiry, before the touched one
	if _, err := s.Get(ctx, a.ID); err != nil {
		t.Fatalf("a touched session expired at its old time: %v", err)
	}
	advance(2 * time.Hour)
	if _, err := s.Get(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after expiry: %v, want ErrNotFound", err)
	}
	if err := s.Touch(ctx, a.ID, 3*time.Hour); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Touch after expiry: %v, want ErrNotFound", err)
	}
	b := Session{ID: NewID(), Client: "token:b", Created: now}
	if err := s.Create(ctx, b, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, b.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if err := s.Delete(ctx, b.ID); err != nil {
		t.Fatalf("second Delete: %v", err)
	}

	// State: replaced whole, kept across Touch, its expiry untouched by SetState.
	c := Session{ID: NewID(), Client: "token:c", Created: now, State: []byte(`{"x":1}`)}
	if err := s.Create(ctx, c, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, c.ID); err != nil || string(got.State) != `{"x":1}` {
		t.Fatalf("state at Create: %q %v", got.State, err)
	}
	if err := s.SetState(ctx, c.ID, []byte(`{"x":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, c.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, c.ID); err != nil || string(got.State) != `{"x":2}` || got.Client != "token:c" {
		t.Fatalf("state after SetState and Touch: %+v %v", got, err)
	}
	if err := s.SetState(ctx, c.ID, make([]byte, MaxStateBytes+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("state over MaxStateBytes: %v, want ErrTooLarge", err)
	}
	if err := s.Create(ctx, Session{ID: NewID(), State: make([]byte, MaxStateBytes+1)}, time.Minute); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Create with state over MaxStateBytes: %v, want ErrTooLarge", err)
	}
	advance(2 * time.Hour)
	if err := s.SetState(ctx, c.ID, []byte(`{}`)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetState after expiry: %v, want ErrNotFound", err)
	}

	// Hostile ids: refused, never looked up as something else; a live id is not taken over.
	d := Session{ID: NewID(), Client: "token:d", Created: now}
	if err := s.Create(ctx, d, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, Session{ID: d.ID, Client: "token:mallory"}, time.Hour); err == nil {
		t.Fatal("Create over a live session's id succeeded")
	}
	if got, err := s.Get(ctx, d.ID); err != nil || got.Client != "token:d" {
		t.Fatalf("after a Create over it: %+v %v", got, err)
	}
	for _, id := range []string{"", "*", d.ID + "0", d.ID[:31], strings.ToUpper(d.ID), d.ID[:30] + "\r\n", "../" + d.ID[3:], d.ID[:31] + "*"} {
		if _, err := s.Get(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): %v, want ErrNotFound", id, err)
		}
		if err := s.Touch(ctx, id, time.Hour); !errors.Is(err, ErrNotFound) {
			t.Errorf("Touch(%q): %v, want ErrNotFound", id, err)
		}
		if err := s.SetState(ctx, id, nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetState(%q): %v, want ErrNotFound", id, err)
		}
		if err := s.Create(ctx, Session{ID: id}, time.Hour); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Create(%q): %v, want ErrInvalidID", id, err)
		}
		if err := s.Delete(ctx, id); err != nil {
			t.Errorf("Delete(%q): %v", id, err)
		}
	}
	if _, err := s.Get(ctx, d.ID); err != nil {
		t.Fatalf("a hostile Delete ended a session: %v", err)
	}
}

// FullContract checks a store made with a cap of 2 live sessions: a third is ErrFull until one
// expires.
func FullContract(t *testing.T, s Store, advance func(time.Duration)) {
	t.Helper()
	ctx := context.Background()
	for i := range 2 {
		if err := s.Create(ctx, Session{ID: NewID()}, time.Duration(i+1)*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, Session{ID: NewID()}, time.Hour); !errors.Is(err, ErrFull) {
		t.Fatalf("third session: %v, want ErrFull", err)
	}
	advance(90 * time.Second) // the first one expired: its room is reused
	if err := s.Create(ctx, Session{ID: NewID()}, time.Hour); err != nil {
		t.Fatalf("after one expired: %v", err)
	}
	if err := s.Create(ctx, Session{ID: NewID()}, time.Hour); !errors.Is(err, ErrFull) {
		t.Fatalf("past the cap again: %v, want ErrFull", err)
	}
}

// PerClientContract checks a store made with a per-client cap of 2: a client past it gets
// ErrClientFull while another client still opens sessions; a touched session keeps counting
// after its first expiry, an expired or deleted one makes room.
func PerClientContract(t *testing.T, s Store, advance func(time.Duration)) {
	t.Helper()
	ctx := context.Background()
	a1 := Session{ID: NewID(), Client: "token:a"}
	a2 := Session{ID: NewID(), Client: "token:a"}
	for _, x := range []Session{a1, a2} {
		if err := s.Create(ctx, x, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, Session{ID: NewID(), Client: "token:a"}, time.Hour); !errors.Is(err, ErrClientFull) {
		t.Fatalf("a third session of one client: %v, want ErrClientFull", err)
	}
	if err := s.Create(ctx, Session{ID: NewID(), Client: "token:b"}, time.Hour); err != nil {
		t.Fatalf("another client: %v", err)
	}
	if err := s.Touch(ctx, a1.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	advance(90 * time.Second) // a2 expired, a1 was touched and lives
	if err := s.Create(ctx, Session{ID: NewID(), Client: "token:a"}, time.Hour); err != nil {
		t.Fatalf("after one expired: %v", err)
	}
	if err := s.Create(ctx, Session{ID: NewID(), Client: "token:a"}, time.Hour); !errors.Is(err, ErrClientFull) {
		t.Fatalf("the touched session no longer counts: %v, want ErrClientFull", err)
	}
	if err := s.Delete(ctx, a1.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, Session{ID: NewID(), Client: "token:a"}, time.Hour); err != nil {
		t.Fatalf("after a Delete: %v", err)
	}
}

func TestMemoryPerClient(t *testing.T) {
	m := NewMemory(0)
	m.PerClient = 2
	var skew time.Duration
	m.Now = func() time.Time { return time.Now().Add(skew) }
	PerClientContract(t, m, func(d time.Duration) { skew += d })
}

func TestMemoryContract(t *testing.T) {
	m := NewMemory(0)
	var skew time.Duration
	m.Now = func() time.Time { return time.Now().Add(skew) }
	StoreContract(t, m, func(d time.Duration) { skew += d })
}

func TestMemoryFull(t *testing.T) {
	m := NewMemory(2)
	var skew time.Duration
	m.Now = func() time.Time { return time.Now().Add(skew) }
	FullContract(t, m, func(d time.Duration) { skew += d })
	if m.Len() != 2 {
		t.Fatalf("Len = %d, want 2", m.Len())
	}
}

func TestNewIDIsRandomHex(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if len(id) != 32 || seen[id] || !ValidID(id) {
			t.Fatalf("id %q: wrong length or repeated", id)
		}
		seen[id] = true
	}
}
