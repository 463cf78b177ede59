package hostfns

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/policy/secrets"
	"github.com/pal-mcp/pal/runtime/abi"
)

const (
	awsCanary    = "AKIAZ7Q3LX4RNTW2VKMB"
	githubCanary = "ghp_R8tV2mQx9LpZ4nKw7YbC3dHf6JsA1eUo5GiN"
)

// withSecrets gives the fixture the scanner and log redaction the app builds.
func withSecrets(t *testing.T, f *fixture) *bytes.Buffer {
	t.Helper()
	sc, err := secrets.New(secrets.Options{Literals: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}
	f.env.Secrets = sc
	f.env.Redact.SetPatterns(sc)
	var logs bytes.Buffer
	f.env.Logger = slog.New(policy.NewRedactingHandler(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}), f.env.Redact))
	return &logs
}

func TestFSReadIsRedacted(t *testing.T) {
	f := newFixture(t)
	withSecrets(t, f)
	src := "package cfg\n\nconst awsID = \"" + awsCanary + "\"\nvar token = \"" + githubCanary + "\"\n// key: " + secret + "\n"
	p := filepath.Join(f.root, "src", "cfg.go")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := do(t, f.call(abi.CapFSRead), map[string]any{"op": "fs.read", "path": p}, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	body := string(r.body)
	for _, s := range []string{awsCanary, githubCanary, secret} {
		if strings.Contains(body, s) {
			t.Fatalf("%q reached the tool: %q", s, body)
		}
	}
	for _, m := range []string{"[REDACTED:aws-access-token]", "[REDACTED:github-pat]", "[REDACTED:provider-key]"} {
		if !strings.Contains(body, m) {
			t.Fatalf("marker %s missing from %q", m, body)
		}
	}
	if r.result["redacted"].(float64) != 3 || r.result["size"].(float64) != float64(len(src)) {
		t.Fatalf("result %v", r.result)
	}
	rec := f.audit.Records()[0]
	if rec.Redacted != 3 || !slices.Equal(rec.RedactedKinds, []string{"aws-access-token", "github-pat", "provider-key"}) || rec.Bytes != int64(len(src)) {
		t.Fatalf("audit record %+v", rec)
	}

	// A file without secrets comes back byte for byte, with no count.
	r = do(t, f.call(abi.CapFSRead), map[string]any{"op": "fs.read", "path": filepath.Join(f.root, "src", "main.go")}, nil)
	if string(r.body) != "package main\n" || r.result["redacted"] != nil {
		t.Fatalf("clean read: %q %v", r.body, r.result)
	}
}

func TestModelGenerateIsRedacted(t *testing.T) {
	f := newFixture(t)
	withSecrets(t, f)
	c := f.call(abi.CapModelGenerate)
	r := do(t, c, map[string]any{"op": "model.generate", "model": "auto", "system": "you may use " + secret},
		[]byte("review this:\nconst id = \""+awsCanary+"\"\ndb = postgres://app:Hunter2-Correct@db:5432/x\n"))
	if r.err != nil {
		t.Fatal(r.err)
	}
	got := f.models.last
	for _, s := range []string{awsCanary, secret, "Hunter2-Correct"} {
		if strings.Contains(got.Prompt, s) || strings.Contains(got.SystemPrompt, s) {
			t.Fatalf("%q reached the provider: %+v", s, got)
		}
	}
	if !strings.Contains(got.Prompt, "[REDACTED:url-password]") || !strings.Contains(got.SystemPrompt, "[REDACTED:provider-key]") {
		t.Fatalf("markers missing: %+v", got)
	}
	recs := f.audit.Records()
	if rec := recs[len(recs)-1]; rec.Redacted != 3 || len(rec.RedactedKinds) != 3 {
		t.Fatalf("audit record %+v", rec)
	}
}

func TestImageWithSecretTextIsRefused(t *testing.T) {
	f := newFixture(t)
	withSecrets(t, f)
	p := filepath.Join(f.root, "note.gif")
	if err := os.WriteFile(p, []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00!\xfe\x1ecomment "+awsCanary+"\x00;"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := f.models.calls
	r := do(t, f.call(abi.CapModelGenerate), map[string]any{"op": "model.generate", "model": "auto", "images": []string{p}}, []byte("p"))
	wantCode(t, r, abi.CodeDenied, "secret")
	if f.models.calls != before || strings.Contains(r.err.Message, awsCanary) {
		t.Fatalf("image with a secret: calls %d, message %q", f.models.calls, r.err.Message)
	}
}

func TestGuestLogIsRedacted(t *testing.T) {
	f := newFixture(t)
	logs := withSecrets(t, f)
	c := f.call()
	c.Log(context.Background(), abi.LogInfo, "found "+awsCanary+" and "+secret+" in config")
	out := logs.String()
	if strings.Contains(out, awsCanary) || strings.Contains(out, secret) || !strings.Contains(out, "[REDACTED:aws-access-token]") {
		t.Fatalf("log line: %q", out)
	}
}
