// Command pal is an MCP server that lets AI coding clients consult other models, with every
// tool running as a WebAssembly module in a sandbox.
//
//	pal [serve]            serve MCP over stdio (the default), or streamable HTTP with -http ADDR
//	pal tools              list the tools the server would publish, with summary and grant
//	pal policy ...         show, check and explain the policy
//	pal trust [DIR]        trust a project's pal.toml
//	pal audit              read and filter the audit log, with a summary
//	pal doctor [-online]   check configuration, keys, providers and directories; print client snippets
//	pal call TOOL -args J  run one tool call through the server's own code path; print the result
//	pal tool new LANG NAME write a tool project (go, assemblyscript, c, rust) that builds and tests at once
//	pal tool check FILE    check a tool module against the ABI and its pin; print the pal.toml lines
//	pal version            print the version (also --version, -version)
//
// Flags for serve and tools: -config FILE (default $PAL_CONFIG) and -system-config FILE.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/pal-mcp/pal/internal/app"
	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/server"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || args[0] == "-h" || args[0] == "--help" ||
		args[0] == "--version" || args[0] == "-version") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, stdin, stdout, stderr)
	case "tools":
		return tools(args, stdout, stderr)
	case "policy":
		return policyCmd(args, stdout, stderr)
	case "trust":
		return trustCmd(args, stdout, stderr)
	case "audit":
		return audit(args, stdout, stderr)
	case "doctor":
		return doctor(args, stdout, stderr)
	case "tool":
		return toolCmd(args, stdout, stderr)
	case "call":
		return callCmd(args, stdin, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "pal %s\n", app.Version)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "pal: unknown command %q\n", cmd)
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: pal [command] [flags]

commands:
  serve [-http ADDR]             serve MCP over stdio (default), or streamable HTTP on ADDR
  tools                          list the tools the server would publish, with summary and grant
  policy show                    print the effective policy and where each value comes from
  policy check FILE              validate one pal.toml
  policy explain TOOL OP TARGET  say whether a call would be allowed and which rule decides
  trust [-revoke|-list] [DIR]    trust (or stop trusting) a project's pal.toml as it is now
  audit [-tool -op -decision -since -until]
                                 read the audit log: matching records and a summary
  doctor [-online]               check the configuration, which keys are set (names only), the
                                 cache and state directories, with -online whether providers
                                 answer; print the config for Claude Code, Codex, Cursor, Gemini CLI
  call TOOL [-args JSON] [-json] run one tool call from the shell through the server pal serve
                                 builds (same policy, grants, budgets, audit); print its text,
                                 an error on stderr with exit 1 (-args - reads stdin)
  tool new LANG NAME [-dir DIR] write a project for a tool NAME in LANG (go, assemblyscript, c,
                                 rust) into DIR (default ./NAME, new or empty): the tool, its
                                 test under the kit's fake host, a Makefile or npm scripts, and
                                 a README that says how to build, check, pin and call it
  tool check [-sha256 HEX] MODULE.wasm
                                 read a module as pal would load it: its ABI, its imports (refusing
                                 any outside the ABI, and WASI file or socket access), its manifest,
                                 its sha256 against -sha256 and pal.toml's pins; print the lines to
                                 paste into a trusted pal.toml
  version, --version             print the version

flags of serve, tools, policy show and policy explain:
  -config FILE          pal.toml to load over the system and user files (default $PAL_CONFIG)
  -system-config FILE   use FILE instead of /etc/pal/pal.toml (refused when that file is locked)

flags of serve -http (ADDR is host:port; loopback without tokens, any other address needs them):
  -http-token-file FILE  bearer tokens, one per line, "NAME TOKEN" or "TOKEN" (mode 0600)
  -http-token-env NAME   a variable holding one bearer token
  -tls-cert FILE, -tls-key FILE  serve HTTPS
  [http] in a trusted pal.toml sets the same and more: allowed_hosts, allowed_origins,
  max_body_bytes, rate_per_minute, concurrent_per_client, session_ttl

configuration layers, later ones win: built-in defaults < /etc/pal/pal.toml < the user's
$XDG_CONFIG_HOME/pal/pal.toml < -config/$PAL_CONFIG < environment < ./pal.toml. ./pal.toml
may only narrow the policy until you run pal trust; a locked system file is a ceiling.
`)
}

// flags parses the flags of serve and tools into the app options. When it returns ok false,
// the command exits with code: 0 after -h, 2 after a bad flag or argument.
func flags(name string, args []string, stdout, stderr io.Writer, extra ...func(*flag.FlagSet)) (opts app.Options, ok bool, code int) {
	opts, rest, ok, code := layerFlags(name, args, stdout, stderr, extra...)
	if !ok {
		if code != 0 {
			usage(stderr)
		}
		return opts, false, code
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "pal %s: unexpected argument %q\n", name, rest[0])
		return opts, false, 2
	}
	return opts, true, 0
}

// startHeapLimit is the heap the collector lets pal serve's start-up grow to before it runs
// (64 MiB): the built-in module's start allocates ~10 MiB.
const startHeapLimit = 64 << 20

// quietGC turns the garbage collector off up to startHeapLimit until restore is called; serve
// calls it once the first tools/list is answered. The start-up's few MiB of garbage were
// collected three or four times before that reply, each time beside the work it waited for
// (docs/RATIONALE.md §79). A start that allocates more (a user module described while its
// manifest is not cached, a client's large first messages) is collected at the limit.
func quietGC() (restore func()) {
	percent := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(startHeapLimit)
	return func() {
		debug.SetMemoryLimit(limit)
		debug.SetGCPercent(percent)
	}
}

// warmDelay is how long `pal serve` over stdio waits for the first tools/list reply before it
// compiles the modules anyway (250 ms): compiling beside the handshake delayed the reply, and a
// call that comes first compiles its module itself.
const warmDelay = 250 * time.Millisecond

func serve(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var hf httpFlags
	opts, ok, code := flags("serve", args, stdout, stderr, hf.define)
	if !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts.LogOutput = stderr
	restoreGC := quietGC()
	a, err := app.Build(ctx, opts)
	if err != nil {
		// Serve anyway: clients show a tool's error result, not pal's stderr. Degraded logs why.
		why := err
		if a, err = app.Degraded(ctx, opts, why); err != nil {
			restoreGC()
			fmt.Fprintf(stderr, "pal: %v\npal: %v\n", why, err)
			return 1
		}
	}
	defer a.Close()
	// serving is closed once the client has what it waits for at start: at once over HTTP;
	// over stdio, the first tools/list reply (a client starts with initialize and tools/list),
	// or warmDelay for a client that does not list, or the end of ctx. The collector stays
	// quiet until then, and the warm-up waits for it.
	serving := make(chan struct{})
	if hf.addr != "" {
		close(serving)
	} else {
		go func() {
			defer close(serving)
			select {
			case <-a.Server.Listed():
			case <-time.After(warmDelay):
			case <-ctx.Done():
			}
		}()
	}
	warmed := make(chan struct{})
	// Before a.Close: the warm-up stops waiting (ctx) and is over before the engine closes, so
	// that it logs nothing once serve has returned.
	defer func() { stop(); <-warmed }()
	go func() {
		defer close(warmed)
		<-serving
		restoreGC()
		if a.Unavailable != "" || ctx.Err() != nil {
			return
		}
		if hf.addr == "" {
			// Logged once the list is answered, not before: redacting the line compiles the
			// secret rules whose keywords its tool names hold ("apilookup": 3-5 ms of regexp
			// compiles), which tools/list must not wait for (docs/RATIONALE.md §79).
			a.Logger.Info("serving MCP on stdio", "version", app.Version, "tools", a.Server.Tools(), "roots", a.Paths.Roots())
		}
		a.Warm(ctx)
		// Loading the compiled code leaves tens of MiB of garbage (the module's bytes, their
		// rewrites, wazero's buffers): return it to the system now rather than when the heap
		// next grows, so that an idle server holds only what it uses (docs/RATIONALE.md).
		debug.FreeOSMemory()
		// The built-in Go module compiles at its first call (§76): warm it and return that
		// compile's garbage once the call has compiled it.
		a.WarmLazy(ctx, debug.FreeOSMemory)
	}()
	if hf.addr != "" {
		return serveHTTP(ctx, a, hf, stderr)
	}
	if err := a.Server.ServeStdio(ctx, stdin, stdout); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "pal: %v\n", err)
		return 1
	}
	if a.Unavailable != "" {
		return 1 // served, but could not serve tools
	}
	return 0
}

func tools(args []string, stdout, stderr io.Writer) int {
	opts, ok, code := flags("tools", args, stdout, stderr)
	if !ok {
		return code
	}
	opts.LogOutput = io.Discard
	opts.ThreadsInMemory = true // lists tools only: never waits for a server holding [memory] path
	a, err := app.Build(context.Background(), opts)
	if err != nil {
		fmt.Fprintf(stderr, "pal: %v\n", err)
		return 1
	}
	defer a.Close()
	printTools(stdout, a.Server.ToolInfos())
	return 0
}

// printTools writes one line per tool, its name and summary, then an indented line with
// its grant under the policy (and what it declares but is not granted).
func printTools(w io.Writer, infos []server.ToolInfo) {
	width := 0
	for _, in := range infos {
		width = max(width, len(in.Name))
	}
	join := func(caps []policy.Capability) string {
		s := make([]string, len(caps))
		for i, c := range caps {
			s[i] = string(c)
		}
		return strings.Join(s, " ")
	}
	for _, in := range infos {
		grant := join(in.Grant)
		if grant == "" {
			grant = "none"
		}
		if len(in.Withheld) > 0 {
			grant += " (not granted: " + join(in.Withheld) + ")"
		}
		if in.Warning != "" {
			grant += " -- WARNING: " + in.Warning
		}
		fmt.Fprintf(w, "%-*s  %s\n%*s  grant: %s\n", width, in.Name, in.Summary, width, "", grant)
	}
}
