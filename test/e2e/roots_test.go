package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func rootURI(p string) string { return (&url.URL{Scheme: "file", Path: p}).String() }

// rootsClient is a go-sdk client whose roots the test changes while it is connected.
type rootsClient struct {
	client *mcp.Client
	cs     *mcp.ClientSession
}

// connectRoots connects a client holding the given roots: over stdio to a new pal serve when
// endpoint is "", else over streamable HTTP to endpoint.
func connectRoots(t *testing.T, w *workspace, p *provider, endpoint string, roots ...string) *rootsClient {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "pal-e2e-roots", Version: "1"}, nil)
	for _, r := range roots {
		client.AddRoots(&mcp.Root{URI: r})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"}
	var cs *mcp.ClientSession
	var err error
	stderr := &lockedBuffer{}
	if endpoint == "" {
		cmd := exec.Command(palBin, "serve")
		cmd.Dir = w.root
		cmd.Env = serverEnv(w, p)
		cmd.Stderr = stderr
		cs, err = client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, opts)
	} else {
		cs, err = client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint,
			HTTPClient: &http.Client{Transport: bearer{httpToken}}}, opts)
	}
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, stderr.String())
	}
	t.Cleanup(func() {
		cs.Close()
		if t.Failed() && endpoint == "" {
			t.Logf("server stderr:\n%s", stderr.String())
		}
	})
	return &rootsClient{client: client, cs: cs}
}

// read asks chat to read path and reports whether it was allowed, with the result's text.
func (c *rootsClient) read(t *testing.T, path string) (bool, string) {
	t.Helper()
	res, text := callTool(t, c.cs, "chat", map[string]any{"prompt": "read it", "absolute_file_paths": []string{path}, "model": "gpt-5.2"})
	return !res.IsError, text
}

func (c *rootsClient) mustRead(t *testing.T, path string) {
	t.Helper()
	if ok, text := c.read(t, path); !ok {
		t.Fatalf("reading %s was refused: %s", path, text)
	}
}

func (c *rootsClient) mustNotRead(t *testing.T, path, why string) {
	t.Helper()
	ok, text := c.read(t, path)
	if ok {
		t.Fatalf("reading %s was allowed: %s", path, text)
	}
	if !strings.Contains(text, why) {
		t.Fatalf("the refusal of %s does not say %q: %s", path, why, text)
	}
}

// rootsWorkspace is a workspace with a second directory, docs, beside src.
func rootsWorkspace(t *testing.T) (*workspace, string, string) {
	t.Helper()
	w := newWorkspace(t)
	docs := filepath.Join(w.root, "docs", "readme.md")
	if err := os.MkdirAll(filepath.Dir(docs), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(docs, []byte("MARKER-DOCS-55\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return w, filepath.Join(w.root, "src", "calc.go"), docs
}

const outsideClientRoots = "outside the MCP client's roots"

// rootsScenario is what both transports must show: the client's roots narrow the allowlist,
// a roots change takes effect on the next call, a hostile root never allows what the trusted
// roots refuse, and a reply with too many roots is capped.
func rootsScenario(t *testing.T, w *workspace, p *provider, c *rootsClient, calc, docs string) {
	src, docsDir := filepath.Dir(calc), filepath.Dir(docs)

	// Roots = src: a file in src is read; one in docs (inside the trusted root) is refused.
	c.mustRead(t, calc)
	c.mustNotRead(t, docs, outsideClientRoots)

	// The client changes its roots (two list_changed notifications): docs now, src no more.
	c.client.AddRoots(&mcp.Root{URI: rootURI(docsDir)})
	c.client.RemoveRoots(rootURI(src))
	c.mustRead(t, docs)
	c.mustNotRead(t, calc, outsideClientRoots)

	// A hostile root outside the trusted roots is ignored: it never allows /etc/passwd, and
	// with only it left nothing is readable.
	c.client.AddRoots(&mcp.Root{URI: "file:///etc"}, &mcp.Root{URI: "file:///"})
	c.client.RemoveRoots(rootURI(docsDir))
	c.mustNotRead(t, "/etc/passwd", "outside")
	c.client.RemoveRoots("file:///")
	c.mustNotRead(t, "/etc/passwd", "outside")
	c.mustNotRead(t, docs, outsideClientRoots)

	// An absurd reply: 1,000 roots, docs past the first 64: only the first 64 count.
	var many []*mcp.Root
	for i := range 1000 {
		many = append(many, &mcp.Root{URI: fmt.Sprintf("file:///aaa/%04d", i)})
	}
	c.client.AddRoots(append(many, &mcp.Root{URI: rootURI(docsDir)})...)
	c.mustNotRead(t, docs, outsideClientRoots)

	// No client root allows anything now; the trusted root's own rules still hold beneath.
	for _, r := range p.requests() {
		for _, marker := range []string{"MARKER-OUTSIDE-99", "root:x:0:0"} {
			if strings.Contains(r.Body, marker) {
				t.Fatalf("the provider received %s", marker)
			}
		}
	}
	// Each refusal and each ignored root is in the audit log.
	var refused, ignored, cap int
	for _, r := range auditRecords(t, w) {
		reason, _ := r["reason"].(string)
		switch {
		case r["op"] == "client.roots" && r["decision"] == "deny" && r["path"] == "file:///etc":
			ignored++
		case r["op"] == "client.roots" && r["decision"] == "deny" && strings.Contains(reason, "over the cap"):
			cap++
		case r["decision"] == "deny" && strings.Contains(reason, outsideClientRoots):
			refused++
		}
	}
	if refused < 4 || ignored == 0 || cap == 0 {
		t.Fatalf("audit log: %d refusals outside the client's roots (want 4+), %d records of file:///etc ignored, %d of the cap", refused, ignored, cap)
	}
}

// TestClientRootsOverStdio drives the binary over stdio with the go-sdk client, whose roots
// narrow what tools read and change while it is connected.
func TestClientRootsOverStdio(t *testing.T) {
	w, calc, docs := rootsWorkspace(t)
	p := newProvider(t)
	c := connectRoots(t, w, p, "", rootURI(filepath.Dir(calc)))
	rootsScenario(t, w, p, c, calc, docs)
}

// TestClientRootsOverHTTP is the same over streamable HTTP, with a second session whose
// roots differ: each session's calls use its own roots.
func TestClientRootsOverHTTP(t *testing.T) {
	w, calc, docs := rootsWorkspace(t)
	p := newProvider(t)
	endpoint := startHTTP(t, w, p)
	other := connectRoots(t, w, p, endpoint, rootURI(filepath.Dir(docs)))
	c := connectRoots(t, w, p, endpoint, rootURI(filepath.Dir(calc)))
	other.mustRead(t, docs)
	other.mustNotRead(t, calc, outsideClientRoots)
	rootsScenario(t, w, p, c, calc, docs)
	// The other session kept its own roots through all of that.
	other.mustRead(t, docs)
	other.mustNotRead(t, calc, outsideClientRoots)
}
