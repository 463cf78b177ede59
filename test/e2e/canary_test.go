package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/testwasm"
	"github.com/pal-mcp/pal/policy/secrets"
)

// canary is a secret planted in the workspace: the file it is in, the file's contents, the
// part that must never leave pal (the secret itself), and whether the path policy denies the
// file (else redaction must catch it).
type canary struct {
	name, file, content, secret string
	denied                      bool
}

// keyBody returns a PEM private key body of random-looking base64 holding mark.
func keyBody(mark string) string {
	line := "MIIEpAIBAAKCAQEA" + mark + "q3Yw6Ln0Hv5Tb9Kx2Pm8Rf4Jc7Gs1Ua6Ze3Wo9Ni5Qt2Ly8Mb4Vd0Xh7"
	return line[:64] + "\n" + "Cg1Fk3Ir6Sp9Ej2Ao5yQ7n8cLx2P0s3zT6kM9vR4bW1hJ5eU7gY2aF8dN3qK6wL0p" + "\n" + "XtV5iB9oC4mE1jH7sZ2rG8uADq3Yw6Ln0Hv5Tb9Kx2Pm8Rf4Jc7Gs1Ua6Ze3Wo9\n"
}

// canaries are the 15 secrets of the suite: eight in files the default deny list refuses,
// seven in ordinary source files that redaction must clean.
func canaries() []canary {
	rsaMark := "C4n4ryIdRsaBody0x7Q"
	pemMark := "C4n4ryPemBody0x9Z2W"
	goKeyMark := "C4n4ryGoKeyBody5R8T"
	return []canary{
		{"dotenv", "config/.env.production", "STRIPE_KEY=sk_live_C4n4ryDotEnv0x1Lm9Qw\n", "sk_live_C4n4ryDotEnv0x1Lm9Qw", true},
		{"id_rsa", "keys/id_rsa", "-----BEGIN RSA PRIVATE KEY-----\n" + keyBody(rsaMark) + "-----END RSA PRIVATE KEY-----\n", rsaMark, true},
		{"pem", "certs/server.pem", "-----BEGIN PRIVATE KEY-----\n" + keyBody(pemMark) + "-----END PRIVATE KEY-----\n", pemMark, true},
		{"aws credentials", ".aws/credentials", "[default]\naws_access_key_id = AKIAC4N4RYAWSCRED2QX\naws_secret_access_key = C4n4ryAwsSecret/K7MDENG+bPxRfiCYzq8H3kL\n", "C4n4ryAwsSecret/K7MDENG+bPxRfiCYzq8H3kL", true},
		{"netrc", ".netrc", "machine api.example.org login bob password C4n4ryNetrcPw-77x\n", "C4n4ryNetrcPw-77x", true},
		{"npmrc", ".npmrc", "//registry.npmjs.org/:_authToken=npm_C4n4ryNpm0Tok3nZq8Zr4Lm2Xv7Tn1Kp9Bw3\n", "npm_C4n4ryNpm0Tok3nZq8Zr4Lm2Xv7Tn1Kp9Bw3", true},
		{"kube config", ".kube/config", "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: C4n4ryKub3T0k3nQ2w9E8r7T6y5U4i3O\n", "C4n4ryKub3T0k3nQ2w9E8r7T6y5U4i3O", true},
		{"git credentials", ".git-credentials", "https://alice:C4n4ryGitCr3dPw0rd9@github.com\n", "C4n4ryGitCr3dPw0rd9", true},
		{"aws key in go", "src/aws.go", "package cloud\n\nconst accessKeyID = \"AKIAC4N4RY2QX7LMZ5TB\"\n", "AKIAC4N4RY2QX7LMZ5TB", false},
		{"github token in python", "src/deploy.py", "import os\n\nTOKEN = \"ghp_C4n4ryGh0k3nR8tV2mQx9LpZ4nKw7YbC3dHf\"\n", "ghp_C4n4ryGh0k3nR8tV2mQx9LpZ4nKw7YbC3dHf", false},
		{"password in url", "src/db.yaml", "database:\n  url: postgres://app:C4n4ryDbPassw0rd@db.internal:5432/app\n", "C4n4ryDbPassw0rd", false},
		{"slack token", "src/notify.js", "const hook = \"xoxb-2817364509-4719283746102-C4n4rySl4ckT0k3nAbCdEf\";\n", "xoxb-2817364509-4719283746102-C4n4rySl4ckT0k3nAbCdEf", false},
		{"private key in go", "src/keys.go", "package keys\n\nconst signing = `-----BEGIN EC PRIVATE KEY-----\n" + keyBody(goKeyMark) + "-----END EC PRIVATE KEY-----`\n", goKeyMark, false},
		{"provider key in source", "src/config.ts", "export const openaiKey = \"" + apiKey + "\";\n", apiKey, false},
		{"password assignment", "src/settings.py", "DATABASE_PASSWORD = \"C4n4ryG3n3r1cPw9xQ7z\"\n", "C4n4ryG3n3r1cPw9xQ7z", false},
	}
}

// echoProvider answers every chat completion with the request's own messages, so that
// anything sent to it would come back in the tool result too.
func echoProvider(t *testing.T) *provider {
	p := &provider{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.reqs = append(p.reqs, recorded{Auth: r.Header.Get("Authorization"), Body: string(body)})
		p.mu.Unlock()
		var req struct {
			Model    string            `json:"model"`
			Messages []json.RawMessage `json:"messages"`
		}
		json.Unmarshal(body, &req)
		echo, _ := json.Marshal(fmt.Sprintf("you sent: %s", req.Messages))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1764000000,"model":%q,
"choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":"stop"}],
"usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13}}`, req.Model, echo)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// canaryConfig loads the hostile test module with its hostcall tool granted fs.read and
// model.generate: it passes any host request through and returns the reply as its result.
func canaryConfig(t *testing.T, w *workspace) string {
	t.Helper()
	wasm := testwasm.Load(t, "tools-wasm/testdata/hostile")
	path := filepath.Join(w.stateDir, "hostile.wasm")
	if err := os.MkdirAll(w.stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(wasm)
	cfg := fmt.Sprintf("[tools.hostcall]\ncapabilities = [\"fs.read\", \"model.generate\"]\n\n[[modules]]\npath = %q\nsha256 = %q\n",
		path, hex.EncodeToString(sum[:]))
	cfgPath := filepath.Join(w.stateDir, "canary.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath
}

// TestSecretCanariesNeverLeave plants 15 secrets inside the root and drives the real binary:
// fs.read of each through a pass-through tool, model.generate with secrets in the prompt and
// the system prompt, and chat with every source file and a secret in the prompt, against a
// provider that echoes what it receives. No secret may reach a provider request, a tool
// result, the server log (at DEBUG) or the audit log; denied files are refused, the others
// arrive with markers, and the audit log counts the redactions.
func TestSecretCanariesNeverLeave(t *testing.T) {
	w := newWorkspace(t)
	cs := canaries()
	if len(cs) != 15 {
		t.Fatalf("%d canaries, want 15", len(cs))
	}
	scanner, err := secrets.New(secrets.Options{Literals: []string{apiKey}})
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, c := range cs {
		p := filepath.Join(w.root, c.file)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(c.content, c.secret) {
			t.Fatalf("canary %s: secret not in its file", c.name)
		}
		if !c.denied {
			sources = append(sources, p)
			// The suite is only as good as its canaries: each must be one the rules find.
			if out, _ := scanner.RedactFile(c.file, c.content); strings.Contains(out, c.secret) {
				t.Fatalf("canary %s is not detected by the rules: %q", c.name, out)
			}
		}
	}
	promptSecret := "AKIAC4N4RYPRZMPT2QX7"
	systemSecret := "ghp_C4n4ryInSyst3mPr0mptZ4nKw7YbC3dHf6Jx"
	for _, s := range []string{promptSecret, systemSecret} {
		if out, _ := scanner.Redact("x " + s + " y"); strings.Contains(out, s) {
			t.Fatalf("prompt canary %s is not detected", s)
		}
	}

	p := echoProvider(t)
	session, stderr := startCapturing(t, w, p, "PAL_CONFIG="+canaryConfig(t, w))
	var results []string
	hostcall := func(request map[string]any, body string) map[string]any {
		t.Helper()
		args := map[string]any{"request": request}
		if body != "" {
			args["body"] = body
		}
		res, text := callTool(t, session, "hostcall", args)
		results = append(results, text)
		if res.IsError {
			t.Fatalf("hostcall failed: %s", text)
		}
		var out struct {
			Reply map[string]any `json:"reply"`
			Body  string         `json:"body"`
		}
		if err := json.Unmarshal([]byte(text), &out); err != nil {
			t.Fatalf("hostcall result %q: %v", text, err)
		}
		out.Reply["body"] = out.Body
		return out.Reply
	}

	for _, c := range cs {
		reply := hostcall(map[string]any{"op": "fs.read", "path": filepath.Join(w.root, c.file)}, "")
		errObj, _ := reply["error"].(map[string]any)
		body, _ := reply["body"].(string)
		if c.denied {
			if errObj == nil || errObj["code"] != "denied" || body != "" {
				t.Errorf("%s (%s) was not refused: %v", c.name, c.file, reply)
			}
			continue
		}
		if errObj != nil {
			t.Errorf("%s (%s): %v", c.name, c.file, errObj)
			continue
		}
		if !strings.Contains(body, "[REDACTED:") {
			t.Errorf("%s: no marker in %q", c.name, body)
		}
		if res, _ := reply["result"].(map[string]any); res == nil || res["redacted"] == nil {
			t.Errorf("%s: the fs.read result does not count the redaction: %v", c.name, reply)
		}
	}

	reply := hostcall(map[string]any{"op": "model.generate", "model": "gpt-5.2", "system": "use " + systemSecret},
		"here is my key "+promptSecret+" and our db postgres://app:C4n4ryDbPassw0rd@db.internal:5432/app")
	if reply["error"] != nil {
		t.Fatalf("model.generate: %v", reply)
	}

	res, text := callTool(t, session, "chat", map[string]any{"prompt": "Review these files; my key is " + promptSecret,
		"model": "gpt-5.2", "absolute_file_paths": sources})
	results = append(results, text)
	if res.IsError {
		t.Fatalf("chat failed: %s", text)
	}
	if !strings.Contains(text, "[REDACTED:aws-access-token]") {
		t.Errorf("the echoed chat result shows no marker, so the provider saw no file: %s", text)
	}
	reqs := p.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d provider requests, want 2", len(reqs))
	}
	for _, marker := range []string{"[REDACTED:aws-access-token]", "[REDACTED:github-pat]", "[REDACTED:private-key]",
		"[REDACTED:url-password]", "[REDACTED:slack-bot-token]", "[REDACTED:provider-key]"} {
		if !strings.Contains(reqs[1].Body, marker) {
			t.Errorf("chat's provider request lacks %s", marker)
		}
	}

	session.Close() // pal exits: its log and audit log are complete
	raw, err := os.ReadFile(filepath.Join(w.stateDir, "state", "pal", "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	places := map[string]string{"server log": stderr.String(), "audit log": string(raw)}
	for i, r := range reqs {
		places[fmt.Sprintf("provider request %d", i+1)] = r.Body
	}
	for i, r := range results {
		places[fmt.Sprintf("tool result %d", i+1)] = r
	}
	all := append([]string{promptSecret, systemSecret}, func() []string {
		var s []string
		for _, c := range cs {
			s = append(s, c.secret)
		}
		return s
	}()...)
	for place, text := range places {
		for _, secret := range all {
			if strings.Contains(text, secret) {
				t.Errorf("secret %q reached the %s", secret, place)
			}
		}
	}

	var redactedReads, redactedGenerates int
	for _, r := range auditRecords(t, w) {
		n, _ := r["redacted"].(float64)
		if n > 0 && r["op"] == "fs.read" {
			redactedReads++
		}
		if n > 0 && r["op"] == "model.generate" {
			redactedGenerates++
		}
	}
	// 7 source files read by hostcall and again by chat; two generations.
	if redactedReads != 14 || redactedGenerates != 2 {
		t.Errorf("audit log counts redactions on %d reads and %d generations, want 14 and 2:\n%s", redactedReads, redactedGenerates, raw)
	}
}
