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
// pace, and the waiting one goes out on the timer without a new offer. The pace is checked as
// the token bucket's own promise, on the coalescer's clock (the refill time of each send): any
// run of k notifications spans at least (k-Burst)·Interval. A late timer, as on a loaded
// machine, only delays sends, so this holds however busy the machine is; two sends close
// together after a late one are allowed, since the bucket saved that token.
func TestCoalescerPace(t *testing.T) {
	var at []time.Time // refill time of each send, read under the coalescer's lock
	var mu sync.Mutex
	var c *coalescer
	c = newCoalescer(func(progressUpdate) {
		mu.Lock()
		at = append(at, c.at)
		mu.Unlock()
	})
	start := time.Now()
	for i := 1; time.Since(start) < 1200*time.Millisecond; i++ {
		c.offer(progressUpdate{progress: float64(i)})
		time.Sleep(5 * time.Millisecond)
	}
	// The timer sends the last waiting one without a new offer.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		waiting := c.pending != nil
		c.mu.Unlock()
		if !waiting || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	sends := append([]time.Time(nil), at...)
	mu.Unlock()
	c.mu.Lock()
	if c.pending != nil {
		t.Error("the waiting notification was never sent by the timer")
	}
	c.mu.Unlock()
	if len(sends) < ProgressBurst+2 {
		t.Fatalf("%d sent; want at least the burst of %d and two paced ones", len(sends), ProgressBurst)
	}
	const slack = time.Millisecond // float rounding in the refill
	for i := range sends {
		for j := i + ProgressBurst; j < len(sends); j++ {
			k := j - i + 1
			if span, least := sends[j].Sub(sends[i]), time.Duration(k-ProgressBurst)*ProgressInterval-slack; span < least {
				t.Fatalf("notifications %d..%d (%d of them) span %v, under the pace's %v", i, j, k, span, least)
			}
		}
	}
	n := len(sends)
	c.finish()
	mu.Lock()
	defer mu.Unlock()
	if len(at) != n {
		t.Fatal("finish sent a notification that was already delivered")
	}
}
