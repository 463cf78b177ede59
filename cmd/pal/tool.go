package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pal-mcp/pal/internal/app"
	"github.com/pal-mcp/pal/internal/scaffold"
	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/runtime"
	"github.com/pal-mcp/pal/runtime/abi"
	"github.com/pal-mcp/pal/runtime/extism"
)

// toolCmd runs `pal tool new` and `pal tool check`.
func toolCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "pal tool: want new or check")
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "new":
		return toolNew(args[1:], stdout, stderr)
	case "check":
		return toolCheck(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "pal tool: unknown subcommand %q (want new or check)\n", args[0])
	return 2
}

// toolNew runs `pal tool new LANG NAME [-dir DIR]`: it writes a project for a tool named NAME
// in LANG (scaffold.Languages) into DIR (default ./NAME), which must be new or empty, and says
// how to build and test it. The flags may come before, between or after the two arguments.
// Exit 0 when written, 1 when refused (an existing non-empty DIR, a write error), 2 on a bad
// command line (an unknown language, a name that is not [a-z][a-z0-9_]{0,62}).
func toolNew(args []string, stdout, stderr io.Writer) int {
	const use = "usage: pal tool new LANG NAME [-dir DIR]   (LANG: go, assemblyscript, c, rust)"
	fs := flag.NewFlagSet("tool new", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", "", "the directory to write the project into, new or empty (default ./NAME)")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(stdout, use)
				return 0
			}
			fmt.Fprintf(stderr, "pal tool new: %v\n%s\n", err, use)
			return 2
		}
		if args = fs.Args(); len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	if len(pos) != 2 {
		fmt.Fprintln(stderr, use)
		return 2
	}
	lang, name := pos[0], pos[1]
	if err := scaffold.CheckName(lang, name); err != nil {
		fmt.Fprintf(stderr, "pal tool new: %v\n", err)
		return 2
	}
	if *dir == "" {
		*dir = name
	}
	written, err := scaffold.Write(lang, *dir, scaffold.Data{
		Name: name, ABI: abi.Version, PalVersion: app.Version,
		GoKit: scaffold.GoKit, GoKitVersion: scaffold.GoKitVersion,
	})
	if err != nil {
		fmt.Fprintf(stderr, "pal tool new: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s: a %s tool %q that reads one file (fs.read) and counts its lines and words\n", *dir, lang, name)
	for _, f := range written {
		fmt.Fprintf(stdout, "  %s\n", f)
	}
	fmt.Fprintf(stdout, "\nnext (README.md says more):\n  cd %s\n", *dir)
	switch lang {
	case "assemblyscript":
		fmt.Fprintf(stdout, "  npm ci            # installs AssemblyScript from npm\n  npm test          # builds %s.wasm and tests it under the kit's fake host\n", name)
	default:
		fmt.Fprintf(stdout, "  make test         # the tool's test, natively, under the kit's fake host\n  make              # builds %s.wasm\n", name)
	}
	fmt.Fprintf(stdout, "  pal tool check %s.wasm   # the lines to pin it and grant it fs.read in pal.toml\n", name)
	return 0
}

// checkFinding is one refusal of `pal tool check`. pin marks a refusal that pasting the
// printed [[modules]] lines fixes (a pal.toml pin that is not the file's hash).
type checkFinding struct {
	msg string
	pin bool
}

// toolCheck reads a module the way the server would load it and says whether it may: its
// ABI (native or Extism, told by its imports), every import judged by the one list of what
// pal offers (runtime.CheckImport, extism.CheckImport), stricter than the loader in one way: a
// WASI path or socket function, which the loader links but which can only fail, is refused
// here, because a tool written to use it does not work. Then its manifest (read as the
// loader reads it, in the sandbox with no host), its sha256 against -sha256 and against the
// pins of the configured pal.toml layers, and the lines to paste into a trusted pal.toml.
// Exit 0 when the module would load and work, 1 when something is refused, 2 on a bad
// command line.
func toolCheck(args []string, stdout, stderr io.Writer) int {
	var want string
	opts, rest, ok, code := layerFlags("tool check", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&want, "sha256", "", "the sha256 the module must have (64 hex digits)")
	})
	if !ok {
		return code
	}
	if len(rest) != 1 {
		fmt.Fprintln(stderr, "usage: pal tool check [-sha256 HEX] [-config FILE] MODULE.wasm")
		return 2
	}
	path, err := filepath.Abs(rest[0])
	if err != nil {
		fmt.Fprintf(stderr, "pal: %v\n", err)
		return 1
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "pal: %v\n", err)
		return 1
	}
	sum := sha256.Sum256(wasm)
	hash := hex.EncodeToString(sum[:])
	ctx := context.Background()
	var refused []checkFinding
	refuse := func(format string, a ...any) { refused = append(refused, checkFinding{msg: fmt.Sprintf(format, a...)}) }

	fmt.Fprintf(stdout, "module  %s\nsize    %d bytes\nsha256  %s\n", path, len(wasm), hash)
	imports, err := runtime.Imports(ctx, wasm)
	if err != nil {
		fmt.Fprintf(stderr, "pal: %s is not a WebAssembly module pal can compile: %v\n", path, err)
		return 1
	}
	abiName := policy.ModuleABIPal
	if extism.IsPlugin(imports) {
		abiName = policy.ModuleABIExtism
	}
	check := runtime.CheckImport
	if abiName == policy.ModuleABIExtism {
		fmt.Fprintln(stdout, "abi     extism (an Extism plugin: pal_call in extism:host/user; docs/abi.md, Extism plugins)")
		check = extism.CheckImport
	} else {
		fmt.Fprintf(stdout, "abi     pal %d (native: pal.call, pal.log; docs/abi.md)\n", abi.Version)
	}
	fmt.Fprintf(stdout, "imports (%d)\n", len(imports))
	loadable := true // no import the loader refuses
	for _, im := range imports {
		if err := check(im.Module, im.Name); err != nil {
			fmt.Fprintf(stdout, "  refused  %s.%s\n", im.Module, im.Name)
			refuse("%v", err)
			loadable = loadable && errors.Is(err, runtime.ErrImportNoAccess)
			continue
		}
		fmt.Fprintf(stdout, "  ok       %s.%s\n", im.Module, im.Name)
	}

	cfg, cfgErr := checkConfig(opts)
	var man *abi.Manifest
	if !loadable {
		fmt.Fprintln(stdout, "manifest not read: pal cannot load a module with these imports")
	} else if man, err = loadForCheck(ctx, cfg, path, wasm, abiName); err != nil {
		refuse("%v", err)
	} else {
		printManifest(stdout, man, cfg)
	}

	if want != "" && !strings.EqualFold(want, hash) {
		refuse("sha256 mismatch: %s has sha256 %s, -sha256 says %s: this is not the file you meant, or it was rebuilt",
			path, hash, want)
	}
	if cfgErr != nil {
		fmt.Fprintf(stderr, "pal: the pal.toml layers did not load, so the pins in them were not checked: %v\n", cfgErr)
	} else {
		refused = append(refused, pinFindings(cfg, path, hash, abiName)...)
	}

	if len(refused) == 0 || (man != nil && onlyPinRefused(refused)) {
		printPasteLines(stdout, path, hash, abiName, cfgErr == nil && inUserDir(cfg, path), man)
	}
	if len(refused) > 0 {
		for _, f := range refused {
			fmt.Fprintf(stderr, "refused: %s\n", f.msg)
		}
		return 1
	}
	fmt.Fprintln(stdout, "ok: pal would load this module")
	return 0
}

// checkConfig loads the configuration layers for the limits and pins; without them the
// defaults apply.
func checkConfig(opts app.Options) (*policy.Config, error) {
	_, _, cfg, err := app.LoadConfig(opts)
	if err != nil {
		return policy.Default(), err
	}
	return cfg, nil
}

// loadForCheck loads the module as the server does (runtime.Engine or runtime/extism, with
// the configured limits and no cache) and returns its manifest.
func loadForCheck(ctx context.Context, cfg *policy.Config, path string, wasm []byte, abiName string) (*abi.Manifest, error) {
	eng, err := runtime.New(ctx, runtime.Config{
		CallTimeout:      cfg.Limits.CallTimeout.Duration,
		MemoryLimitBytes: uint64(cfg.Limits.MemoryMB) << 20,
		OutputLimitBytes: uint32(cfg.Limits.OutputBytes),
		PoolSize:         -1,
	})
	if err != nil {
		return nil, err
	}
	defer eng.Close(ctx)
	if abiName == policy.ModuleABIExtism {
		p, err := extism.Load(ctx, eng.Config(), path, wasm, "")
		if err != nil {
			return nil, err
		}
		defer p.Close(ctx)
		return p.Manifest(), nil
	}
	m, err := eng.LoadModule(ctx, path, wasm, "")
	if err != nil {
		return nil, err
	}
	return m.Manifest(), nil
}

// printManifest writes the module's name and each tool with what it declares and what the
// policy grants it today.
func printManifest(w io.Writer, man *abi.Manifest, cfg *policy.Config) {
	fmt.Fprintf(w, "manifest %s %s (abi %d), %d tool(s)\n", man.Name, man.Version, man.ABI, len(man.Tools))
	for _, t := range man.Tools {
		desc, _, _ := strings.Cut(t.Description, "\n")
		fmt.Fprintf(w, "  %s: %s\n", t.Name, desc)
		caps := strings.Join(t.Capabilities, " ")
		if caps == "" {
			caps = "none"
		}
		declared := make([]policy.Capability, len(t.Capabilities))
		for i, c := range t.Capabilities {
			declared[i] = policy.Capability(c)
		}
		grant := cfg.Grant(t.Name, declared, false).List()
		granted := make([]string, len(grant))
		for i, c := range grant {
			granted[i] = string(c)
		}
		g := strings.Join(granted, " ")
		if g == "" {
			g = "nothing yet (add the [tools." + t.Name + "] table below to a trusted pal.toml)"
		}
		fmt.Fprintf(w, "    declares: %s\n    granted:  %s\n", caps, g)
	}
}

// pinFindings compares hash with the [[modules]] pins the configuration holds for path.
func pinFindings(cfg *policy.Config, path, hash, abiName string) []checkFinding {
	var out []checkFinding
	if inUserDir(cfg, path) {
		name := filepath.Base(path)
		switch pin := cfg.UserModules.Pins[name]; {
		case pin == "":
			out = append(out, checkFinding{pin: true, msg: fmt.Sprintf("not pinned: %s is in user_modules.dir, whose files pal loads only when [user_modules.pins] holds their sha256 (the line above)", path)})
		case pin != hash:
			out = append(out, checkFinding{pin: true, msg: fmt.Sprintf("sha256 mismatch: %s has sha256 %s, but [user_modules.pins] (%s) pins %s: pal refuses it until the new hash is pinned (the line above), which you should do only if you trust the new build",
				path, hash, originOrDefault(cfg, "user_modules.pins"), pin)})
		}
	}
	for _, m := range cfg.Modules {
		if !samePath(m.Path, path) {
			continue
		}
		origin := cfg.Origins["modules"]
		if origin == "" {
			origin = "pal.toml"
		}
		if m.SHA256 != hash {
			out = append(out, checkFinding{pin: true, msg: fmt.Sprintf("sha256 mismatch: %s has sha256 %s, but the %s pins %s: pal refuses it until the new hash is pinned (the [[modules]] lines above), which you should do only if you trust the new build",
				path, hash, origin, m.SHA256)})
		}
		if got := cmpABI(m.ABI); got != abiName {
			out = append(out, checkFinding{pin: true, msg: fmt.Sprintf("abi mismatch: the %s loads %s with abi = %q, but it is %s module", origin, path, got, article(abiName))})
		}
	}
	return out
}

// inUserDir reports whether path is a file directly in [user_modules] dir.
func inUserDir(cfg *policy.Config, path string) bool {
	return cfg.UserModules.Dir != "" && samePath(filepath.Dir(path), cfg.UserModules.Dir)
}

func originOrDefault(cfg *policy.Config, key string) string {
	if o := cfg.Origins[key]; o != "" {
		return o
	}
	return "default"
}

func cmpABI(a string) string {
	if a == "" {
		return policy.ModuleABIPal
	}
	return a
}

func article(abiName string) string {
	if abiName == policy.ModuleABIExtism {
		return "an Extism"
	}
	return "a native pal"
}

// onlyPinRefused reports whether every finding is about a pal.toml pin, so the lines to
// paste fix them.
func onlyPinRefused(fs []checkFinding) bool {
	for _, f := range fs {
		if !f.pin {
			return false
		}
	}
	return true
}

// samePath compares two paths by their real location where they exist.
func samePath(a, b string) bool {
	real := func(p string) string {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		return filepath.Clean(p)
	}
	return real(a) == real(b)
}

// printPasteLines writes the [[modules]] entry (or, for a file of user_modules.dir, its
// [user_modules.pins] line) and a [tools.<name>] grant table per tool, for a trusted pal.toml
// (the user file or -config: a project file may not load modules).
func printPasteLines(w io.Writer, path, hash, abiName string, inDir bool, man *abi.Manifest) {
	fmt.Fprintln(w, "\n# paste into a trusted pal.toml (~/.config/pal/pal.toml or -config; a project's pal.toml may not load modules):")
	if inDir {
		fmt.Fprintf(w, "[user_modules.pins]\n%q = %q\n", filepath.Base(path), hash)
	} else {
		fmt.Fprintf(w, "[[modules]]\npath = %q\nsha256 = %q\n", path, hash)
		if abiName == policy.ModuleABIExtism {
			fmt.Fprintf(w, "abi = %q\n", abiName)
		}
	}
	if man == nil {
		return
	}
	for _, t := range man.Tools {
		q := make([]string, len(t.Capabilities))
		for i, c := range t.Capabilities {
			q[i] = fmt.Sprintf("%q", c)
		}
		fmt.Fprintf(w, "\n[tools.%s]\ncapabilities = [%s]  # grant only what you want it to have\n", t.Name, strings.Join(q, ", "))
	}
	fmt.Fprintln(w)
}
