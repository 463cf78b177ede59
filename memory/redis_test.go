package memory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pal-mcp/pal/internal/testredis"
)

// replicas starts a Redis server and opens n stores on it under one prefix, as n pal
// replicas would. Their clock starts now: Redis expires keys by its own clock.
func replicas(t *testing.T, n int, cfg Config) ([]*RedisStore, *clock, *testredis.Server) {
	t.Helper()
	srv := testredis.Start(t, testredis.Options{})
	c := &clock{t: time.Now().UTC()}
	if cfg.Now == nil {
		cfg.Now = c.now
	}
	var out []*RedisStore
	for range n {
		s, err := OpenRedis(cfg, RedisOptions{Addr: srv.Addr, Prefix: "test:"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		out = append(out, s)
	}
	return out, c, srv
}

// TestRedisThreadLifecycle: the Store's lifecycle, with the thread started on one replica
// and read and continued on the other.
func TestRedisThreadLifecycle(t *testing.T) {
	rs, c, _ := replicas(t, 2, Config{TTL: time.Hour, MaxTurns: 4})
	a, b := rs[0], rs[1]
	id, err := a.Create("me", "chat", map[string]any{"prompt": "p", "n": 1.5})
	if err != nil {
		t.Fatal(err)
	}
	backdated := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if n, err := b.Append("me", id, Turn{Role: "user", Content: "q", Timestamp: backdated}, Turn{Role: "assistant", Content: "a", Model: "m"}); err != nil || n != 2 {
		t.Fatalf("append on the other replica: %d %v", n, err)
	}
	th, err := a.Get("me", strings.ToUpper(id))
	if err != nil || len(th.Turns) != 2 || th.Turns[1].Model != "m" || th.Tool != "chat" || th.MaxTurns != 4 ||
		th.InitialContext["prompt"] != "p" || th.InitialContext["n"] != 1.5 {
		t.Fatalf("get on the first replica: %+v %v", th, err)
	}
	if !th.Turns[0].Timestamp.Equal(c.t.Truncate(time.Nanosecond)) || th.Turns[0].Timestamp.Year() == 2001 {
		t.Fatalf("turn kept the caller's timestamp %v; the host stamps turns", th.Turns[0].Timestamp)
	}

	// The turn cap holds, all or nothing.
	if _, err := a.Append("me", id, Turn{Role: "user"}, Turn{Role: "assistant"}, Turn{Role: "user"}); !errors.Is(err, ErrTurnLimit) {
		t.Fatalf("want ErrTurnLimit, got %v", err)
	}
	if th, _ := b.Get("me", id); len(th.Turns) != 2 {
		t.Fatalf("partial append: %d turns", len(th.Turns))
	}

	// Appends refresh the TTL; silence expires the thread.
	c.t = c.t.Add(50 * time.Minute)
	if _, err := b.Append("me", id, Turn{Role: "user", Content: "again"}); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(50 * time.Minute)
	if _, err := a.Get("me", id); err != nil {
		t.Fatalf("thread expired despite the refresh: %v", err)
	}
	c.t = c.t.Add(11 * time.Minute)
	if _, err := a.Get("me", id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("want expiry, got %v", err)
	}
	if _, err := b.Append("me", id, Turn{Role: "user"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("append to an expired thread: %v", err)
	}
	// The sweep drops its bookkeeping too.
	if st := a.Stats(); st.Threads != 0 || st.Bytes != 0 {
		t.Fatalf("after expiry: %+v", st)
	}
}

// TestRedisKeysExpireOnTheServer: the thread's key carries the thread's expiry, so Redis
// itself removes threads no replica reads again.
func TestRedisKeysExpireOnTheServer(t *testing.T) {
	rs, _, srv := replicas(t, 1, Config{TTL: time.Hour})
	id, err := rs[0].Create("me", "chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	ttl, err := rdb.PTTL(context.Background(), "test:thread:"+id).Result()
	if err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("PTTL = %v %v, want about an hour", ttl, err)
	}
}

// TestRedisThreadsBelongToTheirOwner: another principal, on any replica, neither reads nor
// extends the thread.
func TestRedisThreadsBelongToTheirOwner(t *testing.T) {
	rs, _, _ := replicas(t, 2, Config{})
	id, err := rs[0].Create("session:a", "chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rs {
		if _, err := s.Get("session:b", id); !errors.Is(err, ErrNotFound) {
			t.Errorf("another principal read the thread: %v", err)
		}
		if _, err := s.Append("session:b", id, Turn{Role: "user", Content: "injected"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("another principal appended: %v", err)
		}
	}
	th, err := rs[1].Get("session:a", id)
	if err != nil || len(th.Turns) != 0 || th.Owner != "session:a" {
		t.Fatalf("owner's view: %+v, %v", th, err)
	}
}

// TestRedisConcurrentAppendsLoseNothing: two replicas append to one thread from many
// goroutines at once; every turn is there, once.
func TestRedisConcurrentAppendsLoseNothing(t *testing.T) {
	const perReplica, each = 8, 5
	rs, _, _ := replicas(t, 2, Config{MaxTurns: 1000})
	id, err := rs[0].Create("me", "chat", map[string]any{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*perReplica*each)
	for r, s := range rs {
		for g := range perReplica {
			wg.Go(func() {
				for i := range each {
					if _, err := s.Append("me", id, Turn{Role: "user", Content: fmt.Sprintf("r%d-g%d-%d", r, g, i)}); err != nil {
						errs <- err
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	th, err := rs[1].Get("me", id)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, turn := range th.Turns {
		seen[turn.Content]++
	}
	if len(th.Turns) != 2*perReplica*each || len(seen) != 2*perReplica*each {
		t.Fatalf("%d turns (%d distinct), want %d", len(th.Turns), len(seen), 2*perReplica*each)
	}
	if got, want := rs[0].Stats().Bytes, Size(th); got != want {
		t.Errorf("the byte sum says %d, the thread is %d", got, want)
	}
}

// TestRedisCaps: the thread cap, the thread count cap and the total byte cap, shared by the
// replicas; the least recently updated threads go first and the sum never passes the cap.
func TestRedisCaps(t *testing.T) {
	rs, c, _ := replicas(t, 2, Config{MaxThreads: 3, MaxThreadBytes: 8 << 10, MaxTotalBytes: 16 << 10})
	a, b := rs[0], rs[1]
	if _, err := a.Create("me", "t", map[string]any{"k": strings.Repeat("x", 8<<10)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("initial context past the thread cap: %v", err)
	}
	first, _ := a.Create("me", "t", nil)
	if _, err := b.Append("me", first, Turn{Role: "user", Content: strings.Repeat("x", 8<<10)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("turn past the thread cap: %v", err)
	}
	chunk := Turn{Role: "user", Content: strings.Repeat("c", 6<<10)}
	var ids []string
	for i := range 3 {
		c.t = c.t.Add(time.Second)
		s := rs[i%2]
		id, err := s.Create("me", "t", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append("me", id, chunk); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		if st := a.Stats(); st.Bytes > 16<<10 || st.Threads > 3 {
			t.Fatalf("past the caps: %+v", st)
		}
	}
	// first (the oldest) went for the thread cap, ids[0] for the bytes.
	for _, gone := range []string{first, ids[0]} {
		if _, err := b.Get("me", gone); !errors.Is(err, ErrNotFound) {
			t.Errorf("the least recently updated thread %s is still there: %v", gone, err)
		}
	}
	for _, keep := range ids[1:] {
		if _, err := a.Get("me", keep); err != nil {
			t.Errorf("thread %s was dropped: %v", keep, err)
		}
	}
	if st := b.Stats(); st.Evicted != 2 || st.Threads != 2 {
		t.Fatalf("after eviction: %+v", st)
	}
}

// TestRedisPrefixSeparates: stores under other prefixes share the server, not the threads,
// and every key the store writes starts with its prefix.
func TestRedisPrefixSeparates(t *testing.T) {
	rs, _, srv := replicas(t, 1, Config{})
	other, err := OpenRedis(Config{}, RedisOptions{Addr: srv.Addr, Prefix: "team-b:"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	id, err := rs[0].Create("me", "chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Get("me", id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a thread crossed prefixes: %v", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	keys, err := rdb.Keys(context.Background(), "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatal(keys, err)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "test:") {
			t.Errorf("key %q outside the prefix", k)
		}
	}
}

// TestRedisTamperedRecords: what another client of the server writes under the prefix is
// checked as a bbolt record is: an unreadable record, one stored under another thread's id,
// or one claiming an owner by a changed id is not found, never a crash.
func TestRedisTamperedRecords(t *testing.T) {
	rs, _, srv := replicas(t, 1, Config{MaxThreadBytes: 4096})
	s := rs[0]
	id, _ := s.Create("me", "chat", nil)
	other, _ := s.Create("me", "chat", nil)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	ctx := context.Background()
	rec, _ := rdb.Get(ctx, "test:thread:"+other).Result()
	for name, val := range map[string]string{
		"garbage":       "{not json",
		"another's id":  rec,
		"wrong version": strings.Replace(rec, `"v":1`, `"v":9`, 1),
		"huge":          strings.Repeat("x", recordLimit(4096)+1),
		"empty":         "",
	} {
		if err := rdb.Set(ctx, "test:thread:"+id, val, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get("me", id); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: Get = %v, want ErrNotFound", name, err)
		}
		if _, err := s.Append("me", id, Turn{Role: "user"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: Append = %v, want ErrNotFound", name, err)
		}
	}
}

// TestRedisPassword: a server that wants a password accepts the right one; a wrong or missing
// one is an error that names the address and never the password.
func TestRedisPassword(t *testing.T) {
	const password = "s3cret-Redis-PASSWORD-0451"
	srv := testredis.Start(t, testredis.Options{Password: password})
	s, err := OpenRedis(Config{}, RedisOptions{Addr: srv.Addr, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Create("me", "chat", nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", password + "-wrong"} {
		_, err := OpenRedis(Config{}, RedisOptions{Addr: srv.Addr, Password: p})
		if !errors.Is(err, ErrStorage) || !strings.Contains(err.Error(), srv.Addr) {
			t.Fatalf("password %q: err = %v", p, err)
		}
		if strings.Contains(strings.ToLower(err.Error()), strings.ToLower(password)) {
			t.Fatalf("the error holds the password: %v", err)
		}
	}
}

// TestRedisServerGone: a server that stops answering makes every call ErrStorage, and a
// create changes nothing.
func TestRedisServerGone(t *testing.T) {
	srv := testredis.Start(t, testredis.Options{})
	s, err := OpenRedis(Config{}, RedisOptions{Addr: srv.Addr, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id, _ := s.Create("me", "chat", nil)
	srv.Stop()
	if _, err := s.Create("me", "chat", nil); !errors.Is(err, ErrStorage) {
		t.Errorf("Create: %v", err)
	}
	if _, err := s.Get("me", id); !errors.Is(err, ErrStorage) {
		t.Errorf("Get: %v", err)
	}
	if _, err := s.Append("me", id, Turn{Role: "user"}); !errors.Is(err, ErrStorage) {
		t.Errorf("Append: %v", err)
	}
}
