// Package app assembles a pal server from its configuration: policy, providers, path rules,
// audit log, wazero engine, modules and the MCP server. cmd/pal and the end-to-end tests build
// servers through it, so there is one way to put the pieces together.
package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"time"

	"github.com/pal-mcp/pal/hostfns"
	"github.com/pal-mcp/pal/internal/builtinwasm"
	"github.com/pal-mcp/pal/internal/privfs"
	"github.com/pal-mcp/pal/internal/sessions"
	"github.com/pal-mcp/pal/memory"
	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/registry"
	"github.com/pal-mcp/pal/runtime"
	"github.com/pal-mcp/pal/runtime/abi"
	"github.com/pal-mcp/pal/runtime/extism"
	"github.com/pal-mcp/pal/server"
)

// Version is pal's version, set at build time with -ldflags "-X .../internal/app.Version=…".
var Version = "0.1.0-dev"

// Options say where configuration comes from.
type Options struct {
	// ConfigPath is a pal.toml to load as the config layer; "" means $PAL_CONFIG. The
	// system file, the user file and the project's ./pal.toml are layered around it (see
	// policy.LoadLayers).
	ConfigPath string
	// SystemConfigPath replaces the system file (/etc/pal/pal.toml), for tests; refused when
	// the real system file is locked.
	SystemConfigPath string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// WorkDir is the directory the server started in (the default root); "" means os.Getwd.
	WorkDir string
	// LogOutput receives the server log; nil means os.Stderr.
	LogOutput io.Writer
	// ThreadsInMemory keeps threads in memory whatever [memory] path says, for commands that
	// serve no call (pal tools) and so must not wait for the server holding the file.
	ThreadsInMemory bool
}

// App is an assembled server and what it holds open.
type App struct {
	Config   *policy.Config
	Logger   *slog.Logger
	Registry *registry.Registry
	Paths    *policy.Paths
	Audit    policy.Auditor
	Engine   *runtime.Engine
	Modules  []server.LoadedModule
	Plugins  []*extism.Plugin // the Extism plugins among Modules, closed by Close
	Server   *server.Server
	Threads  memory.Threads // conversation threads: in memory, in [memory] path, or in Redis
	// Env is what the host functions of every call share; the benchmarks run the built-in
	// tools natively against it, as the baseline of the sandbox's cost.
	Env *hostfns.Env
	// ClientLog sends the log's records to the MCP clients too (server.ClientLog).
	ClientLog *server.ClientLog
	// Unavailable is why the server cannot serve tools (Degraded); "" when it can.
	Unavailable string
	// Sessions keeps the HTTP transport's MCP sessions: in memory, or with [memory] backend =
	// "redis" in that Redis server beside the threads, so that replicas accept each other's
	// sessions.
	Sessions sessions.Store
	// Getenv reads the environment the configuration was loaded with.
	Getenv func(string) string
}

// Build assembles the server. Errors say what to fix: a bad pal.toml names the file and key;
// no usable provider names the variables to set.
func Build(ctx context.Context, opts Options) (*App, error) {
	getenv, workDir, cfg, err := LoadConfig(opts)
	if err != nil {
		return nil, err
	}
	mem := sessions.NewMemory(0)
	mem.PerClient = cfg.HTTP.SessionsPerClient
	a := &App{Config: cfg, ClientLog: server.NewClientLog(), Getenv: getenv, Sessions: mem}

	redact := policy.NewRedactor()
	scanner, err := cfg.Redaction.Scanner()
	if err != nil {
		return nil, fmt.Errorf("redaction: %w", err)
	}
	if scanner.Enabled() {
		redact.SetPatterns(scanner)
	}
	a.newLogger(opts, getenv, redact)
	for _, w := range cfg.Warnings {
		a.Logger.Warn(w)
	}

	provCfg, err := registryConfig(cfg, getenv)
	if err != nil {
		return nil, err
	}
	for _, pc := range provCfg.Providers {
		redact.Add(pc.APIKey)
		scanner.AddLiterals(pc.APIKey)
	}
	provCfg.Logger = a.Logger
	if a.Registry, err = registry.New(provCfg); err != nil {
		return nil, err
	}
	redact.Add(a.Registry.SecretValues()...)
	scanner.AddLiterals(a.Registry.SecretValues()...)

	if a.Paths, err = openPaths(cfg, workDir); err != nil {
		return nil, err
	}
	if err := checkPrivateDirs(cfg, a.Paths.Roots()); err != nil {
		a.Close()
		return nil, err
	}
	if a.Audit, err = cfg.Audit.OpenAuditor(redact); err != nil {
		a.Close()
		return nil, fmt.Errorf("audit log: %w", err)
	}
	if err := a.startEngine(ctx, getenv); err != nil {
		a.Close()
		return nil, err
	}

	mode := "fixed"
	if a.Registry.AutoMode() {
		mode = "auto"
	}
	if a.Threads, err = openThreads(cfg, opts.ThreadsInMemory, getenv, func(v string) {
		redact.Add(v)
		scanner.AddLiterals(v)
	}, a.Logger); err != nil {
		a.Close()
		return nil, err
	}
	if rs, ok := a.Threads.(*memory.RedisStore); ok {
		// The HTTP sessions live beside the threads, on the same connections, so that every
		// replica accepts a session any of them opened.
		shared := sessions.NewRedis(rs.Client(), rs.Prefix(), 0)
		shared.PerClient = cfg.HTTP.SessionsPerClient
		a.Sessions = shared
	}
	env := &hostfns.Env{
		Paths:   a.Paths,
		Models:  hostfns.RegistryModels{R: a.Registry},
		Threads: a.Threads,
		Audit:   a.Audit,
		Logger:  a.Logger,
		Redact:  redact,
		Secrets: scanner,
		Budgets: cfg.Limits.Budgets,
		// Progress heartbeats while a model call runs (limits.heartbeat_interval).
		Heartbeat: cfg.Limits.HeartbeatInterval.Duration,
		// cli.run: the [[cli]] programs (none: off) and the variables they never receive.
		CLIs:      cfg.CLIs,
		CLIKeyEnv: cfg.CLIKeyEnvNames(),
		Info: hostfns.Info{
			Name: "pal", Version: Version, ABI: abi.Version, ModelSelection: mode,
			DefaultModel: a.Registry.DefaultModel(), Platform: goruntime.GOOS + "/" + goruntime.GOARCH, GoVersion: goruntime.Version(),
			Limits: hostfns.Limits{PromptChars: cfg.Limits.PromptChars, MaxTurns: cfg.Memory.MaxTurns, MaxFileBytes: cfg.Paths.MaxFileBytes, Locale: getenv("LOCALE")},
		},
	}
	a.Env = env
	a.Server, err = server.New(server.Options{
		Name:         "pal",
		Version:      Version,
		Instructions: instructions(a.Registry),
		Modules:      a.Modules,
		Policy:       cfg,
		Env:          env,
		Models:       a.Registry,
		Logger:       a.Logger,
		ClientLog:    a.ClientLog,
	})
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// newLogger makes a.Logger: text on opts.LogOutput (stderr by default) at LOG_LEVEL, and the
// same records to the MCP clients through a.ClientLog, both behind redact. An unknown LOG_LEVEL
// is reported once.
func (a *App) newLogger(opts Options, getenv func(string) string, redact *policy.Redactor) {
	level, levelOK := logLevel(getenv("LOG_LEVEL"))
	text := slog.NewTextHandler(a.logOutput(opts), &slog.HandlerOptions{Level: level})
	a.Logger = slog.New(policy.NewRedactingHandler(slog.NewMultiHandler(text, a.ClientLog.Handler()), redact))
	if !levelOK {
		a.Logger.Warn(badLogLevel(getenv("LOG_LEVEL")))
	}
}

// logOutput is where the log goes: opts.LogOutput, else stderr.
func (a *App) logOutput(opts Options) io.Writer {
	if opts.LogOutput != nil {
		return opts.LogOutput
	}
	return os.Stderr
}

// Degraded assembles a server for when Build failed with why (no provider key, a refused
// pal.toml, an unusable directory): it answers initialize and tools/list with the built-in
// tools, and every tools/call is an isError result saying why and what to set, because most
// clients hide pal's stderr and would show only "Connection closed". why is also logged as an
// error, which reaches the client as a log message. No provider, audit log, thread store or path
// rule is opened, and no tool runs. Build's errors name variables and files, never key values.
func Degraded(ctx context.Context, opts Options, why error) (*App, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg := policy.Default()
	if _, _, loaded, err := LoadConfig(opts); err == nil {
		cfg = loaded
	}
	a := &App{Config: cfg, ClientLog: server.NewClientLog(), Getenv: getenv, Unavailable: UnavailableMessage(why)}
	redact := policy.NewRedactor()
	a.newLogger(opts, getenv, redact)
	// Plain on stderr, for a person at a terminal; as an error log message to the client.
	fmt.Fprintf(a.logOutput(opts), "pal: %s\n", a.Unavailable)
	slog.New(policy.NewRedactingHandler(a.ClientLog.Handler(), redact)).Error(a.Unavailable)

	// The built-in modules only; their compile cache when the cache directory is usable.
	eng := runtime.Config{CallTimeout: cfg.Limits.CallTimeout.Duration, MemoryLimitBytes: uint64(cfg.Limits.MemoryMB) << 20}
	if cfg.Cache.Dir != "" && privfs.EnsureDir(cfg.Cache.Dir) == nil {
		if key, err := cacheKey(cfg.Cache.Dir, getenv); err == nil && key != nil {
			eng.CacheDir, eng.CacheKey = cfg.Cache.Dir, key
		}
	}
	var err error
	if a.Engine, err = runtime.New(ctx, eng); err != nil {
		return nil, err
	}
	if m, err := a.loadChat(ctx); err != nil {
		a.Logger.Error("no built-in chat tool", "err", err)
	} else {
		a.Modules = append(a.Modules, server.LoadedModule{Module: m, Builtin: true})
	}
	if m, err := a.loadGoBuiltin(ctx); err != nil {
		a.Logger.Error("no built-in Go tools", "err", err)
	} else {
		a.Modules = append(a.Modules, server.LoadedModule{Module: m, Builtin: true, Lazy: true})
	}
	a.Server, err = server.New(server.Options{
		Name:        "pal",
		Version:     Version,
		Modules:     a.Modules,
		Policy:      cfg,
		Logger:      a.Logger,
		ClientLog:   a.ClientLog,
		Unavailable: a.Unavailable,
		Instructions: "pal cannot serve tools: " + a.Unavailable + " Every tool call returns this message " +
			"until the configuration is fixed and the client restarts pal.",
	})
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// UnavailableMessage is what a degraded server answers every tool call with: why, and how to
// check the fix.
func UnavailableMessage(why error) string {
	return fmt.Sprintf("pal cannot serve tools: %v. Set what is missing in the env block of this client's MCP "+
		"configuration for pal (most clients do not pass their shell's variables) or in pal.toml, then restart pal; "+
		"`pal doctor` checks the configuration.", why)
}

// Inspect assembles what `pal policy` needs to answer questions: the configuration, the path
// rules and the modules with their manifests. It opens no provider, audit log or server, so it
// works without keys.
func Inspect(ctx context.Context, opts Options) (*App, error) {
	getenv, workDir, cfg, err := LoadConfig(opts)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Logger: slog.New(slog.DiscardHandler)}
	if a.Paths, err = openPaths(cfg, workDir); err != nil {
		return nil, err
	}
	if err := checkPrivateDirs(cfg, a.Paths.Roots()); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.startEngine(ctx, getenv); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// LoadConfig loads the configuration layers (policy.LoadLayers) the options name.
func LoadConfig(opts Options) (getenv func(string) string, workDir string, cfg *policy.Config, err error) {
	getenv = opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	workDir = opts.WorkDir
	if workDir == "" {
		if workDir, err = os.Getwd(); err != nil {
			return nil, "", nil, err
		}
	}
	cfg, err = policy.LoadLayers(policy.Sources{
		SystemFile: opts.SystemConfigPath,
		ConfigFile: opts.ConfigPath,
		WorkDir:    workDir,
		Getenv:     getenv,
	})
	return getenv, workDir, cfg, err
}

// openPaths opens the path rules: the configured roots, else the directory pal started in.
func openPaths(cfg *policy.Config, workDir string) (*policy.Paths, error) {
	roots := cfg.Paths.Roots
	if len(roots) == 0 {
		roots = []string{workDir}
	}
	p, err := policy.NewPaths(roots, cfg.Paths.DenyGlobs(), cfg.Paths.Caps())
	if err != nil {
		if len(cfg.Paths.Roots) == 0 {
			return nil, fmt.Errorf("pal was started in %s, which cannot be the root tools read from (%w); "+
				"start pal in your project directory (most clients have a cwd setting) or set [paths] roots in pal.toml", workDir, err)
		}
		return nil, fmt.Errorf("paths.roots (%s): %w", originOf(cfg, "paths.roots"), err)
	}
	return p, nil
}

// startEngine starts the wazero engine and loads the modules.
func (a *App) startEngine(ctx context.Context, getenv func(string) string) error {
	cfg := a.Config
	key, err := cacheKey(cfg.Cache.Dir, getenv)
	if err != nil {
		return err
	}
	a.Engine, err = runtime.New(ctx, runtime.Config{
		CacheDir:         cfg.Cache.Dir,
		CacheKey:         key,
		CallTimeout:      cfg.Limits.CallTimeout.Duration,
		MemoryLimitBytes: uint64(cfg.Limits.MemoryMB) << 20,
		OutputLimitBytes: uint32(cfg.Limits.OutputBytes),
	})
	if err != nil {
		return err
	}
	return a.loadModules(ctx)
}

// FindTool returns the manifest entry of the tool called name and whether it comes from the
// built-in module.
func (a *App) FindTool(name string) (spec abi.ToolSpec, builtin bool, found bool) {
	for i, m := range a.Modules {
		for _, t := range m.Module.Manifest().Tools {
			if t.Name == name {
				return t, a.Modules[i].Builtin, true
			}
		}
	}
	return abi.ToolSpec{}, false, false
}

// Warm compiles every module but the lazy ones (server.LoadedModule.Lazy: the built-in Go
// module, docs/RATIONALE.md §76) and fills its instance pool, so that the first call does not
// wait; after each built-in module it compiles that module's tools' input schemas
// (Server.CompileSchemas), which otherwise each tool's first call compiles. A lazy module
// compiles at its first call (WarmLazy does the rest for it then). Warm returns at once,
// logging nothing more, when ctx is done (the server is stopping).
func (a *App) Warm(ctx context.Context) {
	for _, lm := range a.Modules {
		if !lm.Lazy && !a.warmModule(ctx, lm) {
			return
		}
	}
}

// WarmAll is Warm for the lazy modules too: for the benchmarks and tests that measure or
// need every module compiled and every pool full.
func (a *App) WarmAll(ctx context.Context) {
	for _, lm := range a.Modules {
		if !a.warmModule(ctx, lm) {
			return
		}
	}
}

// WarmLazy waits for the compile of each lazy module, in turn, which its first call starts,
// and then does Warm's work for it (its instance pool, its tools' schemas) and calls after
// (`pal serve` returns the compile's garbage to the system then, as after Warm). It returns
// once every lazy module is warm, or at once when ctx is done.
func (a *App) WarmLazy(ctx context.Context, after func()) {
	for _, lm := range a.Modules {
		c, ok := lm.Module.(interface{ CompileDone() <-chan struct{} })
		if !lm.Lazy || !ok {
			continue
		}
		select {
		case <-c.CompileDone():
		case <-ctx.Done():
			return
		}
		if !a.warmModule(ctx, lm) {
			return
		}
		if after != nil {
			after()
		}
	}
}

// warmModule compiles lm, fills its pool and compiles its schemas when it is built in; false
// when ctx is done.
func (a *App) warmModule(ctx context.Context, lm server.LoadedModule) bool {
	start := time.Now()
	err := lm.Module.Warm(ctx)
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		a.Logger.Error("module failed to compile", "module", lm.Module.Name(), "err", err)
		return true
	}
	a.Logger.Debug("module ready", "module", lm.Module.Name(), "took", time.Since(start))
	if lm.Builtin && a.Server != nil {
		a.Server.CompileSchemas(ctx, lm.Module)
	}
	return ctx.Err() == nil
}

// Close releases what Build opened.
func (a *App) Close() error {
	var errs []error
	for _, p := range a.Plugins {
		errs = append(errs, p.Close(context.Background()))
	}
	if a.Engine != nil {
		errs = append(errs, a.Engine.Close(context.Background()))
	}
	if a.Audit != nil {
		errs = append(errs, a.Audit.Close())
	}
	if a.Paths != nil {
		errs = append(errs, a.Paths.Close())
	}
	if a.Threads != nil {
		errs = append(errs, a.Threads.Close())
	}
	return errors.Join(errs...)
}

// loadModules loads the built-in modules and the [[modules]] of pal.toml, each pinned by hash;
// a module with abi = "extism" is loaded as an Extism plugin (package runtime/extism).
func (a *App) loadModules(ctx context.Context) error {
	if err := a.loadBuiltins(ctx); err != nil {
		return err
	}
	for _, mc := range a.Config.Modules {
		wasm, err := os.ReadFile(mc.Path)
		if err != nil {
			return fmt.Errorf("module %s: %w", mc.Path, err)
		}
		if mc.ABI == policy.ModuleABIExtism {
			p, err := extism.Load(ctx, a.Engine.Config(), mc.Path, wasm, mc.SHA256)
			if err != nil {
				return err
			}
			a.Plugins = append(a.Plugins, p)
			a.Modules = append(a.Modules, server.LoadedModule{Module: p})
			continue
		}
		m, err := a.Engine.LoadModule(ctx, mc.Path, wasm, mc.SHA256)
		if err != nil {
			return err
		}
		a.Modules = append(a.Modules, server.LoadedModule{Module: m})
	}
	return a.loadUserModules(ctx)
}

// Names of the built-in modules, in messages and logs.
const (
	chatModuleName = "builtin-chat"
	goModuleName   = "builtin"
)

// loadBuiltins loads pal's two built-in modules, chat's first so that it heads tools/list: the
// chat tool (tools-wasm/builtin-chat, a small Rust module, warmed at start) and the Go module
// with every other built-in tool, compiled at its first call (Lazy, §76). Both come with their
// manifests, so neither is described or compiled at load.
func (a *App) loadBuiltins(ctx context.Context) error {
	chat, err := a.loadChat(ctx)
	if err != nil {
		return err
	}
	a.Modules = append(a.Modules, server.LoadedModule{Module: chat, Builtin: true})
	goMod, err := a.loadGoBuiltin(ctx)
	if err != nil {
		return err
	}
	a.Modules = append(a.Modules, server.LoadedModule{Module: goMod, Builtin: true, Lazy: true})
	return nil
}

// loadChat loads the built-in chat module. Its bytes are not hashed at load: the hash its
// build recorded (chat.manifest, committed with chat.wasm and checked against it by make test)
// is given as runtime.BuildSHA256, which a compile checks before it makes anything from them.
func (a *App) loadChat(ctx context.Context) (*runtime.Module, error) {
	wasm, hash, man, ok := builtinwasm.Chat()
	return a.loadChatFrom(ctx, wasm, hash, man, ok)
}

// loadChatFrom is loadChat given what builtinwasm.Chat returned (the tests give it other
// bytes under the recorded hash).
func (a *App) loadChatFrom(ctx context.Context, wasm []byte, hash string, man []byte, ok bool) (*runtime.Module, error) {
	var opts []runtime.LoadOption
	if ok {
		if err := a.Engine.AddKnownManifest(hash, man); err != nil {
			return nil, err
		}
		opts = append(opts, runtime.BuildSHA256(hash))
	}
	return a.Engine.LoadModule(ctx, chatModuleName, wasm, "", opts...)
}

// loadGoBuiltin loads the built-in Go module.
func (a *App) loadGoBuiltin(ctx context.Context) (*runtime.Module, error) {
	if hash, man, ok := builtinwasm.Manifest(); ok {
		if err := a.Engine.AddKnownManifest(hash, man); err != nil {
			return nil, err
		}
	}
	// The module is not hashed at start: a make-built binary's build recorded its hash, and a
	// `go install`ed binary's committed manifest records the committed module's, which such a
	// binary does not even decode until a compile needs the bytes (with a warm compile cache,
	// never). A compile checks the bytes against the hash before it makes anything from them
	// (runtime.BuildSHA256). Only the built-in modules: a module read from disk, [[modules]]
	// or [user_modules], is always hashed, and its pin checked, at load.
	if hash, ok := builtinwasm.CommittedSHA256(); ok {
		return a.Engine.LoadModule(ctx, goModuleName, nil, "", runtime.BuildSHA256(hash), runtime.ReadBytes(builtinwasm.Committed))
	}
	wasm, err := builtinwasm.Builtin()
	if err != nil {
		return nil, err
	}
	var opts []runtime.LoadOption
	if hash, ok := builtinwasm.BuildSHA256(); ok {
		opts = append(opts, runtime.BuildSHA256(hash))
	}
	return a.Engine.LoadModule(ctx, goModuleName, wasm, "", opts...)
}

// loadUserModules loads the *.wasm files directly in [user_modules] dir, each only while
// [user_modules.pins] holds its sha256; its ABI (native or Extism) is told by its imports. A
// file with no pin, with another hash (changed since it was pinned) or that does not load is
// refused: the refusal is logged as an error (which reaches the client as a log message) and
// audited as op "module.load", and the other tools are served. Each module loaded is audited
// too. A missing directory stops pal: a trusted layer named it.
func (a *App) loadUserModules(ctx context.Context) error {
	um := a.Config.UserModules
	if um.Dir == "" {
		return nil
	}
	entries, err := os.ReadDir(um.Dir)
	if err != nil {
		return fmt.Errorf("user_modules.dir (%s): %w", originOf(a.Config, "user_modules.dir"), err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".wasm") {
			continue
		}
		seen[name] = true
		path := filepath.Join(um.Dir, name)
		if err := a.loadUserModule(ctx, path, um.Pins[name]); err != nil {
			a.Logger.Error("tool module refused", "module", path, "err", err)
			a.auditModule(um.Dir, name, "deny", err.Error())
			continue
		}
		a.auditModule(um.Dir, name, "allow", "")
	}
	for _, name := range slices.Sorted(maps.Keys(um.Pins)) {
		if !seen[name] {
			a.Logger.Warn("a pinned tool module is not in user_modules.dir", "module", name, "dir", um.Dir)
		}
	}
	return nil
}

// ErrModuleNotPinned and ErrModuleChanged are why a file of user_modules.dir is not loaded.
var (
	ErrModuleNotPinned = errors.New("not pinned")
	ErrModuleChanged   = errors.New("changed since it was pinned")
)

// loadUserModule loads one file of user_modules.dir when its bytes have the pinned hash.
func (a *App) loadUserModule(ctx context.Context, path, pin string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(wasm)
	hash := hex.EncodeToString(sum[:])
	fix := fmt.Sprintf("check it with `pal tool check %s` and, if you trust it, set [user_modules.pins] %q = %q in a trusted pal.toml", path, filepath.Base(path), hash)
	switch {
	case pin == "":
		return fmt.Errorf("%w: %s has sha256 %s and no pin; %s", ErrModuleNotPinned, path, hash, fix)
	case pin != hash:
		return fmt.Errorf("%w: %s has sha256 %s, pinned %s; it is not loaded until its new hash is pinned: %s", ErrModuleChanged, path, hash, pin, fix)
	}
	imports, err := runtime.Imports(ctx, wasm)
	if err != nil {
		return err
	}
	if extism.IsPlugin(imports) {
		p, err := extism.Load(ctx, a.Engine.Config(), path, wasm, pin)
		if err != nil {
			return err
		}
		a.Plugins = append(a.Plugins, p)
		a.Modules = append(a.Modules, server.LoadedModule{Module: p})
		return nil
	}
	m, err := a.Engine.LoadModule(ctx, path, wasm, pin)
	if err != nil {
		return err
	}
	a.Modules = append(a.Modules, server.LoadedModule{Module: m})
	return nil
}

// auditModule writes the audit record of a user module's load, when there is an audit log.
func (a *App) auditModule(dir, name, decision, reason string) {
	if a.Audit == nil {
		return
	}
	if err := a.Audit.Audit(policy.Record{Op: "module.load", Decision: decision, Reason: reason, Root: dir, Path: name}); err != nil {
		a.Logger.Error("audit record lost", "err", err)
	}
}

// checkPrivateDirs makes the directories pal writes to, the compile cache and the audit log's,
// through privfs (0700, owned by this user, no symlink, not writable by others) and refuses
// one inside any root: a tool could read it and a repository could plant files in it. The audit
// file itself must not be a symlink, nor owned by another user, nor have other hard links.
func checkPrivateDirs(cfg *policy.Config, roots []string) error {
	type dir struct{ key, path string }
	var dirs []dir
	if cfg.Cache.Dir != "" {
		dirs = append(dirs, dir{"cache.dir", cfg.Cache.Dir})
	}
	if cfg.Audit.Enabled {
		dirs = append(dirs, dir{"audit.path", filepath.Dir(cfg.Audit.Path)})
	}
	if cfg.Memory.Path != "" {
		if privfs.Inside(cfg.Memory.Path, roots) {
			dirs = append(dirs, dir{"memory.path", cfg.Memory.Path}) // refused below
		}
		dirs = append(dirs, dir{"memory.path", filepath.Dir(cfg.Memory.Path)})
	}
	for _, d := range dirs {
		if privfs.Inside(d.path, roots) {
			return fmt.Errorf("%s: %s is inside a root tools may read (%s); pal keeps its cache, audit log and conversation threads "+
				"outside every root, so that no tool can read them and no repository can plant files there; "+
				"set %s elsewhere in a trusted pal.toml (%s)", d.key, d.path, strings.Join(roots, ", "), d.key, originOf(cfg, d.key))
		}
		if err := privfs.EnsureDir(d.path); err != nil {
			return fmt.Errorf("%s: %w (%s)", d.key, err, originOf(cfg, d.key))
		}
	}
	if cfg.Audit.Enabled {
		f, err := privfs.OpenFile(cfg.Audit.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("audit.path: %w (%s)", err, originOf(cfg, "audit.path"))
		}
		f.Close()
	}
	return nil
}

// originOf names the layer that set key, for messages.
func originOf(cfg *policy.Config, key string) string {
	if o := cfg.Origins[key]; o != "" {
		return "set by the " + o
	}
	return "the default"
}

// registryConfig maps pal.toml's [providers] onto the registry, reading keys named by
// api_key_env or api_key_file.
func registryConfig(cfg *policy.Config, getenv func(string) string) (registry.Config, error) {
	rc := registry.Config{Getenv: getenv, DefaultModel: cfg.Providers.DefaultModel, Providers: map[providers.Type]registry.ProviderConfig{}}
	for _, name := range policy.ProviderNames {
		pc := cfg.Providers.Provider(name)
		key, err := cfg.APIKey(name, getenv)
		if err != nil && !errors.Is(err, policy.ErrNoKey) {
			return rc, err
		}
		rc.Providers[providers.Type(name)] = registry.ProviderConfig{
			APIKey:        key,
			BaseURL:       pc.BaseURL,
			APIVersion:    pc.APIVersion,
			AllowedModels: pc.AllowedModels,
			CatalogPath:   pc.ModelsConfig,
			Disabled:      pc.Disabled,
		}
	}
	return rc, nil
}

// instructions is the handshake text that tells the client how to pick models.
func instructions(r *registry.Registry) string {
	if r.AutoMode() {
		return "pal lets you consult other AI models. When the user names a model, pass that exact name as `model`. " +
			"When they name none, call `listmodels` first and choose the model that best fits the task; " +
			"reuse `continuation_id` to keep a conversation going across tools and models."
	}
	return fmt.Sprintf("pal lets you consult other AI models. When the user names a model, pass that exact name as `model`; "+
		"otherwise the server uses %q. Reuse `continuation_id` to keep a conversation going across tools and models.", r.DefaultModel())
}

// logLevel reads LOG_LEVEL: DEBUG, INFO, WARN (or WARNING), ERROR (or CRITICAL), in any case;
// unset means INFO. ok is false for any other value, which also means INFO.
func logLevel(s string) (level slog.Level, ok bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "DEBUG":
		return slog.LevelDebug, true
	case "", "INFO":
		return slog.LevelInfo, true
	case "WARN", "WARNING":
		return slog.LevelWarn, true
	case "ERROR", "CRITICAL":
		return slog.LevelError, true
	}
	return slog.LevelInfo, false
}

// badLogLevel is the warning for a LOG_LEVEL logLevel refused; the value is quoted, cut to 40 bytes.
func badLogLevel(v string) string {
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return fmt.Sprintf("LOG_LEVEL=%q is not DEBUG, INFO, WARN or ERROR; logging at INFO", v)
}

// cacheKey returns the key that authenticates the compile cache's entries:
// $XDG_STATE_HOME/pal/cache.key, else ~/.local/state/pal/cache.key, made on first use
// (privfs.LoadOrCreateKey). No cache dir, or no state dir: no key, and the engine compiles in
// memory only.
func cacheKey(cacheDir string, getenv func(string) string) ([]byte, error) {
	if cacheDir == "" {
		return nil, nil
	}
	state := policy.StateDir(getenv)
	if state == "" {
		return nil, nil
	}
	key, err := privfs.LoadOrCreateKey(state, "cache.key")
	if err != nil {
		return nil, fmt.Errorf("compile cache key: %w", err)
	}
	return key, nil
}
