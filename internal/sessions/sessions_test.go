package sessions

import (
	"context"
	"errors"
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
}

func TestMemoryContract(t *testing.T) {
	m := NewMemory(0)
	var skew time.Duration
	m.Now = func() time.Time { return time.Now().Add(skew) }
	StoreContract(t, m, func(d time.Duration) { skew += d })
}

func TestMemoryFull(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(2)
	var skew time.Duration
	m.Now = func() time.Time { return time.Now().Add(skew) }
	for i := range 2 {
		if err := m.Create(ctx, Session{ID: NewID()}, time.Duration(i+1)*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Create(ctx, Session{ID: NewID()}, time.Hour); !errors.Is(err, ErrFull) {
		t.Fatalf("third session: %v, want ErrFull", err)
	}
	skew = 90 * time.Second // the first one expired: its room is reused
	if err := m.Create(ctx, Session{ID: NewID()}, time.Hour); err != nil {
		t.Fatalf("after one expired: %v", err)
	}
	if m.Len() != 2 {
		t.Fatalf("Len = %d, want 2", m.Len())
	}
}

func TestNewIDIsRandomHex(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if len(id) != 32 || seen[id] {
			t.Fatalf("id %q: wrong length or repeated", id)
		}
		seen[id] = true
	}
}
