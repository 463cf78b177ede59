package server

import (
	"sync"
	"testing"
	"time"
)

type sent struct {
	mu  sync.Mutex
	got []progressUpdate
	at  []time.Time
}

func (s *sent) send(p progressUpdate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, p)
	s.at = append(s.at, time.Now())
}

func (s *sent) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// TestCoalescerBurstThenLast: a flood gets the burst at once, and the newest of the rest at
// finish; nothing after finish.
func TestCoalescerBurstThenLast(t *testing.T) {
	var s sent
	c := newCoalescer(s.send)
	for i := 1; i <= 10_000; i++ {
		c.offer(progressUpdate{progress: float64(i)})
	}
	if n := s.len(); n != ProgressBurst {
		t.Fatalf("%d sent during the flood, want the burst of %d", n, ProgressBurst)
	}
	c.finish()
	c.offer(progressUpdate{progress: 99_999})
	if n := s.len(); n != ProgressBurst+1 || s.got[n-1].progress != 10_000 {
		t.Fatalf("after finish: %d sent, last %+v; want %d, the last offered", n, s.got[n-1], ProgressBurst+1)
	}
	time.Sleep(2 * ProgressInterval)
	if n := s.len(); n != ProgressBurst+1 {
		t.Fatalf("%d sent after finish", n)
	}
}

// TestCoalescerPace: a steady stream faster than the pace reaches the client at most at the
// pace, and the waiting one goes out on the timer without a new offer.
func TestCoalescerPace(t *testing.T) {
	var s sent
	c := newCoalescer(s.send)
	start := time.Now()
	for i := 1; time.Since(start) < 1200*time.Millisecond; i++ {
		c.offer(progressUpdate{progress: float64(i)})
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	time.Sleep(ProgressInterval + 50*time.Millisecond) // the timer sends the last waiting one
	n := s.len()
	ceiling := ProgressBurst + int(elapsed/ProgressInterval) + 2
	if n > ceiling || n < ProgressBurst+2 {
		t.Fatalf("%d sent in %v; want between %d and %d", n, elapsed, ProgressBurst+2, ceiling)
	}
	s.mu.Lock()
	for i := ProgressBurst + 1; i < len(s.at); i++ {
		if gap := s.at[i].Sub(s.at[i-1]); gap < ProgressInterval-20*time.Millisecond {
			t.Errorf("notifications %d and %d %v apart, under the %v pace", i-1, i, gap, ProgressInterval)
		}
	}
	s.mu.Unlock()
	c.finish()
	if s.len() != n {
		t.Fatal("finish sent a notification that was already delivered")
	}
}
