package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pal-mcp/pal/internal/testwasm"
)

// TestDeadMethods links pal as `make build` does (the Makefile's PAL_TAGS) with the linker's
// -dumpdep and fails when a reachable function is marked <ReflectMethod>: one that calls
// reflect's Method or MethodByName with an argument the compiler cannot see. The linker then
// cannot drop any exported method of any type converted to an interface, and the binary keeps
// them all: 59.1 MB instead of 35.6 MB when the three callers of docs/RATIONALE.md §73 were
// there, and any one of them keeps nearly all of it. A dependency that brings one back (an
// upgrade, a new import of text/template or html/template, of golang.org/x/net/trace) fails
// here, with the chain of callers that reaches it.
func TestDeadMethods(t *testing.T) {
	if testing.Short() {
		t.Skip("links the pal binary")
	}
	top := testwasm.Root(t)
	tags := makefileTags(t, top)
	var rest []string
	for _, tag := range strings.Split(tags, ",") {
		if tag != "palmodules" {
			rest = append(rest, tag)
		}
	}
	if got := strings.Join(rest, ","); got != testwasm.Tags {
		t.Errorf("internal/testwasm.Tags is %q; the Makefile's PAL_TAGS without palmodules is %q: BuildPal must build what make builds", testwasm.Tags, got)
	}

	// made.go (palmodules) embeds modules/builtin.wasm and its manifest, which only make
	// writes: empty stand-ins through -overlay, as their content changes no dependency.
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	overlayFile, err := testwasm.WriteOverlay(dir, map[string]string{
		filepath.Join(top, "internal", "builtinwasm", "modules", "builtin.wasm"):     empty,
		filepath.Join(top, "internal", "builtinwasm", "modules", "builtin.manifest"): empty,
	})
	if err != nil {
		t.Fatal(err)
	}
	build := []string{"build", "-trimpath", "-tags", tags, "-ldflags=-dumpdep", "-overlay", overlayFile, "-o", filepath.Join(dir, "pal"), "./cmd/pal"}
	cmd := exec.Command("go", build...)
	cmd.Dir = top
	var out bytes.Buffer // the linker's dump, which go build passes on, and any error
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(build, " "), err, tail(out.String(), 4000))
	}
	marked, chains, edges := reflectMethods(out.Bytes())
	if edges < 10000 {
		t.Fatalf("go %s wrote %d edges of the linker's dependency graph; the check needs them all:\n%s", strings.Join(build, " "), edges, tail(out.String(), 4000))
	}
	t.Logf("%d edges, %d marked <ReflectMethod>", edges, len(marked))
	if len(marked) == 0 {
		return
	}
	var msg strings.Builder
	fmt.Fprintf(&msg, "%d reachable functions call reflect's Method or MethodByName with a run-time argument (<ReflectMethod> in the linker's -dumpdep):\n", len(marked))
	for _, s := range marked {
		fmt.Fprintf(&msg, "\n  %s\n", s)
		for _, c := range chains[s] {
			fmt.Fprintf(&msg, "      <- %s\n", c)
		}
	}
	fmt.Fprintf(&msg, "\nWith any of them the linker keeps every exported method of every type converted to an interface: "+
		"about 23 MB more binary (59.1 MB instead of 35.6 MB) and the memory that maps it (docs/RATIONALE.md §73). "+
		"Each is listed with the callers that reach it (first edge the linker followed, from the root); the whole graph: "+
		"go build -tags %s -ldflags=-dumpdep -o /dev/null ./cmd/pal 2>&1 | grep -F '<ReflectMethod>' "+
		"(after make modules). Some are only reached through the others, which kept every method: "+
		"a chain through a type (type:T) to one of T's methods means a method of that name is called through an interface "+
		"or by MethodByName with that constant name (protobuf v1.34.2's \"Methods\" kept reflect.Value.Methods); grep the graph for it. "+
		"Remove the caller, upgrade past it, or build it out (a build tag in the Makefile's PAL_TAGS, as grpcnotrace does for gRPC's x/net/trace).", tags)
	t.Error(msg.String())
}

// makefileTags returns the Makefile's PAL_TAGS, the build tags of bin/pal.
func makefileTags(t *testing.T, top string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(top, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^PAL_TAGS\s*:=\s*(\S+)\s*$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("the Makefile has no line PAL_TAGS := TAG,TAG...")
	}
	return string(m[1])
}

// attr matches an attribute -dumpdep writes after a symbol, such as " <ReflectMethod>".
var attr = regexp.MustCompile(`( <[A-Za-z]+>)+$`)

// reflectMethods reads -dumpdep's lines "FROM [<attr>] -> TO [<attr>]" and returns the symbols
// marked <ReflectMethod>, sorted, for each the chain of the first edges that reached it (at
// most 15 links, root last), and the number of edges read.
func reflectMethods(dump []byte) (marked []string, chains map[string][]string, edges int) {
	pred := map[string]string{}
	isMarked := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(dump))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		from, to, ok := strings.Cut(sc.Text(), " -> ")
		if !ok {
			continue
		}
		edges++
		for _, s := range []*string{&from, &to} {
			if a := attr.FindString(*s); a != "" {
				*s = strings.TrimSuffix(*s, a)
				if strings.Contains(a, "<ReflectMethod>") {
					isMarked[*s] = true
				}
			}
		}
		if _, seen := pred[to]; !seen {
			pred[to] = from
		}
	}
	chains = map[string][]string{}
	for s := range isMarked {
		marked = append(marked, s)
		seen := map[string]bool{s: true}
		for p, ok := pred[s]; ok && !seen[p] && len(chains[s]) < 15; p, ok = pred[p] {
			chains[s] = append(chains[s], p)
			seen[p] = true
		}
	}
	slices.Sort(marked)
	return marked, chains, edges
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
