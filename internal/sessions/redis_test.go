package sessions

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pal-mcp/pal/internal/testredis"
	"github.com/pal-mcp/pal/memory"
)

// replicas returns n stores on one real redis-server (with a password), each on the
// connection pool of its own memory.RedisStore as pal wires them, sharing one movable clock.
func replicas(t *testing.T, n, max int) ([]*Redis, func(time.Duration), *testredis.Server) {
	t.Helper()
	srv := testredis.Start(t, testredis.Options{Password: "sessions-test-secret"})
	var skew time.Duration
	out := make([]*Redis, n)
	for i := range out {
		threads, err := memory.OpenRedis(memory.Config{}, memory.RedisOptions{Addr: srv.Addr, Password: srv.Password, Prefix: "test:"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { threads.Close() })
		out[i] = NewRedis(threads.Client(), threads.Prefix(), max)
		out[i].Now = func() time.Time { return time.Now().Add(skew) }
	}
	return out, func(d time.Duration) { skew += d }, srv
}

// TestRedisContract: the Store contract, against a real redis-server.
func TestRedisContract(t *testing.T) {
	r, advance, _ := replicas(t, 1, 0)
	StoreContract(t, r[0], advance)
}

// TestRedisFull: the cap counts the sessions of every replica.
func TestRedisFull(t *testing.T) {
	r, advance, _ := replicas(t, 1, 2)
	FullContract(t, r[0], advance)
}

// TestRedisPerClient: the per-client cap, against a real redis-server; the scripts of Touch
// and Delete find the client's index under the key Create used.
func TestRedisPerClient(t *testing.T) {
	r, advance, _ := replicas(t, 1, 0)
	r[0].PerClient = 2
	PerClientContract(t, r[0], advance)
}

// TestRedisSharedByReplicas: a session one replica opens, another finds, touches, gives state
// and ends; the cap counts every replica's sessions.
func TestRedisSharedByReplicas(t *testing.T) {
	ctx := context.Background()
	r, advance, _ := replicas(t, 2, 2)
	a, b := r[0], r[1]
	s := Session{ID: NewID(), Client: "token:ci", Created: time.Now()}
	if err := a.Create(ctx, s, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Get(ctx, s.ID); err != nil || got.Client != "token:ci" {
		t.Fatalf("the other replica: %+v %v", got, err)
	}
	if err := b.SetState(ctx, s.ID, []byte(`{"level":"debug"}`)); err != nil {
		t.Fatal(err)
	}
	if err := b.Touch(ctx, s.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := b.Create(ctx, Session{ID: NewID()}, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := a.Create(ctx, Session{ID: NewID()}, time.Hour); !errors.Is(err, ErrFull) {
		t.Fatalf("third session across replicas: %v, want ErrFull", err)
	}
	advance(3 * time.Minute) // b's second session expired; the touched one lives
	if got, err := a.Get(ctx, s.ID); err != nil || string(got.State) != `{"level":"debug"}` {
		t.Fatalf("touched on b, read on a: %+v %v", got, err)
	}
	if err := a.Create(ctx, Session{ID: NewID()}, time.Hour); err != nil {
		t.Fatalf("after one expired: %v", err)
	}
	if err := b.Delete(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, s.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ended on b, still on a: %v", err)
	}
}

// TestRedisExpiresInRedis: Redis itself drops a session's key at its expiry (a TTL set by
// Create and moved by Touch), and Delete leaves nothing behind.
func TestRedisExpiresInRedis(t *testing.T) {
	ctx := context.Background()
	r, _, _ := replicas(t, 1, 0)
	s := r[0]
	id := NewID()
	if err := s.Create(ctx, Session{ID: id, Client: "token:a", Created: time.Now()}, time.Minute); err != nil {
		t.Fatal(err)
	}
	ttl := s.rdb.PTTL(ctx, s.key(id)).Val()
	if ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL after Create = %v, want (0, 1m]", ttl)
	}
	if err := s.Touch(ctx, id, time.Hour); err != nil {
		t.Fatal(err)
	}
	if ttl := s.rdb.PTTL(ctx, s.key(id)).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("TTL after Touch = %v, want about an hour", ttl)
	}
	if err := s.SetState(ctx, id, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if ttl := s.rdb.PTTL(ctx, s.key(id)).Val(); ttl <= 59*time.Minute {
		t.Fatalf("SetState dropped the TTL: %v", ttl)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := s.rdb.Exists(ctx, s.key(id)).Val(); n != 0 {
		t.Fatal("Delete left the key")
	}
	if _, err := s.rdb.ZScore(ctx, s.index(), id).Result(); err == nil {
		t.Fatal("Delete left the id in the index")
	}
}

// TestRedisPlantedRecords: what another user of the server writes under the prefix is no
// session: a huge state or client is not read, a record with a bad expiry or of another type
// is refused, and none of it is taken for a live session.
func TestRedisPlantedRecords(t *testing.T) {
	ctx := context.Background()
	r, _, _ := replicas(t, 1, 0)
	s := r[0]
	future := time.Now().Add(time.Hour).UnixMilli()
	created := time.Now().UTC().Format(time.RFC3339Nano)
	huge := strings.Repeat("x", MaxStateBytes+1)
	cases := map[string]func(key string){
		"huge state": func(k string) { s.rdb.HSet(ctx, k, "c", "token:a", "t", created, "e", future, "s", huge) },
		"huge client": func(k string) {
			s.rdb.HSet(ctx, k, "c", strings.Repeat("c", maxClientBytes+1), "t", created, "e", future)
		},
		"bad expiry":  func(k string) { s.rdb.HSet(ctx, k, "c", "token:a", "t", created, "e", "never") },
		"no expiry":   func(k string) { s.rdb.HSet(ctx, k, "c", "token:a", "t", created) },
		"no client":   func(k string) { s.rdb.HSet(ctx, k, "t", created, "e", future) },
		"bad created": func(k string) { s.rdb.HSet(ctx, k, "c", "token:a", "t", "yesterday", "e", future) },
		"a string":    func(k string) { s.rdb.Set(ctx, k, `{"client":"token:a"}`, 0) },
	}
	for name, plant := range cases {
		t.Run(name, func(t *testing.T) {
			id := NewID()
			plant(s.key(id))
			if got, err := s.Get(ctx, id); err == nil {
				t.Fatalf("a planted record read as a session: %+v", got)
			}
		})
	}
}
