//go:build !wasip1

package main

// The Go kit's fake host (paltest) and the real host (hostfns with policy's path rules)
// refuse the same requests with the same code and the same words, both taking them from
// runtime/abi's shared refusals (abi.Refuse*). The test lives in the tools-wasm module, the
// one that requires both the host and the kit.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/hostfns"
	"github.com/pal-mcp/pal/policy"
	kitabi "github.com/pal-mcp/pal/tools-wasm/sdk/go/abi"
	"github.com/pal-mcp/pal/tools-wasm/sdk/go/pal/paltest"
)

// TestFakeAndRealHostRefuseAlike sends each request to both hosts, granted the same
// capabilities over the same files, and compares the replies' error code and message.
func TestFakeAndRealHostRefuseAlike(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{"a.txt": "hello", "key.pem": "secret", "big.txt": strings.Repeat("z", 50), "sub/b.txt": "b"}
	fake := &paltest.Host{Files: map[string]paltest.File{}, Roots: []string{root}, Deny: []string{"*.pem"}, MaxFileBytes: 40}
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		fake.Files[p] = paltest.File{Content: []byte(content)}
	}
	paths, err := policy.NewPaths([]string{root}, []string{"*.pem"}, policy.Caps{MaxFileBytes: 40})
	if err != nil {
		t.Fatal(err)
	}
	defer paths.Close()
	granted := []string{kitabi.CapFSRead, kitabi.CapFSList}
	fake.SetCall("probe", granted)
	env := &hostfns.Env{Paths: paths, Audit: policy.DiscardAuditor{}}
	real := env.NewCall(hostfns.CallSpec{Tool: "probe", CallID: "c1",
		Grant: policy.NewCapSet(policy.Capability(kitabi.CapFSRead), policy.Capability(kitabi.CapFSList))})

	read := func(p string) string { return `{"op":"fs.read","path":` + quote(p) + `}` }
	list := func(p string) string { return `{"op":"fs.list","path":` + quote(p) + `}` }
	cases := []struct {
		name    string
		request string
		body    bool // add a body
		code    kitabi.Code
	}{
		{"not JSON", "hello", false, kitabi.CodeInvalid},
		{"JSON array", "[1]", false, kitabi.CodeInvalid},
		{"no op", `{"path":"/x"}`, false, kitabi.CodeInvalid},
		{"unknown op", `{"op":"fs.nuke"}`, false, kitabi.CodeUnknownOp},
		{"not granted", `{"op":"model.list"}`, false, kitabi.CodeNotGranted},
		{"not granted, another capability", `{"op":"thread.create","tool":"x"}`, false, kitabi.CodeNotGranted},
		{"body on an op without one", read(filepath.Join(root, "a.txt")), true, kitabi.CodeInvalid},
		{"unknown field", `{"op":"fs.read","path":"/x","bogus":1}`, false, kitabi.CodeInvalid},
		{"field of the wrong type", `{"op":"fs.read","path":5}`, false, kitabi.CodeInvalid},
		{"no path", `{"op":"fs.read"}`, false, kitabi.CodeInvalid},
		{"no path to list", `{"op":"fs.list"}`, false, kitabi.CodeInvalid},
		{"relative path", read("a.txt"), false, kitabi.CodeDenied},
		{"dot-dot out of the root", read(root + "/../../etc/passwd"), false, kitabi.CodeDenied},
		{"outside every root", read("/etc/passwd"), false, kitabi.CodeDenied},
		{"deny rule", read(filepath.Join(root, "key.pem")), false, kitabi.CodeDenied},
		{"missing file", read(filepath.Join(root, "none.txt")), false, kitabi.CodeNotFound},
		{"directory read", read(filepath.Join(root, "sub")), false, kitabi.CodeInvalid},
		{"file too large", read(filepath.Join(root, "big.txt")), false, kitabi.CodeTooLarge},
		{"list a file", list(filepath.Join(root, "a.txt")), false, kitabi.CodeInvalid},
		{"list a missing directory", list(filepath.Join(root, "nope")), false, kitabi.CodeNotFound},
		{"list outside every root", list("/etc"), false, kitabi.CodeDenied},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := []byte(c.request)
			if c.body {
				msg = append(msg, 0, 'x')
			}
			fc, fm := errorOf(t, "fake", fake.Call(append([]byte(nil), msg...)))
			rc, rm := errorOf(t, "real", real.Call(context.Background(), append([]byte(nil), msg...)))
			if fc != rc || fm != rm {
				t.Fatalf("the hosts differ:\nfake %s: %s\nreal %s: %s", fc, fm, rc, rm)
			}
			if fc != c.code {
				t.Fatalf("both say %s: %s; want code %s", fc, fm, c.code)
			}
		})
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// errorOf reads a reply that must be an error.
func errorOf(t *testing.T, who string, reply []byte) (kitabi.Code, string) {
	t.Helper()
	header, _, err := kitabi.Split(reply)
	if err != nil {
		t.Fatalf("%s: reply %q: %v", who, reply, err)
	}
	var r struct {
		Error *struct {
			Code    kitabi.Code `json:"code"`
			Message string      `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(header, &r); err != nil || r.Error == nil {
		t.Fatalf("%s: not an error reply: %s", who, header)
	}
	return r.Error.Code, r.Error.Message
}
