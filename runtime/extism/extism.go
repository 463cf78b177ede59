// Package extism runs Extism plugins as pal tools. A plugin written with an Extism PDK (for
// instance @extism/as-pdk) is loaded with github.com/extism/go-sdk, and pal's capabilities are
// offered to it as one Extism host function, pal_call, which takes the same request messages
// as ABI v1's pal.call and hands them to the same runtime.Host (package hostfns): the same
// grant check, path policy, budgets and audit records as a native module. Extism's own
// capabilities are left closed: no AllowedHosts (and a plugin importing http_request is
// refused at load), no AllowedPaths (no WASI directory), no Config, and WASI only when the
// plugin imports it, with no preopens, environment or arguments. The plugin is pinned by
// sha256 like every module, and each call runs in a fresh instance under the engine's
// deadline, memory cap and output cap.
//
// The plugin's side of the contract (docs/abi.md, "Extism plugins"):
//
//   - export describe() -> i32: sets its output to the manifest JSON (ABI v1's manifest);
//   - export handle() -> i32: its input is ABI v1's handle request, its output the result
//     (an MCP CallToolResult); a non-zero return with an error set (error_set) becomes an
//     isError result with that text;
//   - import extism:host/user pal_call(i64) -> i64: the offset of a memory block holding a
//     request message (JSON, optionally 0x00 and a body) in, the offset of the reply
//     message out (0 when it could not be placed);
//   - Extism's log_* lines go to pal's server log, as pal.log lines do.
package extism

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/pal-mcp/pal/runtime"
	"github.com/pal-mcp/pal/runtime/abi"
)

// Names of the plugin contract.
const (
	// HostNamespace is the import module of pal's host function.
	HostNamespace = "extism:host/user"
	// FuncCall is pal's host function: one op, as ABI v1's pal.call.
	FuncCall = "pal_call"
	// ExportDescribe and ExportHandle are the plugin functions pal calls.
	ExportDescribe = "describe"
	ExportHandle   = "handle"

	envNamespace  = "extism:host/env"
	wasiNamespace = runtime.WASIModule
)

// wasiOutputEnv, when set in pal's environment, makes go-sdk give a WASI plugin pal's own
// stdout and stderr in place of the ones pal configures (CompiledPlugin.Instance): a plugin
// could then write MCP messages to the client. Load refuses WASI plugins while it is set.
const wasiOutputEnv = "EXTISM_ENABLE_WASI_OUTPUT"

// maxManifestBytes caps what describe may return.
const maxManifestBytes = 1 << 20

// refusedEnv are the Extism environment functions pal does not let a plugin import: they
// reach the network, which a pal tool never does (AllowedHosts is empty, so they could only
// fail, but a plugin that imports them was written to use them).
var refusedEnv = map[string]bool{"http_request": true, "http_status_code": true, "http_headers": true}

// Plugin is one loaded Extism plugin. It implements the same surface as *runtime.Module, so
// the server publishes and calls its tools the same way.
type Plugin struct {
	name     string
	sha256   string
	size     int
	manifest *abi.Manifest
	cfg      runtime.Config
	compiled *extism.CompiledPlugin
}

var logLevelOnce sync.Once

// Load compiles an Extism plugin and reads its manifest. cfg holds the limits every call runs
// under (the engine's, runtime.Engine.Config). wantSHA256, when not empty, pins the plugin:
// other bytes are refused with runtime.ErrBadModule, as for a native module.
func Load(ctx context.Context, cfg runtime.Config, name string, wasm []byte, wantSHA256 string) (*Plugin, error) {
	sum := sha256.Sum256(wasm)
	hash := hex.EncodeToString(sum[:])
	if wantSHA256 != "" && wantSHA256 != hash {
		return nil, fmt.Errorf("%w: %s has sha256 %s, pinned %s", runtime.ErrBadModule, name, hash, wantSHA256)
	}
	wasi, err := checkImports(ctx, wasm, cfg.MemoryLimitBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", runtime.ErrBadModule, name, err)
	}
	if _, set := os.LookupEnv(wasiOutputEnv); set && wasi {
		return nil, fmt.Errorf("%w: %s imports WASI and %s is set, which would send its stdout to pal's own (the MCP stream over stdio); unset it", runtime.ErrBadModule, name, wasiOutputEnv)
	}
	// Extism's log_* host functions pass a process-wide level; pal keeps info and above of
	// each plugin's lines (debug would carry the SDK's own "Calling function" line).
	logLevelOnce.Do(func() { extism.SetLogLevel(extism.LogLevelInfo) })

	compiled, err := compile(ctx, cfg, wasm, hash, wasi)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", runtime.ErrBadModule, name, err)
	}
	p := &Plugin{name: name, sha256: hash, size: len(wasm), cfg: cfg, compiled: compiled}
	if p.manifest, err = p.describe(ctx); err != nil {
		compiled.Close(ctx)
		return nil, err
	}
	return p, nil
}

// compile builds Extism's runtime for one plugin: a wazero runtime that stops a call when its
// context ends and caps every memory, the kernel, the environment module, pal_call, WASI when
// asked, and the plugin checked against hash.
func compile(ctx context.Context, cfg runtime.Config, wasm []byte, hash string, wasi bool) (*extism.CompiledPlugin, error) {
	rc := wazero.NewRuntimeConfig().
		WithCloseOnContextDone(true).
		// The per-memory cap is enforced by runtime.MemoryCap (newInstance), which reports a
		// refused grow as ErrMemoryCap; this is wasm's own ceiling, as in runtime.New. A
		// lower ceiling here would refuse the grow before MemoryCap saw it, and the trap
		// that follows would read as a crash. Initial sizes were held to the cap by
		// checkImports.
		WithMemoryLimitPages(65536)
	call := extism.NewHostFunctionWithStack(FuncCall, hostCall, []extism.ValueType{extism.ValueTypePTR}, []extism.ValueType{extism.ValueTypePTR})
	call.SetNamespace(HostNamespace)
	return extism.NewCompiledPlugin(ctx, extism.Manifest{
		Wasm: []extism.Wasm{extism.WasmData{Data: wasm, Hash: hash}},
		// No network, no directory, no configuration: everything goes through pal_call.
		AllowedHosts: nil,
		AllowedPaths: nil,
		Config:       nil,
		Memory:       &extism.ManifestMemory{MaxHttpResponseBytes: 0, MaxVarBytes: 1 << 20},
	}, extism.PluginConfig{RuntimeConfig: rc, EnableWasi: wasi}, []extism.HostFunction{call})
}

// checkImports refuses a plugin that imports anything outside Extism's environment, pal's
// host function and WASI, or one of the environment's network functions, or that declares a
// memory (initial or maximum size) over memoryLimit bytes. It reports whether the plugin
// imports WASI.
func checkImports(ctx context.Context, wasm []byte, memoryLimit uint64) (wasi bool, err error) {
	if err := runtime.CheckSections(wasm); err != nil {
		return false, err
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().
		WithMemoryLimitPages(uint32(min(memoryLimit>>16, 65536))))
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return false, err
	}
	for _, f := range cm.ImportedFunctions() {
		mod, fn, _ := f.Import()
		if err := CheckImport(mod, fn); err != nil && !errors.Is(err, runtime.ErrImportNoAccess) {
			return false, err
		}
		wasi = wasi || mod == wasiNamespace
	}
	if len(cm.ImportedMemories()) > 0 {
		return false, errors.New("imports a memory: plugins must define their own")
	}
	for _, name := range []string{ExportDescribe, ExportHandle} {
		if _, ok := cm.ExportedFunctions()[name]; !ok {
			return false, fmt.Errorf("missing export %q (docs/abi.md, Extism plugins)", name)
		}
	}
	return wasi, nil
}

// IsPlugin reports whether a module with these imports is an Extism plugin: it imports
// from Extism's host namespaces (extism:host/env, extism:host/user). Native modules never do
// (the runtime refuses them).
func IsPlugin(imports []runtime.Import) bool {
	for _, im := range imports {
		if strings.HasPrefix(im.Module, "extism:host/") {
			return true
		}
	}
	return false
}

// CheckImport says whether an Extism plugin may import the function mod.fn: nil for
// Extism's environment (but its network functions), pal_call and the WASI functions a tool
// can use (runtime.CheckWASIImport); otherwise an error wrapping runtime.ErrImportNotProvided, or
// runtime.ErrImportNoAccess for a WASI path or socket function (linked, as for a native module,
// but refused by `pal tool check`).
func CheckImport(mod, fn string) error {
	switch {
	case mod == envNamespace && refusedEnv[fn]:
		return fmt.Errorf("imports %s.%s: pal gives plugins no network (%w); ask for what you need through %s", mod, fn, runtime.ErrImportNotProvided, FuncCall)
	case mod == envNamespace:
	case mod == HostNamespace && fn == FuncCall:
	case mod == wasiNamespace:
		return runtime.CheckWASIImport(fn)
	default:
		return fmt.Errorf("imports %s.%s: %w: an Extism plugin may import only %s, %s.%s and WASI", mod, fn, runtime.ErrImportNotProvided, envNamespace, HostNamespace, FuncCall)
	}
	return nil
}

// Name is where the plugin came from.
func (p *Plugin) Name() string { return p.name }

// SHA256 is the hex sha256 of the plugin's bytes.
func (p *Plugin) SHA256() string { return p.sha256 }

// Size is the plugin's size in bytes.
func (p *Plugin) Size() int { return p.size }

// Manifest is the plugin's validated manifest. Callers must not modify it.
func (p *Plugin) Manifest() *abi.Manifest { return p.manifest }

// Warm does nothing: Load has compiled the plugin already.
func (p *Plugin) Warm(context.Context) error { return nil }

// Close releases the plugin's compiled code and runtime.
func (p *Plugin) Close(ctx context.Context) error { return p.compiled.Close(ctx) }

// instance is one fresh instance of the plugin with the per-call state its host function and
// logger find.
type instance struct {
	plugin *extism.Plugin
	mem    *runtime.MemoryCap
	stderr *runtime.StderrBuffer
}

// newInstance instantiates the plugin (and Extism's kernel) with capped memories, real clocks
// and randomness, a captured stderr, and no preopens, environment or arguments.
func (p *Plugin) newInstance(ctx context.Context, st *callState) (*instance, error) {
	inst := &instance{mem: runtime.NewMemoryCap(p.cfg.MemoryLimitBytes), stderr: runtime.NewStderrBuffer(p.cfg.StderrLimitBytes)}
	ictx, cancel := context.WithTimeout(ctx, p.cfg.InitTimeout)
	defer cancel()
	ictx = experimental.WithMemoryAllocator(ictx, inst.mem)
	mc := wazero.NewModuleConfig().
		WithStderr(inst.stderr).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader)
	pl, err := p.compiled.Instance(ictx, extism.PluginInstanceConfig{ModuleConfig: mc})
	if err != nil {
		switch {
		case inst.mem.Hit():
			return nil, fmt.Errorf("%w: %s while initialising", runtime.ErrMemoryCap, p.name)
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return nil, fmt.Errorf("%w while the plugin was starting; the call was stopped", runtime.ErrDeadline)
		case ctx.Err() != nil:
			return nil, runtime.ErrCancelled
		}
		return nil, fmt.Errorf("%w: %s failed to initialise: %v", runtime.ErrBadModule, p.name, err)
	}
	pl.SetLogger(st.log)
	inst.plugin = pl
	return inst, nil
}

// describe runs the plugin's describe once, with no host: pal_call is refused there.
func (p *Plugin) describe(ctx context.Context) (*abi.Manifest, error) {
	st := &callState{ctx: ctx}
	inst, err := p.newInstance(ctx, st)
	if err != nil {
		return nil, err
	}
	defer inst.plugin.Close(context.Background())
	dctx, cancel := context.WithTimeout(ctx, p.cfg.InitTimeout)
	defer cancel()
	dctx = context.WithValue(dctx, callStateKey{}, st)
	rc, out, err := inst.plugin.CallWithContext(dctx, ExportDescribe, nil)
	if err != nil || rc != 0 {
		return nil, fmt.Errorf("%w: %s: describe failed (return code %d): %v%s", runtime.ErrBadModule, p.name, rc, err, inst.stderr.Tail())
	}
	if len(out) > maxManifestBytes {
		return nil, fmt.Errorf("%w: %s: manifest of %d bytes is over 1 MiB", runtime.ErrBadModule, p.name, len(out))
	}
	man, err := abi.ParseManifest(out)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", runtime.ErrBadModule, p.name, err)
	}
	return man, nil
}

// Invoke runs one tool call in a fresh instance and closes it afterwards. Its errors wrap the
// same sentinels as runtime.Module.Invoke.
func (p *Plugin) Invoke(ctx context.Context, c runtime.Call) (_ *abi.Result, out runtime.Outcome, _ error) {
	start := time.Now()
	timeout := p.cfg.CallTimeout
	if c.Timeout > 0 {
		timeout = c.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var timeoutMS int64 // the time left, as the native runtime sends it (docs/abi.md, handle)
	if dl, ok := ctx.Deadline(); ok {
		timeoutMS = max(time.Until(dl).Milliseconds(), 1)
	}
	req, err := json.Marshal(abi.HandleRequest{ABI: abi.Version, Tool: c.Tool, CallID: c.CallID, Arguments: c.Arguments, TimeoutMS: timeoutMS})
	if err != nil {
		return nil, out, fmt.Errorf("%w: arguments are not JSON: %v", runtime.ErrBadResult, err)
	}
	st := &callState{ctx: ctx, host: c.Host}
	inst, err := p.newInstance(ctx, st)
	if err != nil {
		return nil, out, err
	}
	defer inst.plugin.Close(context.Background())
	defer func() {
		out.Duration = time.Since(start)
		out.Stderr = inst.stderr.String()
		out.LogDropped = st.logDropped
	}()
	cctx := context.WithValue(ctx, callStateKey{}, st)
	rc, raw, err := inst.plugin.CallWithContext(cctx, ExportHandle, req)
	if err != nil && rc != 0 && ctx.Err() == nil && !inst.mem.Hit() && inst.ownError(cctx, err) {
		// The plugin returned non-zero with an error set: its own failure, for the client,
		// under the output cap as any result.
		if msg := err.Error(); uint64(len(msg)) > uint64(p.cfg.OutputLimitBytes) {
			return nil, out, fmt.Errorf("%w: tool %s set an error of %d bytes; the cap is %d bytes", runtime.ErrOutputCap, c.Tool, len(msg), p.cfg.OutputLimitBytes)
		}
		return &abi.Result{IsError: true, Content: []abi.Content{{Type: "text", Text: strings.ToValidUTF8(err.Error(), string(utf8.RuneError))}}}, out, nil
	}
	if err != nil {
		return nil, out, runtime.CallError(ctx, err, inst.mem.Hit(), p.cfg.MemoryLimitBytes, timeout)
	}
	if rc != 0 {
		return nil, out, fmt.Errorf("%w: tool %s: handle returned %d without an error message", runtime.ErrBadResult, c.Tool, rc)
	}
	if uint64(len(raw)) > uint64(p.cfg.OutputLimitBytes) {
		return nil, out, fmt.Errorf("%w: tool %s returned %d bytes; the cap is %d bytes", runtime.ErrOutputCap, c.Tool, len(raw), p.cfg.OutputLimitBytes)
	}
	result, err := abi.ParseResult(raw)
	if err != nil {
		return nil, out, fmt.Errorf("%w: tool %s: %v", runtime.ErrBadResult, c.Tool, err)
	}
	return result, out, nil
}

// ownError tells the plugin's own error_set message, which go-sdk returns as a plain error
// after handle returned, from a wasm failure (a trap, a host function's panic such as a full
// variable store, a closed module): err is the plugin's when it is exactly the message the
// plugin set. Matching the text of wazero's errors instead would take a host function's
// panic, whose text names no trap, for the plugin's message.
func (inst *instance) ownError(ctx context.Context, err error) bool {
	msg := inst.plugin.GetErrorWithContext(ctx)
	return msg != "" && msg == err.Error()
}
