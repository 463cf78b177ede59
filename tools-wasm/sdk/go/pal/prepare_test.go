package pal

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

// TestPreparedABI: preparedABI names every Request and Result type of package abi, so that no
// op's messages are left for a call to prepare (PrepareJSON).
func TestPreparedABI(t *testing.T) {
	pkgs, err := parser.ParseDir(token.NewFileSet(), "../abi", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	prepared := map[string]bool{}
	for _, v := range preparedABI {
		prepared[reflect.TypeOf(v).Name()] = true
	}
	var messages int
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.TYPE {
					continue
				}
				for _, s := range g.Specs {
					ts := s.(*ast.TypeSpec)
					if _, isStruct := ts.Type.(*ast.StructType); !isStruct || !ts.Name.IsExported() {
						continue
					}
					if name := ts.Name.Name; strings.HasSuffix(name, "Request") || strings.HasSuffix(name, "Result") {
						messages++
						if !prepared[name] {
							t.Errorf("abi.%s is not in preparedABI", name)
						}
					}
				}
			}
		}
	}
	if messages < 30 {
		t.Fatalf("found %d message types in ../abi; the parse is wrong", messages)
	}
}
