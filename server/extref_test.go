package server

import (
	"strings"
	"testing"

	"github.com/pal-mcp/pal/policy"
)

const extrefPkg = "tools-wasm/testdata/extref"

// TestExternalSchemaRefRefused gives the server a real module whose input schema refers to a
// file of the host, then one referring to a URL: the server must refuse to build either tool
// (noLoader), not read the file or fetch the URL. With the default loader the file reference
// fails differently (the file is not JSON) and the URL with "no URLLoader", so the message is
// what tells the refusal apart.
func TestExternalSchemaRefRefused(t *testing.T) {
	e := newEngine(t)
	m := load(t, e, "extref", extrefPkg, false)
	cases := []struct{ tool, other, url string }{
		{"fileref", "httpref", "file:///etc/passwd"},
		{"httpref", "fileref", "http://127.0.0.1:9/schema.json"},
	}
	for _, tc := range cases {
		t.Run(tc.tool, func(t *testing.T) {
			p := policy.Default()
			p.Tools.Disabled = []string{tc.other}
			s, err := New(Options{Modules: []LoadedModule{m}, Policy: p})
			if err == nil {
				t.Fatalf("the server started with tools %v", s.Tools())
			}
			for _, want := range []string{`tool "` + tc.tool + `"`, tc.url, "external references are not allowed"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
		})
	}
	// Both disabled: the module loads, so the refusal above came from the schemas alone.
	p := policy.Default()
	p.Tools.Disabled = []string{"fileref", "httpref"}
	if _, err := New(Options{Modules: []LoadedModule{m}, Policy: p}); err != nil {
		t.Fatalf("with both tools disabled: %v", err)
	}
}
