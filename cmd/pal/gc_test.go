package main

import (
	"runtime/debug"
	"testing"
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
