package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestConcurrentTrustLosesNoRecord: many `pal trust` at once (each its own TrustStore on the
// same file, as separate processes are) all land; without the lock in update, writers that
// read the same records drop one another's.
func TestConcurrentTrustLosesNoRecord(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "state", "pal", "trusted.json")
	const n = 16
	var files []string
	for i := range n {
		f := filepath.Join(dir, fmt.Sprintf("p%d", i), "pal.toml")
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(fmt.Sprintf("# project %d\n", i)), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	var wg sync.WaitGroup
	for _, f := range files {
		wg.Go(func() {
			if _, err := (&TrustStore{Path: store}).Trust(f); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	recs, err := (&TrustStore{Path: store}).List()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("%d records after %d concurrent trusts", len(recs), n)
	}
}
